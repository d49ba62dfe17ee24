using ExBuy.Features.Balance;
using ExBuy.Features.Inventory;
using Shouldly;

namespace ExBuy.UnitTests.Deciders;

public sealed class StockDeciderTests
{
    private static Dictionary<long, StockLevel> Products(params (long Id, int Stock)[] products) =>
        products.ToDictionary(p => p.Id, p => new StockLevel(p.Id, p.Stock, Version: 1));

    [Fact]
    public void demand_is_summed_per_product_in_ascending_id_order() =>
        StockDecider.Demand([new StockLine(9, 1), new StockLine(2, 4), new StockLine(9, 2)])
            .ShouldBe([new StockLine(2, 4), new StockLine(9, 3)]);

    [Fact]
    public void every_line_available_leaves_each_product_its_remainder() =>
        StockDecider.Decide([new StockLine(1, 3), new StockLine(2, 5)], Products((1, 3), (2, 9)))
            .ShouldBeOfType<StockDecision.Take>().Remaining.ShouldBe(new Dictionary<long, int> { [1] = 0, [2] = 4 });

    [Fact]
    public void one_line_short_refuses_the_whole_demand() =>
        StockDecider.Decide([new StockLine(1, 1), new StockLine(2, 5)], Products((1, 3), (2, 4)))
            .ShouldBe(new StockDecision.Insufficient(2, 4, 5));

    [Fact]
    public void unknown_products_are_reported_before_any_shortage() =>
        StockDecider.Decide([new StockLine(1, 99), new StockLine(7, 1)], Products((1, 3)))
            .ShouldBeOfType<StockDecision.Missing>().ProductIds.ShouldBe([7L]);
}

public sealed class BalanceDeciderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void a_charge_is_appended_and_answers_the_balance_after_it()
    {
        var (charge, result) = BalanceDecider.Charge(new ChargeBalance(4, 2_500), userExists: true, new UserBalance { Balance = 1_000, Version = 2 }, Now);
        charge.ShouldBe(new BalanceCharged(4, 2_500, Now));
        result.ShouldBe(new ChargeResult.Charged(3_500));
    }

    [Fact]
    public void an_unknown_user_is_not_charged()
    {
        var (charge, result) = BalanceDecider.Charge(new ChargeBalance(4, 2_500), userExists: false, new UserBalance(), Now);
        charge.ShouldBeNull();
        result.ShouldBe(new ChargeResult.Refused(404, "User 4 does not exist."));
    }
}
