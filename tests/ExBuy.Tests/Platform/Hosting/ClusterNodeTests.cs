using Alba;
using ExBuy.Features.Rankings;
using ExBuy.Tests.Infrastructure;
using ExBuy.Infrastructure.Marten;
using Shouldly;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Platform.Hosting;

/// <summary>
/// Two API nodes configured as production runs them (projection daemon on the elected node, Wolverine balanced mode) on one
/// PostgreSQL schema of their own and the shared Redis: the daemon runs on exactly one of them, the sales ranking
/// counts the paid orders of both exactly once, and when the daemon's node goes the other takes over.
/// </summary>
public sealed class ClusterNodeTests(AppFixture app) : IntegrationContext(app)
{
    private const string Schema = "exbuy_cluster";

    private static bool RunsDaemon(IAlbaHost node) =>
        node.Services.GetRequiredService<ProjectionLeadership>().IsLeader;

    private static async Task<long> SoldQty(IAlbaHost node, long productId) =>
        (await node.GetJson("/products/top/realtime")).AsArray()
            .Where(t => t!["productId"]!.GetValue<long>() == productId)
            .Select(t => t!["soldQty"]!.GetValue<long>())
            .Single();

    [Fact]
    public async Task the_projection_daemon_runs_on_one_node_and_another_takes_over_when_it_goes()
    {
        await App.DropSchemaAsync(Schema);
        var a = await App.StartClusterNodeAsync(Schema, "node-a");
        var b = await App.StartClusterNodeAsync(Schema, "node-b");
        var running = new List<IAlbaHost> { a, b };
        try
        {
            var shop = await a.InitShop();
            var p5 = shop.ProductIds[4];
            var baseline = await SoldQty(b, p5);
            var nodes = new[] { a, b };
            for (var i = 0; i < 6; i++)
            {
                await nodes[i % 2].Charge(shop.UserIds[0] + i, 10_000);
                await nodes[i % 2].PostJson("/orders", OrderBody(shop.UserIds[0] + i, null, Items([p5])), 201);
            }

            await Eventually.WaitUntilAsync(async () => await SoldQty(a, p5) == baseline + 6, TimeSpan.FromSeconds(60), "both nodes' paid orders in the ranking");
            await Eventually.WaitUntilAsync(() => Task.FromResult(RunsDaemon(a) || RunsDaemon(b)), TimeSpan.FromSeconds(30), "a daemon leader");
            (RunsDaemon(a) ^ RunsDaemon(b)).ShouldBeTrue("exactly one node runs the projection daemon");
            var roles = new[] { (await a.GetJson("/api/health/ready"))["projection_daemon"]!.GetValue<string>(), (await b.GetJson("/api/health/ready"))["projection_daemon"]!.GetValue<string>() };
            roles.Order().ShouldBe(["leader", "standby"]);

            var (leader, other) = RunsDaemon(a) ? (a, b) : (b, a);
            running.Remove(leader);
            await leader.DisposeAsync(); // its advisory lock goes with its connection
            for (var i = 6; i < 9; i++)
            {
                await other.Charge(shop.UserIds[0] + i, 10_000);
                await other.PostJson("/orders", OrderBody(shop.UserIds[0] + i, null, Items([p5], quantity: 2)), 201);
            }

            var waited = await Eventually.WaitUntilAsync(async () => await SoldQty(other, p5) == baseline + 12, TimeSpan.FromSeconds(60), "the surviving node's daemon to count its orders");
            TimingLog.Note($"projection daemon take-over: the surviving node counted the new orders {waited.TotalMilliseconds:F0} ms after they were placed");
            RunsDaemon(other).ShouldBeTrue();
            var store = other.Services.GetRequiredService<Marten.IDocumentStore>();
            await store.CatchUpAsync(other.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), TimeSpan.FromSeconds(60), SalesRankingSubscription.ShardName);
            (await SoldQty(other, p5)).ShouldBe(baseline + 12);
            await other.ShouldPassAudit();
        }
        finally
        {
            foreach (var node in running)
            {
                await node.DisposeAsync();
            }

            await App.DropSchemaAsync(Schema);
        }
    }
}
