using ExBuy.Features.Audit;
using ExBuy.Features.Balance;
using ExBuy.Features.Catalog;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;
using ExBuy.Features.Orders;
using ExBuy.Infrastructure.Marten;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using IDatabase = StackExchange.Redis.IDatabase;
using IConnectionMultiplexer = StackExchange.Redis.IConnectionMultiplexer;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.Audit;

/// <summary>
/// The audit is only worth something if it catches each kind of damage. Each test builds a clean state through the API
/// (the audit passes), then breaks exactly one invariant behind the API's back — writing PostgreSQL through Marten or
/// Redis directly — and expects exactly that invariant reported, for that subject, and no other.
/// </summary>
public sealed class AuditTests(AppFixture app) : IntegrationContext(app)
{
    private IDatabase Redis => Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

    /// <param name="inherent">
    /// Checks that the same damage breaks by its nature, named one by one (e.g. a coupon deleted behind the API's back
    /// is also a claim marked issued without its coupon): any other report fails the test.
    /// </param>
    private async Task ShouldReportOnly(string invariant, string subject, params string[] inherent)
    {
        var audit = await Host.Audit();
        audit.Ok.ShouldBeFalse();
        audit.Violations.Select(v => v.Invariant).Order().ShouldBe(inherent.Append(invariant).Order());
        var violation = audit.Violations.Single(v => v.Invariant == invariant);
        violation.Subject.ShouldBe(subject);
        audit.ViolationCount.ShouldBe(1 + inherent.Length);
    }

    private async Task<(ShopSetup Shop, long User)> ShopWithOneUser(string init = """{"userCount":1,"policyCount":1,"couponQuantity":1}""")
    {
        var shop = await Host.InitShop(init);
        return (shop, await Host.UserId("u1"));
    }

