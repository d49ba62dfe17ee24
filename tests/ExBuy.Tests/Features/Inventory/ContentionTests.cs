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
    /// <summary>
    /// Every buyer at once; a buyer refused with a 409 while stock is left was refused as busy (its strategy's lock or
    /// retry budget ran out) and tries again, as the contract's "busy, try again" asks, so the totals are exact however
    /// slow this machine is. <c>none</c> takes no lock and is never busy: its buyers try once.
    /// </summary>
    private async Task<(List<TimedResponse> Responses, JsonNode Stock)> Rush(long productId, int buyers, string lockType)
    {
        var (responses, retries) = await Host.FireRetryingAsync(
            buyers,
            i => (HttpMethod.Post, $"/api/flash-sales/{productId}/purchase?lock_type={lockType}", $$"""{"user_id":{{i + 1}}}"""),
            async r => lockType != "none" && r.Status == 409 && await DbStock(productId) > 0);
        TimingLog.Record($"flash sale {buyers}->{100} {lockType}, {retries} busy retries", responses, ConcurrentRequests.LastWallClock);
        return (responses, await Host.GetJson($"/api/flash-sales/{productId}/stock"));
    }

    private async Task<int> DbStock(long productId) => (await Host.GetJson($"/api/flash-sales/{productId}/stock"))["db_stock"]!.GetValue<int>();

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

        // Stock never runs out here, so a 409 is always "busy" (a lock not had in time, optimistic retries used up): the
        // client tries again, and every order goes through whatever the machine's speed. (Lock ordering itself, what
        // makes Redis locks deadlock-free, is shown without timeouts by redis_locks_are_taken_in_ascending_product_id_order;
        // a PostgreSQL deadlock between row locks would be an error, not a 409, and fail here.)
        var (responses, retries) = await Host.FireRetryingAsync(200, i =>
        {
            var items = string.Join(",", baskets[i % baskets.Length].Select(id => $$"""{"product_id":{{id}},"quantity":1}"""));
            return (HttpMethod.Post, $"/api/orders?lock_type={lockType}", $$"""{"user_id":{{i + 1}},"items":[{{items}}]}""");
        }, r => Task.FromResult(r.Status == 409));
        TimingLog.Record($"crossed baskets 200 orders {lockType}, {retries} busy retries", responses, ConcurrentRequests.LastWallClock);

        // Locks serialise the writers; the optimistic ones may have needed a few tries. Never a 500, a hang or a lost write.
        responses.ShouldAllBe(r => r.Status == 201);
        (await Store.Reload(a.Id)).Stock.ShouldBe(1_000 - 200); // in every basket
        (await Store.Reload(b.Id)).Stock.ShouldBe(1_000 - 150); // in three of the four
        (await Store.Reload(c.Id)).Stock.ShouldBe(1_000 - 200);
        await Host.ShouldPassAudit();
    }

    /// <summary>
    /// Why crossed baskets cannot deadlock on Redis locks, shown without relying on a timeout: an order for C, B, A
    /// whose B is held elsewhere takes A (the lowest id) and waits for B, never holding C meanwhile. (Taken in the
    /// basket's order it would hold C while waiting, and two such baskets could each hold what the other waits for.)
    /// A host with a minute of lock patience, so that a slow machine cannot end the wait before it is observed.
    /// </summary>
    [Fact]
    public async Task redis_locks_are_taken_in_ascending_product_id_order()
    {
        var a = await Store.AddProduct(name: "A", stock: 10);
        var b = await Store.AddProduct(name: "B", stock: 10);
        var c = await Store.AddProduct(name: "C", stock: 10);
        await using var patient = await App.StartHostWithAsync(($"{ConcurrencyOptions.Section}:LockTimeoutMs", "60000"));
        var locks = Host.Services.GetRequiredService<ExBuy.Infrastructure.Locking.RedisLockProviders>();
        var redis = Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        static string Name(long id) => ExBuy.Features.Inventory.Strategies.RedisLockStockStrategy.LockName(id);

        Task<Alba.IScenarioResult> order;
        await using (await locks.SingleNode.CreateLock(Name(b.Id)).AcquireAsync(cancellationToken: Ct))
        {
            order = patient.Scenario(s =>
            {
                HttpScenarios.WithQuery(
                    s.Post.RawJson($$"""{"user_id":1,"items":[{"product_id":{{c.Id}},"quantity":1},{"product_id":{{b.Id}},"quantity":1},{"product_id":{{a.Id}},"quantity":1}]}"""),
                    "/api/orders?lock_type=pessimistic");
                s.StatusCodeShouldBe(201);
            });

            // Redis state the request leaves behind while it waits: polled, bounded, asserted.
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (!await redis.KeyExistsAsync(Name(a.Id)))
            {
                order.IsCompleted.ShouldBeFalse("the order finished while B was held");
                watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(50), "the order never took the lock on A");
                await Task.Delay(20, Ct);
            }

            (await redis.KeyExistsAsync(Name(c.Id))).ShouldBeFalse("C is locked while the order waits for B");
        }

        await order;
        (await Store.Reload(a.Id)).Stock.ShouldBe(9);
        (await Store.Reload(c.Id)).Stock.ShouldBe(9);
        (await redis.KeyExistsAsync(Name(a.Id))).ShouldBeFalse();
        await Host.ShouldPassAudit();
    }

    [Theory]
    [MemberData(nameof(LockTypeData.Safe), MemberType = typeof(LockTypeData))]
    public async Task without_contention_every_order_succeeds(string lockType)
    {
        var products = await Store.AddProducts(200, i => new TestProduct
        {
            Name = $"P{i}", Price = 5m, Stock = 10, Category = "books", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
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
        string[] types = ["optimistic", "pessimistic", "redlock", "row", "atomic", "batched"];

        var (responses, _) = await Host.FireRetryingAsync(
            200,
            i => (HttpMethod.Post, $"/api/flash-sales/{productId}/purchase?lock_type={types[i % types.Length]}", $$"""{"user_id":{{i + 1}}}"""),
            async r => r.Status == 409 && await DbStock(productId) > 0);

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
        await ProductStock.LockAsync(session, [productId], TimeSpan.FromSeconds(5), Ct);

        var refused = await Host.PostJson($"/api/flash-sales/{productId}/purchase?lock_type={lockType}", """{"user_id":2}""", 409);

        // Refused as sold out; had it queued for the lock it would have answered "busy: … lock …" after the timeout.
        refused["error"]!.GetValue<string>().ShouldNotContain("lock", Case.Insensitive);
    }

    [Fact]
    public async Task the_atomic_gate_gives_back_what_the_database_refused()
    {
        var productId = await Host.SetUpFlashSale(5);
        // Redis believes there are 5 units; the database has 2 (as after a crash between the two writes).
        await Store.SetDatabaseStock(productId, 2);

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
