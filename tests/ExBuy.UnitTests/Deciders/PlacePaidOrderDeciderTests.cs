using ExBuy.Features.Balance;
using ExBuy.Features.Catalog;
using ExBuy.Features.Orders;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;
using Shouldly;

namespace ExBuy.UnitTests.Deciders;

/// <summary>The paid-order rules, decided without a host, a database or a clock.</summary>
public sealed class PlacePaidOrderDeciderTests
{
    private const long UserId = 7;
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static Product Product(long id, decimal price) =>
        new() { Id = id, Name = $"p{id}", Description = "d", Price = price, Category = "books" };

    private static Coupon Coupon(long id = 3, long owner = UserId, long discount = 2_000, long? usedBy = null, DateTimeOffset? expires = null) =>
        new() { Id = id, PolicyId = 1, UserId = owner, Discount = discount, UsedByOrderId = usedBy, ExpiresAt = expires ?? Now.AddDays(1), Version = 4 };

    private static PlacePaidOrder Command(long? couponId = null, string? key = null, params StockLine[] lines) =>
        new(UserId, couponId, lines.Length == 0 ? [new StockLine(1, 1)] : lines, key, null);

    private static PaidOrderState State(
        long balance = 10_000, Coupon? coupon = null, bool userExists = true, IdempotencyRecord? replay = null, params Product[] products) =>
        new(userExists, replay, new UserBalance { Id = BalanceStreams.Key(UserId), UserId = UserId, Balance = balance, Version = 9 }, coupon,
            (products.Length == 0 ? [Product(1, 2_000)] : products).ToDictionary(p => p.Id));

    [Fact]
    public void an_unknown_user_is_refused_before_anything_else()
    {
        var decision = PlacePaidOrderDecider.Decide(Command(couponId: 99), State(userExists: false, balance: 0), Now);
        decision.ShouldBe(new PaidOrderDecision.Refuse(404, $"User {UserId} does not exist."));
    }

    [Fact]
    public void a_known_idempotency_key_replays_the_first_answer_whatever_the_balance()
    {
        var replay = new IdempotencyRecord { Id = "7:k", OrderId = 42, TotalAmount = 8_000, At = Now };
        PlacePaidOrderDecider.Decide(Command(key: "k"), State(balance: 0, replay: replay), Now)
            .ShouldBe(new PaidOrderDecision.Replay(42, 8_000));
    }

    [Fact]
    public void enough_balance_places_the_order_at_the_read_balance_version()
    {
        var place = PlacePaidOrderDecider.Decide(Command(lines: [new StockLine(1, 2), new StockLine(2, 1), new StockLine(1, 1)]),
            State(balance: 7_000, products: [Product(1, 2_000), Product(2, 1_000)]), Now).ShouldBeOfType<PaidOrderDecision.Place>();

        place.Total.ShouldBe(7_000);
        place.Discount.ShouldBe(0);
        place.BalanceVersion.ShouldBe(9);
        place.Coupon.ShouldBeNull();
        // The demand is summed per product and sorted: the order every strategy locks in.
        place.Demand.ShouldBe([new StockLine(1, 3), new StockLine(2, 1)]);
    }

    [Fact]
    public void one_won_short_is_refused_with_what_is_available_and_needed()
    {
        PlacePaidOrderDecider.Decide(Command(lines: new StockLine(1, 5)), State(balance: 9_999), Now)
            .ShouldBe(new PaidOrderDecision.Refuse(400, "Insufficient balance: 9999 available, 10000 needed."));
    }

    [Fact]
    public void a_coupon_takes_its_discount_off_the_total()
    {
        var coupon = Coupon(discount: 2_000);
        var place = PlacePaidOrderDecider.Decide(Command(couponId: coupon.Id, lines: new StockLine(1, 5)), State(balance: 8_000, coupon: coupon), Now)
            .ShouldBeOfType<PaidOrderDecision.Place>();
        place.Total.ShouldBe(8_000);
        place.Discount.ShouldBe(2_000);
        place.Coupon.ShouldBeSameAs(coupon);
    }

    [Fact]
    public void a_coupon_worth_more_than_the_order_makes_it_free_and_records_the_items_as_discount()
    {
        var coupon = Coupon(discount: 5_000);
        var place = PlacePaidOrderDecider.Decide(Command(couponId: coupon.Id), State(balance: 0, coupon: coupon), Now)
            .ShouldBeOfType<PaidOrderDecision.Place>();
        place.Total.ShouldBe(0);
        place.Discount.ShouldBe(2_000);
    }

    public static TheoryData<string, int, string> CouponProblems => new()
    {
        { "missing", 400, "This coupon does not exist." },
        { "foreign", 400, "This coupon belongs to another user." },
        { "used", 409, "This coupon has already been used." },
        { "expired", 400, "This coupon has expired." },
        { "expiring-now", 400, "This coupon has expired." },
    };

    [Theory]
    [MemberData(nameof(CouponProblems))]
    public void an_unusable_coupon_is_refused_even_with_ample_balance(string kind, int status, string message)
    {
        var coupon = kind switch
        {
            "missing" => null,
            "foreign" => Coupon(owner: UserId + 1),
            "used" => Coupon(usedBy: 5),
            "expired" => Coupon(expires: Now.AddSeconds(-1)),
            _ => Coupon(expires: Now),
        };
        PlacePaidOrderDecider.Decide(Command(couponId: 3), State(balance: 1_000_000, coupon: coupon), Now)
            .ShouldBe(new PaidOrderDecision.Refuse(status, message));
    }

    [Fact]
    public void the_coupon_is_checked_before_the_balance()
    {
        PlacePaidOrderDecider.Decide(Command(couponId: 3), State(balance: 0, coupon: Coupon(usedBy: 1)), Now)
            .ShouldBe(new PaidOrderDecision.Refuse(409, "This coupon has already been used."));
    }

    [Fact]
    public void unknown_products_are_named_once_each()
    {
        PlacePaidOrderDecider.Decide(Command(lines: [new StockLine(1, 1), new StockLine(8, 1), new StockLine(8, 2), new StockLine(9, 1)]), State(), Now)
            .ShouldBe(new PaidOrderDecision.Refuse(404, "Product 8, 9 not found."));
    }
}
