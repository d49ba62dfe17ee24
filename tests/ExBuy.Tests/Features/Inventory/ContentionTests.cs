using System.Text.Json.Nodes;
using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>
/// Hundreds of real concurrent requests per case (perf/k6/flash-sale.js's v1_basic and v1_stress). The assertions are the
/// invariants: exactly as many successes as units, nothing oversold, the audit clean, Redis in agreement.
/// </summary>
public sealed class ContentionTests(AppFixture app) : IntegrationContext(app)
{
    private async Task<(List<TimedResponse> Responses, JsonNode Stock)> Rush(long productId, int buyers, string lockType)
    {
        var responses = await Host.FireAsync(buyers, i => (HttpMethod.Post, $"/api/flash-sales/{productId}/purchase?lock_type={lockType}", $$"""{"user_id":{{i + 1}}}"""));
        TimingLog.Record($"flash sale {buyers}->{100} {lockType}", responses, ConcurrentRequests.LastWallClock);
        return (responses, await Host.GetJson($"/api/flash-sales/{productId}/stock"));
    }

    [Theory]
    [MemberData(nameof(LockTypeData.Safe), MemberType = typeof(LockTypeData))]
    public async Task one_hundred_buyers_for_one_hundred_units_all_succeed(string lockType)
    {
        var productId = await Host.SetUpFlashSale(100);

        var (responses, stock) = await Rush(productId, 100, lockType);

        responses.Count(r => r.Status == 201).ShouldBe(100, string.Join("\n", responses.Where(r => r.Status != 201).Take(3).Select(r => r.Body)));
        stock["db_stock"]!.GetValue<int>().ShouldBe(0);
        stock["redis_stock"]!.GetValue<int>().ShouldBe(0);
        stock["sold"]!.GetValue<long>().ShouldBe(100);
        stock["consistent"]!.GetValue<bool>().ShouldBeTrue();
        await Host.ShouldPassAudit();
    }

