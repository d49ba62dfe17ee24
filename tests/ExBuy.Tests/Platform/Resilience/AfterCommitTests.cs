using System.Net;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Observability;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Platform.Resilience;

/// <summary>
/// Once PostgreSQL committed, the answer is the commit's outcome: Redis refusing writes right after the commit (here
/// the real test Redis, <c>CLIENT PAUSE … WRITE</c>, started while the request waits on a stock row the test holds, so
/// that it lands between the request's Redis work before the commit and its Redis work after) must not turn the write
/// into "503, retry" — the client that follows that advice writes twice. Found with
/// <c>redis-cli CLIENT PAUSE 7000 WRITE</c> on <c>lock_type=row</c>: 503 after 5.4 s, stock down by one.
/// </summary>
public sealed class AfterCommitTests(AppFixture app) : IntegrationContext(app)
{
    /// <summary>Longer than any wait of the API's own for Redis (the multiplexer's 5 s command timeout).</summary>
    private const int PauseMs = 8_000;

    private NpgsqlDataSource Db => Host.Services.GetRequiredService<NpgsqlDataSource>();

    private RedisStock RedisStock => Host.Services.GetRequiredService<RedisStock>();

    public static TheoryData<string> MirroringStrategies => ["row", "optimistic", "pessimistic", "redlock", "none"];

    [Theory]
    [MemberData(nameof(MirroringStrategies))]
    public async Task a_reservation_that_committed_is_answered_as_committed_when_redis_stalls_after_the_commit(string lockType)
    {
        var product = await Store.AddProduct(stock: 10);
        await RedisStock.InitializeAsync(product.Id, 10, overwrite: true);
        var late = ExBuyMetrics.AfterCommit.WithLabels("stock_mirror", "late").Value;

        var answer = await WhileRedisRefusesWritesAfterTheCommit(product.Id, () => Send(HttpMethod.Post, $"/api/inventory/reserve?lock_type={lockType}", $$"""{"product_id":{{product.Id}},"quantity":1}"""));

        answer.Status.ShouldBe(HttpStatusCode.OK, answer.Body);
        (await ProductStock.ReadAsync(Store, [product.Id], Ct))[product.Id].Stock.ShouldBe(9);
        ExBuyMetrics.AfterCommit.WithLabels("stock_mirror", "late").Value.ShouldBeGreaterThan(late, "the mirror that Redis held back is counted");
        await Eventually.WaitUntilAsync(async () => await RedisStock.GetAsync(product.Id) == 9, TimeSpan.FromSeconds(30), "the held-back mirror lands once Redis takes writes again");
    }

    [Fact]
    public async Task a_cancellation_that_committed_is_answered_as_committed_when_redis_stalls_after_the_commit()
    {
        var product = await Store.AddProduct(stock: 10);
        var order = await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":2}]""");
        await RedisStock.InitializeAsync(product.Id, 8, overwrite: true);
        var late = ExBuyMetrics.AfterCommit.WithLabels("stock_return_mirror", "late").Value;

        var answer = await WhileRedisRefusesWritesAfterTheCommit(product.Id, () => Send(HttpMethod.Patch, $"/api/orders/{order["id"]}", """{"status":"cancelled"}"""));

