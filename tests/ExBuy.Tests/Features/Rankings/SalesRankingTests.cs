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
        (await Redis.KeyTimeToLiveAsync(SalesRanking.CachedTopKey)).ShouldNotBeNull().ShouldBeLessThanOrEqualTo(TopCachedEndpoint.Freshness);

        await Redis.KeyDeleteAsync(SalesRanking.CachedTopKey); // what its expiry does
        var fresh = await other.GetText("/products/top");
        fresh.ShouldNotBe(first);
        HttpScenarios.Parse(fresh)[0]!["productId"]!.GetValue<long>().ShouldBe(shop.ProductIds[4]);
        (await Host.GetText("/products/top")).ShouldBe(fresh);
    }
}
