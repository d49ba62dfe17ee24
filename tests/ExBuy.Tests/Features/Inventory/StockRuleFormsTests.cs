using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>
/// The enough-stock rule has a second form the platform forces: the Redis gate's Lua script (<see cref="RedisStock"/>),
/// which must check and take in one atomic step inside Redis. Over a table of cases, against the real Redis, the gate
/// decides as <see cref="StockDecider"/> does — taken, which line is short, which product has no stock — and leaves
/// what the decider says remains (nothing moved when it refuses). The rule's own form, the check constraint of
/// <c>product_stock</c> behind the one take statement (<see cref="InventorySql.TakeStock"/>), is held to the decider the
/// same way, through the atomic hold take and the row strategy's take, against the real PostgreSQL.
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

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task the_check_constraint_decides_as_the_stock_decider(int?[] stock, int[] quantities)
    {
        const long firstId = 7_000_001;
        var demand = quantities.Select((q, i) => new StockLine(firstId + i, q)).ToList();
        var rows = stock.Select((s, i) => (s, i)).Where(x => x.s is not null).Select(x => (firstId + x.i, x.s!.Value)).ToList();
        await ProductStock.InsertAsync(Store, rows, Ct);
        var ids = demand.Select(l => l.ProductId).ToList();
        var before = await ProductStock.ReadAsync(Store, ids, Ct);
        var decision = StockDecider.Decide(demand, before);

        // The row strategy's take, on a transaction rolled back afterwards (the decider runs before it, so a product
        // without a row never reaches it: only the stock's verdict is compared).
        Dictionary<long, int>? rowTake = null;
        if (decision is not StockDecision.Missing)
        {
            await using var session = Store.LightweightSession();
            await session.BeginTransactionAsync(Ct);
            rowTake = await ProductStock.TryTakeAsync(session, demand, Ct);
        }

        var atomicTake = await StockHolds.TakeAsync(Store, Guid.NewGuid(), demand, Ct);
        var after = await ProductStock.ReadAsync(Store, ids, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"stock [{string.Join(", ", stock)}], demand [{string.Join(", ", quantities)}]: decider {decision}, row {(rowTake is null ? "refused" : "taken")}, atomic {(atomicTake is null ? "refused" : "taken")}");

        if (decision is StockDecision.Take take)
        {
            rowTake.ShouldNotBeNull();
            rowTake.OrderBy(r => r.Key).ShouldBe(take.Remaining.OrderBy(r => r.Key));
            atomicTake.ShouldNotBeNull();
            atomicTake.OrderBy(r => r.Key).ShouldBe(take.Remaining.OrderBy(r => r.Key));
            after.Values.Select(l => (l.ProductId, l.Stock)).OrderBy(l => l.ProductId).ShouldBe(take.Remaining.Select(r => (r.Key, r.Value)).OrderBy(r => r.Key));
        }
        else
        {
            if (decision is StockDecision.Insufficient)
            {
                rowTake.ShouldBeNull();
            }

            atomicTake.ShouldBeNull();
            after.Values.Select(l => (l.ProductId, l.Stock)).OrderBy(l => l.ProductId).ShouldBe(before.Values.Select(l => (l.ProductId, l.Stock)).OrderBy(l => l.ProductId));
        }
    }
}
