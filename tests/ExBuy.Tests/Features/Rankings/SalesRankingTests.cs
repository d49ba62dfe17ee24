using Alba;
using ExBuy.Features.Rankings;
using ExBuy.Tests.Infrastructure;
using Shouldly;
using StackExchange.Redis;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.Rankings;

/// <summary>
/// The sales ranking follows the paid orders' events through the async daemon (no in-memory queue a crash could
/// empty), counts each once however often a page is delivered, and <c>GET /products/top</c> is one copy for every node.
/// </summary>
public sealed class SalesRankingTests(AppFixture app) : IntegrationContext(app)
{
    private IDatabase Redis => Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

    private static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    private static async Task<Dictionary<long, long>> Realtime(IAlbaHost host) =>
        (await host.GetJson("/products/top/realtime")).AsArray().ToDictionary(t => t!["productId"]!.GetValue<long>(), t => t!["soldQty"]!.GetValue<long>());

    [Fact]
    public async Task a_page_delivered_twice_or_overlapping_is_counted_once()
    {
        RankedSale Sale(long sequence, long product, int quantity) => new(sequence, Today, [new SoldItem(product, quantity)]);

        (await SalesRanking.ApplyAsync(Redis, Today, [Sale(1, 7, 2), Sale(2, 8, 1), Sale(3, 7, 1)])).ShouldBe(3);
        (await SalesRanking.ApplyAsync(Redis, Today, [Sale(1, 7, 2), Sale(2, 8, 1), Sale(3, 7, 1)])).ShouldBe(3); // redelivered
        (await SalesRanking.ApplyAsync(Redis, Today, [Sale(3, 7, 1), Sale(4, 8, 5), Sale(5, 9, 1)])).ShouldBe(5); // overlaps by one

        var day = SalesRanking.DayKey(Today);
        (await Redis.SortedSetScoreAsync(day, 7)).ShouldBe(3);
        (await Redis.SortedSetScoreAsync(day, 8)).ShouldBe(6);
        (await Redis.SortedSetScoreAsync(day, 9)).ShouldBe(1);
        (await Redis.KeyTimeToLiveAsync(day)).ShouldNotBeNull().ShouldBeGreaterThan(TimeSpan.FromDays(SalesRanking.Days));
    }

    [Fact]
    public async Task sales_older_than_the_ranking_window_are_not_counted()
    {
        RankedSale old = new(1, Today.AddDays(-SalesRanking.Days - 1), [new SoldItem(7, 4)]);
        RankedSale recent = new(2, Today.AddDays(-SalesRanking.Days), [new SoldItem(7, 1)]);

        await SalesRanking.ApplyAsync(Redis, Today, [old, recent]);

        (await Redis.KeyExistsAsync(SalesRanking.DayKey(old.Day))).ShouldBeFalse();
        (await Redis.SortedSetScoreAsync(SalesRanking.DayKey(recent.Day), 7)).ShouldBe(1);
    }

    [Fact]
    public async Task paid_orders_reach_the_realtime_ranking_once_and_plain_orders_do_not()
    {
        var shop = await Host.InitShop();
        var before = await Realtime(Host);
        var (p1, p5) = (shop.ProductIds[0], shop.ProductIds[4]);
        foreach (var user in shop.UserIds.Take(2))
        {
            await Host.Charge(user, 10_000);
        }

        await Host.PostJson("/orders", OrderBody(shop.UserIds[0], null, Items([p1, p5])), 201);
        await Host.PostJson("/orders", OrderBody(shop.UserIds[1], null, Items([p5], quantity: 3)), 201);
        await Host.PlaceOrder(shop.UserIds[0], $$"""[{"product_id":{{p1}},"quantity":50}]"""); // not paid: not ranked

        var waited = await Eventually.WaitUntilAsync(async () => (await Realtime(Host))[p5] == before[p5] + 4, TimeSpan.FromSeconds(60), "the paid orders in the ranking");
        TimingLog.Note($"ranking caught up with two paid orders after {waited.TotalMilliseconds:F0} ms");
        await Store.CatchUpAsync(Host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), shard: SalesRankingSubscription.ShardName);