        answer.Status.ShouldBe(HttpStatusCode.OK, answer.Body);
        (await ProductStock.ReadAsync(Store, [product.Id], Ct))[product.Id].Stock.ShouldBe(10, "the cancellation returned the stock");
        ExBuyMetrics.AfterCommit.WithLabels("stock_return_mirror", "late").Value.ShouldBeGreaterThan(late);
        await Eventually.WaitUntilAsync(async () => await RedisStock.GetAsync(product.Id) == 10, TimeSpan.FromSeconds(30), "the held-back return lands once Redis takes writes again");
    }

    [Fact]
    public async Task a_paid_order_that_committed_is_placed_when_redis_stalls_after_the_commit()
    {
        var shop = await Host.InitShop("""{"userCount":1,"productCount":1,"policyCount":1,"couponQuantity":1}""");
        var (user, product) = (shop.UserIds[0], shop.ProductIds[0]);
        await Host.Charge(user, 100_000);
        var stockBefore = (await ProductStock.ReadAsync(Store, [product], Ct))[product].Stock;

        var answer = await WhileRedisRefusesWritesAfterTheCommit(product, () => Send(HttpMethod.Post, "/orders", ShopFlowScenarios.OrderBody(user, null, ShopFlowScenarios.Items([product]))));

        answer.Status.ShouldBe(HttpStatusCode.Created, answer.Body);
        (await ProductStock.ReadAsync(Store, [product], Ct))[product].Stock.ShouldBe(stockBefore - 1);
        (await Host.Balance(user)).ShouldBeLessThan(100_000m);
    }

    [Fact]
    public async Task a_write_refused_because_redis_refuses_writes_before_the_commit_changes_nothing()
    {
        // The other side of the rule: atomic's gate is before the commit, so a stalled Redis there is an honest 503.
        var product = await Store.AddProduct(stock: 10);
        await RedisStock.InitializeAsync(product.Id, 10, overwrite: true);
        await using var redis = await AdminRedisAsync();
        await PauseWritesAsync(redis, 6_000);
        try
        {
            var answer = await Send(HttpMethod.Post, "/api/inventory/reserve?lock_type=atomic", $$"""{"product_id":{{product.Id}},"quantity":1}""");

            answer.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, answer.Body);
            answer.Body.ShouldContain("nothing was applied");
        }
        finally
        {
            await UnpauseAsync(redis);
        }

        (await ProductStock.ReadAsync(Store, [product.Id], Ct))[product.Id].Stock.ShouldBe(10);
    }

    /// <summary>
    /// Holds the product's stock row, sends the request, waits until it waits on that row (its Redis work before the
    /// commit — a lock, a gate — is done by then), makes Redis refuse writes, lets the row go, and returns the answer.
    /// </summary>
    private async Task<Answer> WhileRedisRefusesWritesAfterTheCommit(long productId, Func<Task<Answer>> send)
    {
        // A connection of the test's own: on the API's, UNPAUSE would queue behind the command Redis holds back.
        await using var redis = await AdminRedisAsync();
        await using var row = await HeldRow.LockAsync(Db, ProductStock.Table(Store), "product_id", productId, Ct);
        var sending = send();
        try
        {
            await Eventually.WaitUntilAsync(async () => sending.IsCompleted || await LockWaitersAsync() > 0, TimeSpan.FromSeconds(60), "the request waits on the held stock row");
            sending.IsCompleted.ShouldBeFalse("the request waited on the stock row");
            await PauseWritesAsync(redis, PauseMs);
            await row.ReleaseAsync();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var answer = await sending;
            TestContext.Current.TestOutputHelper?.WriteLine($"answered {(int)answer.Status} {watch.ElapsedMilliseconds} ms after the row was released, Redis refusing writes");
            return answer;
        }
        finally
        {
            await UnpauseAsync(redis);
        }
    }

    private async Task<long> LockWaitersAsync()
    {
        await using var command = Db.CreateCommand("select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static async Task<ConnectionMultiplexer> AdminRedisAsync() =>
        await ConnectionMultiplexer.ConnectAsync(Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? AppFixture.DefaultRedis);

    private static async Task PauseWritesAsync(ConnectionMultiplexer redis, int ms) =>
        await Task.WhenAll(redis.GetEndPoints().Select(e => redis.GetServer(e).ExecuteAsync("CLIENT", "PAUSE", ms.ToString(System.Globalization.CultureInfo.InvariantCulture), "WRITE")));

    private static async Task UnpauseAsync(ConnectionMultiplexer redis) =>
        await Task.WhenAll(redis.GetEndPoints().Select(e => redis.GetServer(e).ExecuteAsync("CLIENT", "UNPAUSE")));

    private sealed record Answer(HttpStatusCode Status, string Body);

    private async Task<Answer> Send(HttpMethod method, string url, string json)
    {
        var client = Host.Server.CreateClient();
        using var request = new HttpRequestMessage(method, url) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, Ct);
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }
}
