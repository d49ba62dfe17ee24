using Alba;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Platform.Hosting;

/// <summary>
/// Every API node runs the hold sweeper, the stock reconciler, the coupon gate reconciler and the coupon claim recovery. Run on two nodes at the
/// same moment, each repair happens once: a hold is given back by the release that moved it (the sweeper is idempotent
/// by construction), and each reconciler's pass is one node's at a time (a PostgreSQL advisory lock), its Redis
/// writes compare-and-set.
/// </summary>
public sealed class BackgroundPassesOnEveryNodeTests(AppFixture app) : IntegrationContext(app)
{
    private IDatabase Redis => Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

    /// <summary>Runs <paramref name="pass"/> on both nodes, all released at once, <paramref name="rounds"/> times each.</summary>
    private static async Task<List<T>> OnBothAtOnce<T>(IAlbaHost a, IAlbaHost b, int rounds, Func<IServiceProvider, Task<T>> pass)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = Enumerable.Range(0, rounds).SelectMany(_ => new[] { a, b }).Select(async node =>
        {
            await start.Task;
            return await pass(node.Services);
        }).ToList();
        start.SetResult();
        return [.. await Task.WhenAll(runs)];
    }

    [Fact]
    public async Task sweepers_on_two_nodes_at_once_give_each_abandoned_hold_back_once()
    {
        var productId = await Host.SetUpFlashSale(100);
        var redisStock = Host.Services.GetRequiredService<RedisStock>();
        for (var i = 0; i < 20; i++)
        {
            // What a request that died after the gate and the hold leaves: both taken, no sale.
            var quantity = 1 + (i % 3);
            (await redisStock.TryTakeAsync([new(productId, quantity)])).ShouldBe(0);
            (await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(productId, quantity)], Ct)).ShouldNotBeNull();
        }

        await Store.AgeHolds();
        (await Store.Reload(productId)).Stock.ShouldBe(100 - 39);
        await using var other = await App.StartHostWithAsync(("ExBuy:InstanceId", "second-node"));

        var released = await OnBothAtOnce(Host, other, 3, services => services.GetRequiredService<StockHoldSweeper>().SweepAsync(Ct));

        released.Sum().ShouldBe(20, $"each hold released once: {string.Join(",", released)}");
        (await Store.Reload(productId)).Stock.ShouldBe(100);
        (await redisStock.GetAsync(productId)).ShouldBe(100, "each hold's units given back to Redis once");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task stock_reconcilers_on_two_nodes_at_once_repair_a_key_once()
    {
        var productId = await Host.SetUpFlashSale(50);
        var redisStock = Host.Services.GetRequiredService<RedisStock>();
        await redisStock.GateWithoutRequest(productId, 7); // a request died between the gate and the database
        await using var other = await App.StartHostWithAsync(("ExBuy:InstanceId", "second-node"));

        var passes = new List<StockReconciliation>();
        for (var round = 0; round < 4 && await redisStock.GetAsync(productId) != 50; round++)
        {
            passes.AddRange(await OnBothAtOnce(Host, other, 1, services => services.GetRequiredService<StockReconciler>().ReconcileAsync(Ct)));
        }

        (await redisStock.GetAsync(productId)).ShouldBe(50);
        passes.Sum(p => p.Repaired + p.Restored).ShouldBe(1, "one repair, by one node");
        TimingLog.Note($"stock reconcilers on two nodes: {passes.Count} passes, {passes.Count(p => p.Skipped)} skipped (the other node held the pass)");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task coupon_gate_reconcilers_on_two_nodes_at_once_repair_a_gate_once()
    {
        var shop = await Host.InitShop("""{"userCount":3,"couponQuantity":5,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        (await ShopFlowScenarios.ClaimAndWait(Host, await Host.UserId("u1"), policy)).ShouldBe(201);
        await Redis.StringSetAsync(CouponGate.Remaining(policy), 0); // the counter lost a unit... or four
        await using var other = await App.StartHostWithAsync(("ExBuy:InstanceId", "second-node"));

        var changed = await OnBothAtOnce(Host, other, 2, services => services.GetRequiredService<CouponGateReconciler>().RunOnceAsync(Ct));

        changed.Sum(c => c ?? 0).ShouldBe(1, $"one repair, by one node ({string.Join(",", changed.Select(c => c?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "skipped"))})");
        (await Host.Services.GetRequiredService<CouponGate>().RemainingAsync(policy)).ShouldBe(4);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task coupon_claim_recovery_on_two_nodes_at_once_publishes_each_lost_claim_once()
    {
        var shop = await Host.InitShop("""{"userCount":12,"couponQuantity":12,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var users = new List<long>();
        for (var i = 1; i <= 12; i++)
        {
            users.Add(await Host.UserId($"u{i}"));
        }

        foreach (var user in users)
        {
            // Accepted and admitted a minute ago, their messages lost with a process.
            await Host.AcceptClaimWithoutIssuing(policy, user, age: TimeSpan.FromMinutes(1));
        }

        await using var other = await App.StartHostWithAsync(("ExBuy:InstanceId", "second-node"));

        var published = await OnBothAtOnce(Host, other, 2, services => services.GetRequiredService<CouponClaimRecovery>().RecoverOnceAsync(Ct));

        var all = published.SelectMany(p => p).ToList();
        all.Count.ShouldBe(12, $"each claim published once, by one node ({string.Join(" / ", published.Select(p => p.Count))})");
        all.Distinct().Count().ShouldBe(12);
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var user in users)
            {
                if ((await Host.Coupons(user)).Count != 1)
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(60), "every claim issued");
        (await Host.CouponCounter(policy)).ShouldBe((12, 12));
        await Host.ShouldPassAudit();
    }
}