        var after = await Realtime(Host);
        after[p1].ShouldBe(before[p1] + 1);
        after[p5].ShouldBe(before[p5] + 4);
    }

    /// <summary>What both top-products routes say of one product, once the ranking and the sales projection caught up.</summary>
    private async Task<(long Realtime, long Cached, long Stats)> Sold(long productId)
    {
        var db = Host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>();
        await Store.CatchUpAsync(db, shard: SalesRankingSubscription.ShardName);
        await Store.CatchUpAsync(db);
        await Redis.KeyDeleteAsync(SalesRanking.CachedTopKey); // what its expiry does: /products/top reads the ranking again
        var cached = (await Host.GetJson("/products/top")).AsArray()
            .Where(t => t!["productId"]!.GetValue<long>() == productId).Select(t => t!["soldQty"]!.GetValue<long>()).SingleOrDefault();
        var stats = (await Host.GetJson("/api/stats/top-products?limit=100")).AsArray()
            .Where(t => t!["product_id"]!.GetValue<long>() == productId).Select(t => t!["total_quantity"]!.GetValue<long>()).SingleOrDefault();
        return ((await Realtime(Host)).GetValueOrDefault(productId), cached, stats);
    }

    private async Task<long> PaidOrder(long user, long productId, int quantity) =>
        (await Host.PostJson("/orders", OrderBody(user, null, Items([productId], quantity)), 201))["orderId"]!.GetValue<long>();

    /// <summary>
    /// A cancellation refunds in full: were it left in the ranking, anyone could push any product to the top of
    /// <c>/products/top</c> for free. Both top-products routes count live orders only.
    /// </summary>
    [Fact]
    public async Task a_cancelled_paid_order_leaves_both_top_product_routes()
    {
        var shop = await Host.InitShop();
        var p5 = shop.ProductIds[4];
        var (u1, u2) = (shop.UserIds[0], shop.UserIds[0] + 1);
        await Host.Charge(u1, 10_000_000);
        await Host.Charge(u2, 10_000);
        var (seeded, _, _) = await Sold(p5);

        var free = await PaidOrder(u1, p5, 2_000); // enough to top the ranking, then cancelled: refunded in full
        await PaidOrder(u2, p5, 3);
        await PaidOrder(u1, p5, 1);
        await Host.PatchJson($"/api/orders/{free}", """{"status":"cancelled"}""", 200);
        (await Host.Balance(u1)).ShouldBe(10_000_000 - 2_000);

        (await Sold(p5)).ShouldBe((seeded + 4, seeded + 4, 4));
        (await Realtime(Host)).Keys.First().ShouldNotBe(p5, "a refunded order does not buy the top place");
        await Host.ShouldPassAudit();
    }

    /// <summary>
    /// A cancelled order set live again (<see cref="ExBuy.Features.Orders.OrderRevived"/>) counts again, in the day it
    /// was placed. The API refuses to revive a cancelled paid order (its money went back), so the revival is written as
    /// the status change writes one, behind the API's back: the ranking follows the events whoever wrote them.
    /// </summary>
    [Fact]
    public async Task a_revived_paid_order_comes_back_to_the_ranking()
    {
        var shop = await Host.InitShop();
        var p4 = shop.ProductIds[3];
        var user = shop.UserIds[0];
        await Host.Charge(user, 100_000);
        var (seeded, _, _) = await Sold(p4);
        var orderId = await PaidOrder(user, p4, 5);
        await Host.PatchJson($"/api/orders/{orderId}", """{"status":"cancelled"}""", 200);
        (await Sold(p4)).ShouldBe((seeded, seeded, 0));

        await using (var session = Store.LightweightSession())
        {
            var order = (await session.LoadAsync<ExBuy.Features.Orders.Order>(orderId, Ct)).ShouldNotBeNull();
            var items = order.Items.Select(l => new ExBuy.Features.Orders.OrderedItem(l.ProductId, l.ProductName, l.Quantity, l.UnitPrice)).ToList();
            session.Events.Append(ExBuy.Features.Orders.OrderStreams.Key(orderId),
                new ExBuy.Features.Orders.OrderRevived(orderId, "pending", items, TookStock: false, "none", DateTimeOffset.UtcNow));
            order.Status = "pending";
            session.UpdateRevision(order, order.Version + 1);
            await session.SaveChangesAsync(Ct);
        }

        (await Sold(p4)).ShouldBe((seeded + 5, seeded + 5, 5));
    }

    /// <summary>
    /// The ranking is derived data: replayed from the event log (the subscription rewound to the start, Redis's ranking
    /// gone) or rebuilt from PostgreSQL when Redis lost it (the next page finds no applied mark), it is what it was —
    /// the scenario's seeded history, the paid orders, less the cancelled ones.
    /// </summary>
    [Fact]
    public async Task replaying_or_rebuilding_the_ranking_gives_the_same_ranking()
    {
        var shop = await Host.InitShop();
        var user = shop.UserIds[0];
        await Host.Charge(user, 1_000_000);
        for (var i = 0; i < 5; i++)
        {
            var orderId = await PaidOrder(user, shop.ProductIds[i], 10 * (i + 1));
            if (i % 2 == 0)
            {
                await Host.PatchJson($"/api/orders/{orderId}", """{"status":"cancelled"}""", 200);
            }
        }

        await Sold(shop.ProductIds[0]);
        var before = await Realtime(Host);
        before[shop.ProductIds[1]].ShouldBe(1_200 + 20);
        before[shop.ProductIds[2]].ShouldBe(900);

        // Replayed: every ranking key gone, the subscription rewound to the first event.
        await DeleteRankingAsync();
        var coordinator = Host.Services.GetRequiredService<Marten.Events.Daemon.Coordination.IProjectionCoordinator>();
        await coordinator.DaemonForMainDatabase().RewindSubscriptionAsync(SalesRankingSubscription.ShardName, Ct);
        await Eventually.WaitUntilAsync(async () => (await Realtime(Host)).Count == before.Count, TimeSpan.FromSeconds(60), "the replayed ranking");
        await Sold(shop.ProductIds[0]);
        (await Realtime(Host)).ShouldBe(before);
        await Host.ShouldPassAudit();

        // Rebuilt: Redis lost the ranking (a restart without its data); the next paid order finds no applied mark.
        await DeleteRankingAsync();
        await PaidOrder(user, shop.ProductIds[4], 7);
        await Sold(shop.ProductIds[4]);
        var after = await Realtime(Host);
        after[shop.ProductIds[4]].ShouldBe(before[shop.ProductIds[4]] + 7);
        after.Where(e => e.Key != shop.ProductIds[4]).ShouldBe(before.Where(e => e.Key != shop.ProductIds[4]));
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_ranking_redis_lost_is_restored_without_waiting_for_the_next_sale()
    {
        // Found by a fresh-clone run: after Redis lost its data the ranking stayed empty (and the audit failed) until
        // some paid order gave the subscription a new page; with no sale it would stay lost for good.
        var shop = await Host.InitShop();
        var user = shop.UserIds[0];
        await Host.Charge(user, 100_000);
        await PaidOrder(user, shop.ProductIds[2], 4);
        await Sold(shop.ProductIds[2]);
        var before = await Realtime(Host);

        await DeleteRankingAsync();

        var waited = await Eventually.WaitUntilAsync(
            async () => await Redis.KeyExistsAsync(SalesRanking.AppliedKey), TimeSpan.FromSeconds(60), "the repair pass restores the ranking");
        TimingLog.Note($"lost ranking restored after {waited.TotalMilliseconds:F0} ms");
        (await Realtime(Host)).ShouldBe(before);
        await Host.ShouldPassAudit();
    }

    private async Task DeleteRankingAsync()
    {
        var server = Host.Services.GetRequiredService<IConnectionMultiplexer>().GetServers()[0];
        await foreach (var key in server.KeysAsync(Redis.Database, "exbuy:rank:*"))
        {
            await Redis.KeyDeleteAsync(key);
        }
    }

    [Fact]
    public async Task the_cached_top_products_are_the_same_copy_on_every_node()
    {
        var shop = await Host.InitShop();
        await using var other = await App.StartHostWithAsync(("ExBuy:InstanceId", "other-node"));
        var first = await Host.GetText("/products/top");

        // The ranking changes (p5 becomes the best seller); the cached copy stays, on both nodes, until it expires.
        var ranking = Host.Services.GetRequiredService<SalesRanking>();
        await ranking.RecordAsync(Today, [new SoldItem(shop.ProductIds[4], 10_000)]);
        (await Realtime(Host)).Keys.First().ShouldBe(shop.ProductIds[4]);
        (await other.GetText("/products/top")).ShouldBe(first);
        (await Host.GetText("/products/top")).ShouldBe(first);
        (await Redis.KeyTimeToLiveAsync(SalesRanking.CachedTopKey)).ShouldNotBeNull().ShouldBeLessThanOrEqualTo(ExBuy.Features.Rankings.TopRanked.TopCachedEndpoint.Freshness);

        await Redis.KeyDeleteAsync(SalesRanking.CachedTopKey); // what its expiry does
        var fresh = await other.GetText("/products/top");
        fresh.ShouldNotBe(first);
        HttpScenarios.Parse(fresh)[0]!["productId"]!.GetValue<long>().ShouldBe(shop.ProductIds[4]);
        (await Host.GetText("/products/top")).ShouldBe(fresh);
    }
}
