using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>
/// The enough-stock rule has a second form the platform forces: the Redis gate's Lua script (<see cref="RedisStock"/>),
/// which must check and take in one atomic step inside Redis. Over a table of cases, against the real Redis, the gate
/// decides as <see cref="StockDecider"/> does — taken, which line is short, which product has no stock — and leaves
/// what the decider says remains (nothing moved when it refuses).
/// </summary>
public sealed class StockRuleFormsTests(AppFixture app) : IntegrationContext(app)
{
    public static TheoryData<int?[], int[]> Cases() => new()
    {
        { [5], [5] },           // exactly enough
        { [5], [6] },           // one short
        { [0], [1] },           // none left
        { [5, 3], [5, 3] },     // every line exactly
        { [5, 3], [1, 4] },     // the second line short
        { [2, 9], [3, 1] },     // the first line short
        { [null, 3], [1, 1] },  // no stock known for the first
        { [4, null], [5, 1] },  // the first short before the second's missing key
        { [100, 100, 100], [1, 100, 99] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task the_lua_gate_decides_as_the_stock_decider(int?[] stock, int[] quantities)
    {
        var gate = Host.Services.GetRequiredService<RedisStock>();
        var db = Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var demand = quantities.Select((q, i) => new StockLine(i + 1, q)).ToList();
        for (var i = 0; i < stock.Length; i++)
        {
            if (stock[i] is { } units)
            {
                await db.StringSetAsync(RedisStock.Key(i + 1), units);
            }
        }

        var levels = stock.Select((s, i) => (s, i)).Where(x => x.s is not null).ToDictionary(x => (long)(x.i + 1), x => new StockLevel(x.i + 1, x.s!.Value, 1));
        var decision = StockDecider.Decide(demand, levels);

        var result = await gate.TryTakeAsync(demand);
        var after = await gate.GetManyAsync([.. demand.Select(l => l.ProductId)]);
        TestContext.Current.TestOutputHelper?.WriteLine($"stock [{string.Join(", ", stock)}], demand [{string.Join(", ", quantities)}]: gate {result}, decider {decision}");

        switch (decision)
        {
            case StockDecision.Take take:
                result.ShouldBe(0);
                after.ShouldBe([.. demand.Select(l => (int?)take.Remaining[l.ProductId])]);
                break;
            case StockDecision.Insufficient shortLine when result > 0:
                demand[result - 1].ProductId.ShouldBe(shortLine.ProductId);
                after.ShouldBe(stock);
                break;
            case StockDecision.Missing missing:
                // The decider names every product with no stock; the gate stops at the first line it cannot judge,
                // which is a missing key unless an earlier line was already short.
                result.ShouldNotBe(0);
                if (result < 0)
                {
                    missing.ProductIds.ShouldContain(demand[-result - 1].ProductId);
                }
                else
                {
                    stock[result - 1].ShouldNotBeNull();
                    stock[result - 1]!.Value.ShouldBeLessThan(demand[result - 1].Quantity);
                }

                after.ShouldBe(stock);
                break;
            default:
                throw new ShouldAssertException($"the gate answered {result} where the decider answered {decision}");
        }
    }
}