    [Theory]
    [MemberData(nameof(LockTypeData.Safe), MemberType = typeof(LockTypeData))]
    public async Task three_hundred_buyers_for_one_hundred_units_sell_exactly_one_hundred(string lockType)
    {
        var productId = await Host.SetUpFlashSale(100);

        var (responses, stock) = await Rush(productId, 300, lockType);

        responses.Count(r => r.Status == 201).ShouldBe(100);
        responses.Where(r => r.Status != 201).ShouldAllBe(r => r.Status == 409);
        responses.Where(r => r.Status == 201).Select(r => HttpScenarios.Parse(r.Body)["remaining_stock"]!.GetValue<int>()).Distinct().Count().ShouldBe(100);
        stock["db_stock"]!.GetValue<int>().ShouldBe(0);
        stock["redis_stock"]!.GetValue<int>().ShouldBe(0);
        stock["oversold"]!.GetValue<long>().ShouldBe(0);
        stock["consistent"]!.GetValue<bool>().ShouldBeTrue();
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task lock_type_none_oversells_which_is_why_it_exists()
    {
        var productId = await Host.SetUpFlashSale(100);

        var (responses, stock) = await Rush(productId, 300, "none");

        // Lost updates: buyers read the same stock and all write "stock - 1".
        responses.Count(r => r.Status == 201).ShouldBeGreaterThan(100);
        stock["oversold"]!.GetValue<long>().ShouldBeGreaterThan(0);
        stock["consistent"]!.GetValue<bool>().ShouldBeFalse();
        var audit = await Host.Audit();
        audit.Ok.ShouldBeFalse();
        audit.Violations.ShouldContain(v => v.Invariant == "stock_matches_ledger" && v.Subject == $"product {productId}");
    }

    [Theory]
    [MemberData(nameof(LockTypeData.Safe), MemberType = typeof(LockTypeData))]
    public async Task orders_naming_shared_products_in_opposite_orders_never_deadlock(string lockType)
    {
        var a = await Store.AddProduct(name: "A", stock: 1_000);
        var b = await Store.AddProduct(name: "B", stock: 1_000);
        var c = await Store.AddProduct(name: "C", stock: 1_000);
        long[][] baskets = [[a.Id, b.Id, c.Id], [c.Id, b.Id, a.Id], [b.Id, c.Id, a.Id], [c.Id, a.Id]];

        var responses = await Host.FireAsync(200, i =>
        {
            var items = string.Join(",", baskets[i % baskets.Length].Select(id => $$"""{"product_id":{{id}},"quantity":1}"""));
            return (HttpMethod.Post, $"/api/orders?lock_type={lockType}", $$"""{"user_id":{{i + 1}},"items":[{{items}}]}""");
        });
        TimingLog.Record($"crossed baskets 200 orders {lockType}", responses, ConcurrentRequests.LastWallClock);

        // Locks serialise the writers, so every order goes through. Optimistic writers on three hot rows may
        // exhaust their bounded retries instead: that is a clean 409, never a 500, a hang or a lost write.
        responses.ShouldAllBe(r => r.Status == 201 || (lockType == "optimistic" && r.Status == 409));
        var placed = Enumerable.Range(0, responses.Count).Where(i => responses[i].Status == 201).ToList();
        long Taken(long productId) => placed.Count(i => baskets[i % baskets.Length].Contains(productId));
        (await Store.Reload(a.Id)).Stock.ShouldBe((int)(1_000 - Taken(a.Id)));
        (await Store.Reload(b.Id)).Stock.ShouldBe((int)(1_000 - Taken(b.Id)));
        (await Store.Reload(c.Id)).Stock.ShouldBe((int)(1_000 - Taken(c.Id)));
        if (lockType != "optimistic")
        {
            placed.Count.ShouldBe(200);
        }

        await Host.ShouldPassAudit();
    }

    [Theory]
    [MemberData(nameof(LockTypeData.Safe), MemberType = typeof(LockTypeData))]
    public async Task without_contention_every_order_succeeds(string lockType)
    {
        var products = await Store.AddProducts(200, i => new ExBuy.Features.Catalog.Product
        {
            Name = $"P{i}", Price = 5m, Stock = 10, InitialStock = 10, Category = "books", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        });

        var responses = await Host.FireAsync(200, i =>
            (HttpMethod.Post, $"/api/orders?lock_type={lockType}", $$"""{"user_id":{{i + 1}},"items":[{"product_id":{{products[i].Id}},"quantity":2}]}"""));
        TimingLog.Record($"no contention 200 orders {lockType}", responses, ConcurrentRequests.LastWallClock);

        responses.ShouldAllBe(r => r.Status == 201);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task strategies_mixed_on_one_product_stay_consistent()
    {
        var productId = await Host.SetUpFlashSale(150);
        string[] types = ["optimistic", "pessimistic", "redlock", "row", "atomic"];

        var responses = await Host.FireAsync(200, i =>
            (HttpMethod.Post, $"/api/flash-sales/{productId}/purchase?lock_type={types[i % types.Length]}", $$"""{"user_id":{{i + 1}}}"""));

        responses.Count(r => r.Status == 201).ShouldBe(150);
        var stock = await Host.GetJson($"/api/flash-sales/{productId}/stock");
        stock["db_stock"]!.GetValue<int>().ShouldBe(0);
        stock["redis_stock"]!.GetValue<int>().ShouldBe(0);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_held_lock_makes_pessimistic_requests_fail_fast_and_nothing_is_left_locked()
    {
        var productId = await Host.SetUpFlashSale(10);
        await using var impatient = await App.StartHostWithAsync(($"{ConcurrencyOptions.Section}:LockTimeoutMs", "300"));
        var locks = Host.Services.GetRequiredService<ExBuy.Infrastructure.Locking.RedisLockProviders>();
        await using (await locks.SingleNode.CreateLock(ExBuy.Features.Inventory.Strategies.RedisLockStockStrategy.LockName(productId)).AcquireAsync(cancellationToken: Ct))
        {
            var refused = await impatient.PostJson($"/api/flash-sales/{productId}/purchase?lock_type=pessimistic", """{"user_id":1}""", 409);
            refused["error"]!.GetValue<string>().ShouldContain("lock");
        }

        await impatient.PostJson($"/api/flash-sales/{productId}/purchase?lock_type=pessimistic", """{"user_id":1}""", 201);

        var redis = Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        (await redis.KeyExistsAsync(ExBuy.Features.Inventory.Strategies.RedisLockStockStrategy.LockName(productId))).ShouldBeFalse();
        (await Host.GetJson($"/api/flash-sales/{productId}/stock"))["db_stock"]!.GetValue<int>().ShouldBe(9);
    }

    [Theory]
    [InlineData("pessimistic")]
    [InlineData("row")]
    public async Task a_sold_out_product_is_refused_without_queueing_for_its_lock(string lockType)
    {
        var productId = await Host.SetUpFlashSale(1);
        await Host.PostJson($"/api/flash-sales/{productId}/purchase?lock_type={lockType}", """{"user_id":1}""", 201);
        var locks = Host.Services.GetRequiredService<ExBuy.Infrastructure.Locking.RedisLockProviders>();

        // Someone holds both the Redis lock and the row lock for as long as this test runs.
        await using var redisLock = await locks.SingleNode.CreateLock(ExBuy.Features.Inventory.Strategies.RedisLockStockStrategy.LockName(productId)).AcquireAsync(cancellationToken: Ct);
        await using var session = Store.LightweightSession();
        await session.BeginTransactionAsync(Ct);
        await ProductStockSql.LockRowsAsync(session, [productId], TimeSpan.FromSeconds(5), Ct);

        var refused = await Host.PostJson($"/api/flash-sales/{productId}/purchase?lock_type={lockType}", """{"user_id":2}""", 409);

        // Refused as sold out; had it queued for the lock it would have answered "busy: … lock …" after the timeout.
        refused["error"]!.GetValue<string>().ShouldNotContain("lock", Case.Insensitive);
    }

    [Fact]
    public async Task the_atomic_gate_gives_back_what_the_database_refused()
    {
        var productId = await Host.SetUpFlashSale(5);
        // Redis believes there are 5 units; the database has 2 (as after a crash between the two writes).
        await using (var session = Store.LightweightSession())
        {
            await session.BeginTransactionAsync(Ct);
            await ProductStockSql.OverwriteAsync(session, productId, 2, DateTimeOffset.UtcNow, Ct);
            ProductStockSql.EnsureCommit(session);
            await session.SaveChangesAsync(Ct);
        }

        await Host.PostJson($"/api/flash-sales/{productId}/purchase?lock_type=atomic", """{"user_id":1,"quantity":3}""", 409);

        var stock = await Host.GetJson($"/api/flash-sales/{productId}/stock");
        stock["redis_stock"]!.GetValue<int>().ShouldBe(5, "the Redis decrement was compensated");
        stock["db_stock"]!.GetValue<int>().ShouldBe(2);
    }

    [Fact]
    public async Task flash_sale_routes_validate_their_input()
    {
        (await Host.PostJson("/api/flash-sales", """{"stock":0}""", 400)).ErrorFields().ShouldContain("stock");
        (await Host.PostJson("/api/flash-sales", """{"stock":5,"price":"-1"}""", 400)).ErrorFields().ShouldContain("price");
        var productId = await Host.SetUpFlashSale(5);
        (await Host.PostJson($"/api/flash-sales/{productId}/purchase", """{}""", 400)).ErrorFields().ShouldContain("user_id");
        (await Host.PostJson($"/api/flash-sales/{productId}/purchase?lock_type=bogus", """{"user_id":1}""", 400)).ErrorFields().ShouldContain("lock_type");
        (await Host.PostJson($"/api/flash-sales/{productId}/purchase", """{"user_id":1,"quantity":101}""", 400)).ErrorFields().ShouldContain("quantity");
        await Host.PostJson("/api/flash-sales/987654/purchase", """{"user_id":1}""", 404);
        await Host.GetJson("/api/flash-sales/987654/stock", 404);
        (await Host.GetJson($"/api/flash-sales/{productId}/stock"))["db_stock"]!.GetValue<int>().ShouldBe(5);
    }
}