    [Fact]
    public async Task a_clean_shop_passes()
    {
        var product = await Store.AddProduct(stock: 10);
        await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":3}]""", "atomic");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task no_negative_stock_catches_an_oversold_product_whose_ledger_agrees()
    {
        // One unit, sold once through the API, then sold again behind its back: the events say 2 of 1 were sold. The stock
        // row cannot follow below zero (its check constraint refuses), so the ledger disagrees with it too.
        var productId = await Host.SetUpFlashSale(1);
        await Host.PostJson($"/api/flash-sales/{productId}/purchase?lock_type=row", """{"user_id":1}""", 201);
        await Host.ShouldPassAudit();

        await using (var session = Store.LightweightSession())
        {
            session.Events.StartStream($"reservation-{Guid.CreateVersion7()}", new StockReserved(productId, 1, StockSources.FlashSale, "none", 2, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(Ct);
        }

        await Should.ThrowAsync<Npgsql.PostgresException>(() => Store.SetDatabaseStock(productId, -1));

        await ShouldReportOnly("no_negative_stock", $"product {productId}", "stock_matches_ledger");
    }

    [Fact]
    public async Task stock_matches_ledger_catches_stock_changed_without_an_event()
    {
        var productId = await Host.SetUpFlashSale(10);
        await Host.ShouldPassAudit();

        // Two units appear from nowhere, in the database and in Redis alike.
        await Store.SetDatabaseStock(productId, 12);
        await Redis.StringSetAsync(RedisStock.Key(productId), 12);

        await ShouldReportOnly("stock_matches_ledger", $"product {productId}");
    }

    [Fact]
    public async Task redis_stock_matches_database_catches_a_redis_copy_out_of_step()
    {
        var productId = await Host.SetUpFlashSale(10);
        await Host.ShouldPassAudit();

        await Redis.StringSetAsync(RedisStock.Key(productId), 7);

        await ShouldReportOnly("redis_stock_matches_database", $"product {productId}");
    }

    [Fact]
    public async Task order_total_matches_items_catches_a_total_that_does_not_add_up()
    {
        var productId = await Host.SetUpFlashSale(10);
        var order = await Host.PlaceOrder(1, $$"""[{"product_id":{{productId}},"quantity":2}]""");
        await Host.ShouldPassAudit();

        var orderId = order["id"]!.GetValue<long>();
        await using (var session = Store.LightweightSession())
        {
            var doc = (await session.LoadAsync<Order>(orderId, Ct)).ShouldNotBeNull();
            doc.TotalPrice = 15m;
            session.UpdateRevision(doc, doc.Version + 1);
            await session.SaveChangesAsync(Ct);
        }

        await ShouldReportOnly("order_total_matches_items", $"order {orderId}");
    }

    [Fact]
    public async Task coupons_issued_within_quantity_catches_a_coupon_beyond_the_quantity()
    {
        var (shop, u1) = await ShopWithOneUser("""{"userCount":2,"policyCount":1,"couponQuantity":1}""");
        var u2 = await Host.UserId("u2");
        var policyId = shop.PolicyIds[0];
        (await Host.ClaimAndWait(u1, policyId)).ShouldBe(201);
        await Host.ShouldPassAudit();

        // A second coupon of a one-coupon policy, written past the counter (which cannot count it: its check
        // constraint refuses issued > quantity) and known to the Redis gate (u2 among the requesters, nothing left).
        // Coupon rows no longer equal the issued count: that comes with the damage.
        await using (var session = Store.LightweightSession())
        {
            var now = DateTimeOffset.UtcNow;
            session.Insert(new Coupon
            {
                Id = await IdSequences.NextAsync<Coupon>(Store, Ct), PolicyId = policyId, UserId = u2, Discount = 2_000,
                IssuedAt = now, ExpiresAt = now.AddDays(3),
            });
            await session.SaveChangesAsync(Ct);
        }

        await Redis.SortedSetAddAsync(CouponGate.Requested(policyId), u2, 0);

        await ShouldReportOnly("coupons_issued_within_quantity", $"policy {policyId}", inherent: "coupons_match_issued_count");
    }

    /// <summary>The counter itself cannot pass its quantity: the database refuses the write (the rule's one definition).</summary>
    [Fact]
    public async Task coupons_issued_within_quantity_is_refused_by_the_counter_itself()
    {
        var (shop, user) = await ShopWithOneUser("""{"userCount":1,"policyCount":1,"couponQuantity":1}""");
        var policyId = shop.PolicyIds[0];
        (await Host.ClaimAndWait(user, policyId)).ShouldBe(201);

        var error = await Should.ThrowAsync<Npgsql.PostgresException>(() =>
            Host.Sql($"update {CouponPolicyStock.Table(Store)} set issued = issued + 1 where policy_id = {policyId}"));

        error.SqlState.ShouldBe(Npgsql.PostgresErrorCodes.CheckViolation);
        error.ConstraintName.ShouldBe(CouponPolicyStock.WithinQuantity);
        (await Host.CouponCounter(policyId)).ShouldBe((1, 1));
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task coupons_match_issued_count_catches_a_counter_raised_without_its_coupon()
    {
        var (shop, user) = await ShopWithOneUser("""{"userCount":1,"policyCount":1,"couponQuantity":3}""");
        var policyId = shop.PolicyIds[0];
        (await Host.ClaimAndWait(user, policyId)).ShouldBe(201);
        await Host.ShouldPassAudit();

        // The counter says 2 issued, one coupon exists; Redis agrees with the counter (3 − 2 = 1 left).
        await Host.Sql($"update {CouponPolicyStock.Table(Store)} set issued = 2 where policy_id = {policyId}");
        await Redis.StringSetAsync(CouponGate.Remaining(policyId), 1);

        await ShouldReportOnly("coupons_match_issued_count", $"policy {policyId}");
    }

    [Fact]
    public async Task coupons_match_issued_count_catches_a_lost_coupon()
    {
        var (shop, user) = await ShopWithOneUser("""{"userCount":1,"policyCount":1,"couponQuantity":3}""");
        var policyId = shop.PolicyIds[0];
        (await Host.ClaimAndWait(user, policyId)).ShouldBe(201);
        await Host.ShouldPassAudit();

        await using (var session = Store.LightweightSession())
        {
            session.Delete<Coupon>((await Host.Coupons(user)).ShouldHaveSingleItem());
            await session.SaveChangesAsync(Ct);
        }

        await ShouldReportOnly("coupons_match_issued_count", $"policy {policyId}", inherent: "coupon_claim_issued_once");
    }

    [Fact]
    public async Task redis_coupon_counter_matches_database_catches_a_counter_out_of_step()
    {
        var (shop, _) = await ShopWithOneUser("""{"userCount":1,"policyCount":1,"couponQuantity":3}""");
        var policyId = shop.PolicyIds[0];
        await Host.ShouldPassAudit();

        await Redis.StringSetAsync(CouponGate.Remaining(policyId), 2);

        await ShouldReportOnly("redis_coupon_counter_matches_database", $"policy {policyId}");
    }

    /// <summary>
    /// A second coupon of one policy for one user cannot be written while the unique index on (PolicyId, UserId) exists
    /// (CouponsRegistration): the database is the guard, so the audit has no check for it (its old check,
    /// one_coupon_per_user_per_policy, could not fail and was replaced by coupon_discount_matches_policy).
    /// </summary>
    [Fact]
    public async Task a_second_coupon_per_user_and_policy_is_refused_by_the_database()
    {
        var (shop, user) = await ShopWithOneUser("""{"userCount":1,"policyCount":1,"couponQuantity":3}""");
        var policyId = shop.PolicyIds[0];
        (await Host.ClaimAndWait(user, policyId)).ShouldBe(201);

        var error = await Should.ThrowAsync<Exception>(async () =>
        {
            await using var session = Store.LightweightSession();
            var now = DateTimeOffset.UtcNow;
            session.Insert(new Coupon
            {
                Id = await IdSequences.NextAsync<Coupon>(Store, Ct), PolicyId = policyId, UserId = user, Discount = 2_000,
                IssuedAt = now, ExpiresAt = now.AddDays(3),
            });
            await session.SaveChangesAsync(Ct);
        });

        PostgresErrors.IsUniqueViolation(error).ShouldBeTrue(error.ToString());
        (await Host.Coupons(user)).Count.ShouldBe(1);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task coupon_discount_matches_policy_catches_a_coupon_worth_more_than_its_policy()
    {
        var (shop, user) = await ShopWithOneUser();
        (await Host.ClaimAndWait(user, shop.PolicyIds[0])).ShouldBe(201);
        var couponId = (await Host.Coupons(user)).ShouldHaveSingleItem();
        await Host.ShouldPassAudit();

        await using (var session = Store.LightweightSession())
        {
            var coupon = (await session.LoadAsync<Coupon>(couponId, Ct)).ShouldNotBeNull();
            coupon.Discount = 5_000;
            session.UpdateRevision(coupon, coupon.Version + 1);
            await session.SaveChangesAsync(Ct);
        }

        await ShouldReportOnly("coupon_discount_matches_policy", $"coupon {couponId}");
    }

    /// <summary>A clean shop flow — coupons, idempotent and cancelled paid orders, a revived plain order — passes every check, each over what it covers.</summary>
    [Fact]
    public async Task a_clean_shop_flow_passes_every_check()
    {
        var shop = await Host.InitShop("""{"userCount":2,"policyCount":1,"couponQuantity":2}""");
        var (u1, u2) = (shop.UserIds[0], shop.UserIds[0] + 1);
        await Host.Charge(u1, 100_000);
        await Host.Charge(u2, 100_000);
        (await Host.ClaimAndWait(u1, shop.PolicyIds[0])).ShouldBe(201);
        var couponId = (await Host.Coupons(u1)).ShouldHaveSingleItem();
        var body = OrderBody(u1, couponId, Items([shop.ProductIds[0], shop.ProductIds[1]]));
        var key = ("Idempotency-Key", "clean-1");
        await Host.PostJson("/orders", body, 201, [key]);
        await Host.PostJson("/orders", body, 201, [key]); // replayed: charged once
        var cancelled = (await Host.PostJson("/orders", OrderBody(u2, null, Items([shop.ProductIds[2]], quantity: 3)), 201))["orderId"]!.GetValue<long>();
        await Host.PatchJson($"/api/orders/{cancelled}", """{"status":"cancelled"}""", 200);
        var plain = await Host.PlaceOrder(u2, $$"""[{"product_id":{{shop.ProductIds[3]}},"quantity":2}]""");
        await Host.PatchJson($"/api/orders/{plain["id"]}", """{"status":"cancelled"}""", 200);
        await Host.PatchJson($"/api/orders/{plain["id"]}", """{"status":"pending"}""", 200);
        await Store.CatchUpAsync(Host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), shard: ExBuy.Features.Rankings.SalesRankingSubscription.ShardName);

        var audit = await Host.Audit();
        audit.Violations.ShouldBeEmpty();
        audit.Ok.ShouldBeTrue();
        audit.Checked["idempotency_records"].ShouldBe(1);
        audit.Checked["ranked_products"].ShouldBe(5 * ExBuy.Features.Rankings.SalesRanking.Days);
        audit.Checked["balances"].ShouldBe(2);
    }

    [Fact]
    public async Task stock_returned_at_most_once_per_take_catches_a_cancellation_that_returned_the_stock_twice()
    {
        var product = await Store.AddProduct(stock: 10);
        var order = await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":3}]""");
        var orderId = order["id"]!.GetValue<long>();
        await Host.PatchJson($"/api/orders/{orderId}", """{"status":"cancelled"}""", 200);
        await Host.ShouldPassAudit();

        // The cancellation's return written a second time, stock and all: the ledger and the stock row agree (13 of
        // 10), so only tying each return to its take shows it.
        await using (var session = Store.LightweightSession())
        {
            session.Events.Append(OrderStreams.Key(orderId), new OrderCancelled(orderId, [new OrderedItem(product.Id, product.Name, 3, product.Price)], ReturnedStock: true, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(Ct);
        }

        await Store.SetDatabaseStock(product.Id, 13);
        if (await Redis.KeyExistsAsync(RedisStock.Key(product.Id)))
        {
            await Redis.StringSetAsync(RedisStock.Key(product.Id), 13);
        }

        await ShouldReportOnly("stock_returned_at_most_once_per_take", $"order {orderId}");
    }

    [Fact]
    public async Task order_discount_matches_coupon_catches_a_discount_that_is_not_the_coupons()
    {
        var (shop, user) = await ShopWithOneUser();
        await Host.Charge(user, 10_000);
        (await Host.ClaimAndWait(user, shop.PolicyIds[0])).ShouldBe(201);
        var couponId = (await Host.Coupons(user)).ShouldHaveSingleItem();
        var orderId = (await Host.PostJson("/orders", OrderBody(user, couponId, Items([shop.ProductIds[0], shop.ProductIds[1]])), 201))["orderId"]!.GetValue<long>();
        await Host.ShouldPassAudit();

        // A discount of 1,500 where the coupon gives 2,000, the total following it (so the total still adds up): the
        // debit, for the total charged, is then not the order's total either — that comes with the damage.
        await using (var session = Store.LightweightSession())
        {
            var doc = (await session.LoadAsync<Order>(orderId, Ct)).ShouldNotBeNull();
            doc.Discount = 1_500;
            doc.TotalPrice = 2_500;
            session.UpdateRevision(doc, doc.Version + 1);
            await session.SaveChangesAsync(Ct);
        }

        await ShouldReportOnly("order_discount_matches_coupon", $"order {orderId}", inherent: "paid_order_has_one_debit");
    }

    [Fact]
    public async Task coupon_owner_is_order_user_catches_a_coupon_used_by_another_users_order()
    {
        var (shop, u1) = await ShopWithOneUser("""{"userCount":2,"policyCount":1,"couponQuantity":2}""");
        var u2 = await Host.UserId("u2");
        var policyId = shop.PolicyIds[0];
        await Host.Charge(u1, 10_000);
        (await Host.ClaimAndWait(u1, policyId)).ShouldBe(201);
        var couponId = (await Host.Coupons(u1)).ShouldHaveSingleItem();
        var orderId = (await Host.PostJson("/orders", OrderBody(u1, couponId, Items([shop.ProductIds[0]])), 201))["orderId"]!.GetValue<long>();
        await Host.ShouldPassAudit();

        // The coupon now belongs to u2 (known to the gate as a requester), while u1's order used it.
        await using (var session = Store.LightweightSession())
        {
            var coupon = (await session.LoadAsync<Coupon>(couponId, Ct)).ShouldNotBeNull();
            coupon.UserId = u2;
            session.UpdateRevision(coupon, coupon.Version + 1);
            await session.SaveChangesAsync(Ct);
        }

        await Redis.SortedSetAddAsync(CouponGate.Requested(policyId), u2, 0);

        await ShouldReportOnly("coupon_owner_is_order_user", $"coupon {couponId}, order {orderId}");
    }

    [Theory]
    [InlineData("total")]
    [InlineData("order")]
    public async Task idempotency_record_matches_order_catches_a_record_that_is_not_its_orders(string broken)
    {
        var (shop, user) = await ShopWithOneUser();
        await Host.Charge(user, 10_000);
        await Host.PostJson("/orders", OrderBody(user, null, Items([shop.ProductIds[0]])), 201, [("Idempotency-Key", "k-1")]);
        await Host.ShouldPassAudit();

        var id = ExBuy.Features.Orders.IdempotencyRecord.KeyFor(user, "k-1");
        await using (var session = Store.LightweightSession())
        {
            var record = (await session.LoadAsync<ExBuy.Features.Orders.IdempotencyRecord>(id, Ct)).ShouldNotBeNull();
            if (broken == "total")
            {
                record.TotalAmount = 1;
            }
            else
            {
                record.OrderId += 1_000;
            }

            session.Store(record);
            await session.SaveChangesAsync(Ct);
        }

        await ShouldReportOnly("idempotency_record_matches_order", $"idempotency record {id}");
    }

    [Fact]
    public async Task sales_ranking_matches_live_paid_orders_catches_units_no_order_sold()
    {
        var shop = await Host.InitShop("""{"userCount":1,"policyCount":0}""");
        var user = shop.UserIds[0];
        await Host.Charge(user, 10_000);
        await Host.PostJson("/orders", OrderBody(user, null, Items([shop.ProductIds[4]], quantity: 2)), 201);
        await Store.CatchUpAsync(Host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), shard: ExBuy.Features.Rankings.SalesRankingSubscription.ShardName);
        await Host.ShouldPassAudit();

        // What the ranking did with a cancelled order before it took cancellations out: units that no live order sold.
        var today = Host.Services.GetRequiredService<ExBuy.Features.Rankings.SalesRanking>().Today;
        await Redis.SortedSetIncrementAsync(ExBuy.Features.Rankings.SalesRanking.DayKey(today), shop.ProductIds[4], 1_000);

        await ShouldReportOnly("sales_ranking_matches_live_paid_orders", $"day {today:yyyy-MM-dd}, product {shop.ProductIds[4]}");
    }

    [Fact]
    public async Task no_orphan_balance_ledger_catches_a_ledger_whose_balance_document_is_gone()
    {
        var (_, user) = await ShopWithOneUser();
        await Host.Charge(user, 1_000);
        await Host.ShouldPassAudit();

        await using (var session = Store.LightweightSession())
        {
            session.Delete<UserBalance>(BalanceStreams.Key(user));
            await session.SaveChangesAsync(Ct);
        }

        await ShouldReportOnly("no_orphan_balance_ledger", BalanceStreams.Key(user));
    }

    [Fact]
    public async Task no_orphan_balance_ledger_catches_a_balance_document_without_its_ledger()
    {
        var (_, user) = await ShopWithOneUser();
        await Host.ShouldPassAudit();

        // A balance at version 2 (two events applied) of which the event log has none: balance 0 = ledger 0, so only
        // the missing ledger shows.
        await using (var session = Store.LightweightSession())
        {
            session.Store(new UserBalance { Id = BalanceStreams.Key(user), UserId = user, Balance = 0, Version = 2 });
            await session.SaveChangesAsync(Ct);
        }

        await ShouldReportOnly("no_orphan_balance_ledger", BalanceStreams.Key(user));
    }

    [Fact]
    public async Task coupon_used_once_catches_a_coupon_that_paid_for_two_orders()
    {
        var (shop, user) = await ShopWithOneUser();
        await Host.Charge(user, 10_000);
        (await Host.ClaimAndWait(user, shop.PolicyIds[0])).ShouldBe(201);
        var couponId = (await Host.Coupons(user)).ShouldHaveSingleItem();
        await Host.PostJson("/orders", OrderBody(user, couponId, Items([shop.ProductIds[0], shop.ProductIds[1]])), 201);
        await Host.ShouldPassAudit();

        // The coupon forgets its order, as if the used-coupon guard had let a second order through; the second order
        // is then placed through the API, paid and recorded like any other.
        await using (var session = Store.LightweightSession())
        {
            var coupon = (await session.LoadAsync<Coupon>(couponId, Ct)).ShouldNotBeNull();
            coupon.UsedByOrderId = null;
            session.UpdateRevision(coupon, coupon.Version + 1);
            await session.SaveChangesAsync(Ct);
        }

        await Host.PostJson("/orders", OrderBody(user, couponId, Items([shop.ProductIds[0], shop.ProductIds[1]])), 201);

        await ShouldReportOnly("coupon_used_once", $"coupon {couponId}", inherent: "coupon_use_matches_order");
    }

    [Fact]
    public async Task balance_matches_ledger_catches_a_balance_changed_without_an_event()
    {
        var (_, user) = await ShopWithOneUser();
        await Host.Charge(user, 1_000);
        await Host.ShouldPassAudit();

        await using (var session = Store.LightweightSession())
        {
            var balance = (await session.LoadAsync<UserBalance>(BalanceStreams.Key(user), Ct)).ShouldNotBeNull();
            balance.Balance = 1_500;
            session.Store(balance);
            await session.SaveChangesAsync(Ct);
        }

        await ShouldReportOnly("balance_matches_ledger", BalanceStreams.Key(user));
    }

    [Fact]
    public async Task no_negative_balance_catches_a_debit_beyond_the_balance()
    {
        var (_, user) = await ShopWithOneUser();
        await Host.Charge(user, 1_000);
        await Host.ShouldPassAudit();

        // A debit the balance check should have refused, recorded in the ledger (so balance and ledger agree at -500).
        await using (var session = Store.LightweightSession())
        {
            session.Events.Append(BalanceStreams.Key(user), new BalanceDebited(user, 1_500, 0, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(Ct);
        }

        (await Host.Balance(user)).ShouldBe(-500);
        await ShouldReportOnly("no_negative_balance", BalanceStreams.Key(user));
    }

    [Fact]
    public async Task paid_order_has_one_debit_catches_an_order_charged_twice()
    {
        var (shop, user) = await ShopWithOneUser();
        await Host.Charge(user, 10_000);
        var orderId = (await Host.PostJson("/orders", OrderBody(user, null, Items([shop.ProductIds[0]])), 201))["orderId"]!.GetValue<long>();
        await Host.ShouldPassAudit();

        // The same order debited a second time: the balance follows its ledger, the order has two debits.
        await using (var session = Store.LightweightSession())
        {
            session.Events.Append(BalanceStreams.Key(user), new BalanceDebited(user, 2_000, orderId, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(Ct);
        }

        (await Host.Balance(user)).ShouldBe(6_000);
        await ShouldReportOnly("paid_order_has_one_debit", $"order {orderId}");
    }

    /// <summary>Every check the audit makes has a test named after it that breaks it; a new check needs one too.</summary>
    [Fact]
    public void every_audit_check_has_a_test_that_breaks_it()
    {
        // The checks are the modules' own (IAuditCheck), each in its module's Audit folder.
        var features = Path.Combine(SourceDirectory(), "src", "ExBuy", "Features");
        var source = string.Concat(Directory.GetFiles(features, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "Audit").Select(File.ReadAllText));
        var checks = System.Text.RegularExpressions.Regex.Matches(source, @"new(?:\s+AuditViolation)?\(\s*""([a-z_]+)""")
            .Select(m => m.Groups[1].Value).Distinct().Order().ToList();
        checks.Count.ShouldBeGreaterThanOrEqualTo(27);
        // Such tests live beside the feature that owns the check, named after it.
        var tests = typeof(AuditTests).Assembly.GetTypes().SelectMany(t => t.GetMethods()).Select(m => m.Name).ToList();
        checks.Where(check => !tests.Any(t => t.StartsWith(check + "_", StringComparison.Ordinal))).ShouldBeEmpty();
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", "..", ".."));
}
