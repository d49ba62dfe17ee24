using ExBuy.Features.Coupons;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using Wolverine.Tracking;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.Seeding;

public sealed class ShopFlowTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task init_sets_up_users_products_policies_and_the_ranking()
    {
        var shop = await Host.InitShop();

        shop.PolicyIds.Count.ShouldBe(5);
        var products = (await Host.GetJson("/products/")).AsArray();
        products.Select(p => p!["name"]!.GetValue<string>()).ShouldBe(["p1", "p2", "p3", "p4", "p5"]);
        products.ShouldAllBe(p => p!["price"]!.GetValue<long>() == 2000 && p["stock"]!.GetValue<int>() == 1_000_000);
        products[0]!.AsObject().Select(p => p.Key).ShouldBe(["id", "name", "price", "stock"]);
        (await Host.GetJson($"/products/{shop.ProductIds[0]}"))["name"]!.GetValue<string>().ShouldBe("p1");

        var top = (await Host.GetJson("/products/top/realtime")).AsArray();
        top.Select(t => t!["soldQty"]!.GetValue<long>()).ShouldBe([1500, 1200, 900, 600, 300]);
        top[0]!.AsObject().Select(p => p.Key).ShouldBe(["productId", "name", "soldQty"]);
        (await Host.GetJson("/products/top")).AsArray().Count.ShouldBe(5);

        var u300 = await Host.UserId("u300");
        shop.UserIds.ShouldBe([await Host.UserId("u1"), u300], "one run of consecutive ids, first and last");
        (await Host.UserId("u300")).ShouldBe(u300);
        (await Host.Balance(u300)).ShouldBe(0);

        var again = await Host.InitShop("""{"userCount":3,"couponQuantity":1,"policyCount":2}""");
        again.PolicyIds.Count.ShouldBe(2);
        again.PolicyIds.ShouldNotContain(shop.PolicyIds[0]);
        (await Host.GetJson("/products")).AsArray().Count.ShouldBe(5);
    }

    [Fact]
    public void init_reports_user_ids_as_runs_of_consecutive_ids()
    {
        var users = new long[] { 7, 8, 9, 12, 13, 20 }.Select(id => new ExBuy.Features.Users.ShopUser { Id = id, Name = $"u{id}" }).ToList();
        ExBuy.Features.Seeding.Init.InitEndpoint.UserIdRanges(users).ShouldBe([7, 9, 12, 13, 20, 20]);
        ExBuy.Features.Seeding.Init.InitEndpoint.UserIdRanges([]).ShouldBeEmpty();
    }

    [Fact]
    public async Task init_validates_its_overrides_and_is_admin_only_outside_local()
    {
        (await Host.PostJson("/init", """{"couponQuantity":-1}""", 400)).ErrorFields().ShouldContain("coupon_quantity");
        await Host.PostJson("/init", """{"couponQuantity":""", 400);

        await using var production = await App.StartHostWithAsync(("ExBuy:Profile", "production"), ("ExBuy:AdminKey", "a-long-random-admin-key-for-this-test"));
        await production.Scenario(s =>
        {
            s.Post.Url("/init");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(403);
        });
    }

    [Fact]
    public async Task a_new_name_gets_one_user_even_under_concurrent_first_requests()
    {
        await Host.InitShop("""{"userCount":0}""");
        var responses = await Host.FireAsync(50, _ => (HttpMethod.Get, "/users/id?name=newcomer", null));
        responses.ShouldAllBe(r => r.Status == 200);
        responses.Select(r => r.Body).Distinct().Count().ShouldBe(1);
        await using var session = Store.QuerySession();
        (await session.Query<ExBuy.Features.Users.ShopUser>().CountAsync(Ct)).ShouldBe(1);
        (await Host.GetJson("/users/id", 400)).ErrorFields().ShouldContain("name");
    }

    [Fact]
    public async Task charging_adds_to_the_balance_and_never_loses_a_concurrent_charge()
    {
        await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");

        (await Host.Charge(user, 10_000)).ToJsonString().ShouldBe($$"""{"userId":{{user}},"balance":10000}""");
        var responses = await Host.FireAsync(40, _ => (HttpMethod.Post, $"/users/{user}/balance", """{"amount":250}"""));

        responses.ShouldAllBe(r => r.Status == 201);
        (await Host.Balance(user)).ShouldBe(20_000);
        await Host.ShouldPassAudit();

        // Only ledger streams have balances: an order stream must not grow one.
        var product = await Store.AddProduct(stock: 5);
        await Host.PlaceOrder(user, $$"""[{"product_id":{{product.Id}},"quantity":1}]""");
        await using var session = Store.QuerySession();
        (await session.Query<ExBuy.Features.Balance.UserBalance>().CountAsync(Ct)).ShouldBe(1);
    }

    [Theory]
    [InlineData("""{"amount":0}""")]
    [InlineData("""{"amount":-5}""")]
    [InlineData("""{"amount":10000001}""")]
    [InlineData("""{}""")]
    [InlineData("""{"amount":"lots"}""")]
    public async Task invalid_charges_are_400s_and_change_nothing(string json)
    {
        await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        await Host.PostJson($"/users/{user}/balance", json, 400);
        (await Host.Balance(user)).ShouldBe(0);
        await Host.PostJson("/users/987654/balance", """{"amount":5}""", 404);
        await Host.GetJson("/users/987654/balance", 404);
    }

    [Fact]
    public async Task a_claim_is_accepted_then_issued_asynchronously_once_per_user()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":1}""");
        var (u1, u2) = (await Host.UserId("u1"), await Host.UserId("u2"));

        (await Host.ClaimAndWait(u1, shop.PolicyIds[0])).ShouldBe(201);
        (await Host.Coupons(u1)).Count.ShouldBe(1);
        (await Host.GetJson($"/users/{u1}/coupons"))[0]!["discount"]!.GetValue<long>().ShouldBe(2000);

        (await Host.ClaimAndWait(u1, shop.PolicyIds[0])).ShouldBe(409);
        (await Host.ClaimAndWait(u2, shop.PolicyIds[0])).ShouldBe(409, "sold out");
        (await Host.Coupons(u2)).ShouldBeEmpty();
        await Host.ShouldPassAudit();
    }

    [Theory]
    [InlineData("userId=U&policyId=999999", 400)]
    [InlineData("userId=999999&policyId=P", 400)]
    [InlineData("userId=abc&policyId=P", 400)]
    [InlineData("userId=U", 400)]
    [InlineData("userId=0&policyId=P", 400)]
    public async Task bad_claims_are_400s(string query, int status)
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        var url = "/coupons?" + query.Replace("=U", $"={user}", StringComparison.Ordinal).Replace("=P", $"={shop.PolicyIds[0]}", StringComparison.Ordinal);
        var result = await Host.Scenario(s =>
        {
            HttpScenarios.WithQuery(s.Post.Url("/coupons"), url);
            s.StatusCodeShouldBe(status);
        });
        (await Host.Coupons(user)).ShouldBeEmpty();
    }

    [Fact]
    public async Task a_coupon_rush_issues_exactly_the_quantity()
    {
        var shop = await Host.InitShop("""{"userCount":1500,"couponQuantity":50,"policyCount":1}""");
        await using var session = Store.QuerySession();
        var users = (await session.Query<ExBuy.Features.Users.ShopUser>().Select(u => u.Id).ToListAsync(Ct)).ToList();
        List<TimedResponse> responses = [];

        await Host.ExecuteAndWaitAsync(async () =>
        {
            responses = await Host.FireAsync(2000, i => (HttpMethod.Post, $"/coupons?userId={users[i % users.Count]}&policyId={shop.PolicyIds[0]}", null));
        }, 60_000);
        TimingLog.Record("coupon rush 2000 claims for 50", responses, ConcurrentRequests.LastWallClock);

        responses.ShouldAllBe(r => r.Status == 201 || r.Status == 409);
        responses.Count(r => r.Status == 201).ShouldBe(50);
        var coupons = await session.Query<Coupon>().ToListAsync(Ct);
        coupons.Count.ShouldBe(50);
        coupons.Select(c => c.UserId).Distinct().Count().ShouldBe(50);
        (await Host.CouponCounter(shop.PolicyIds[0])).ShouldBe((50, 50));
        var stock = await Host.GetJson($"/api/coupon-policies/{shop.PolicyIds[0]}/stock");
        stock["quantity"]!.GetValue<int>().ShouldBe(50);
        stock["issued"]!.GetValue<int>().ShouldBe(50);
        stock["coupons"]!.GetValue<long>().ShouldBe(50);
        stock["redis_remaining"]!.GetValue<long>().ShouldBe(0);
        stock["in_flight"]!.GetValue<long>().ShouldBe(0);
        stock["settled"]!.GetValue<bool>().ShouldBeTrue();
        stock["consistent"]!.GetValue<bool>().ShouldBeTrue();
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task the_coupon_policy_stock_shows_claims_in_flight_and_a_broken_counter()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":5,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var db = Host.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase();
        // Accepted (admitted in Redis, recorded in PostgreSQL), not yet issued by the queue: in flight, not a violation.
        await Host.AcceptClaimWithoutIssuing(policy, await Host.UserId("u1"));
        var stock = await Host.GetJson($"/api/coupon-policies/{policy}/stock");
        stock["in_flight"]!.GetValue<long>().ShouldBe(1);
        stock["stuck"]!.GetValue<long>().ShouldBe(0);
        stock["settled"]!.GetValue<bool>().ShouldBeFalse();
        stock["redis_remaining"]!.GetValue<long>().ShouldBe(4);
        stock["redis_requested"]!.GetValue<long>().ShouldBe(1);
        stock["consistent"]!.GetValue<bool>().ShouldBeTrue();

        // The Redis counter drifted: inconsistent.
        await db.StringSetAsync(CouponGate.Remaining(policy), 3);
        (await Host.GetJson($"/api/coupon-policies/{policy}/stock"))["consistent"]!.GetValue<bool>().ShouldBeFalse();

        // The counter is gone: reported as null, inconsistent.
        await db.KeyDeleteAsync(CouponGate.Remaining(policy));
        stock = await Host.GetJson($"/api/coupon-policies/{policy}/stock");
        stock["redis_remaining"].ShouldBeNull();
        stock["consistent"]!.GetValue<bool>().ShouldBeFalse();

        await Host.GetJson("/api/coupon-policies/999999/stock", 404);
    }

    [Fact]
    public async Task a_refused_issuance_is_compensated_in_redis()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":1,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var (u1, u2) = (await Host.UserId("u1"), await Host.UserId("u2"));
        var gate = Host.Services.GetRequiredService<CouponGate>();
        // Redis believes there are two coupons; the database allows one.
        await Host.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase()
            .StringSetAsync(CouponGate.Remaining(policy), 2);

        (await Host.ClaimAndWait(u1, policy)).ShouldBe(201);
        (await Host.ClaimAndWait(u2, policy)).ShouldBe(201, "the gate admits; the database refuses later");

        (await Host.Coupons(u2)).ShouldBeEmpty();
        (await gate.RemainingAsync(policy)).ShouldBe(1, "the unit went back");
        (await gate.RequestedCountAsync(policy)).ShouldBe(1, "u2 may claim again");
        (await Host.Audit()).Violations.ShouldHaveSingleItem().Invariant.ShouldBe("redis_coupon_counter_matches_database");

        // The reconciler sets the counter to quantity − |requested|: the gate stops the next claim.
        (await Host.Services.GetRequiredService<CouponGateReconciler>().RunOnceAsync(Ct)).ShouldBe(1);
        (await gate.RemainingAsync(policy)).ShouldBe(0);
        (await Host.ClaimAndWait(u2, policy)).ShouldBe(409);
        await Host.ShouldPassAudit();
    }
}
