using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ExBuy.Features.Orders;
using ExBuy.Features.Coupons;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using Wolverine.Tracking;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.Orders;

/// <summary>
/// The shop personas (perf/k6/persona-*.js), each virtual user a concurrent task walking the scenario's steps over HTTP:
/// name → id, charge, claim, (wait for issuance) coupons, top 5, order, balance.
/// </summary>
public sealed class PersonaTests(AppFixture app) : IntegrationContext(app)
{
    private sealed class Step(HttpClient client)
    {
        public Dictionary<string, List<double>> Timings { get; } = [];

        public async Task<(HttpStatusCode Status, JsonNode? Body)> Send(string step, HttpMethod method, string url, string? json = null)
        {
            using var message = new HttpRequestMessage(method, url);
            if (json is not null)
            {
                message.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            var watch = Stopwatch.StartNew();
            using var response = await client.SendAsync(message);
            var text = await response.Content.ReadAsStringAsync();
            lock (Timings)
            {
                (Timings.TryGetValue(step, out var list) ? list : Timings[step] = []).Add(watch.Elapsed.TotalMilliseconds);
            }

            return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
        }
    }

    /// <summary>
    /// The personas' first steps for every virtual user at once (name → id, charge, claim), inside one Wolverine tracked
    /// session: it returns once every claim's issuance message has been handled, however long that takes on this
    /// machine, so the coupons are there when the users look (no polling).
    /// </summary>
    private async Task<(long UserId, HttpStatusCode Claim)[]> ChargeAndClaim(Step http, ShopSetup shop, int users, long amount)
    {
        var results = new (long UserId, HttpStatusCode Claim)[users];
        await Host.ExecuteAndWaitAsync(async () => await Task.WhenAll(Enumerable.Range(1, users).Select(async vu =>
        {
            var (_, id) = await http.Send("0_get_userId", HttpMethod.Get, $"/users/id?name=u{vu}");
            var userId = id!.GetValue<long>();
            (await http.Send("1_charge_balance", HttpMethod.Post, $"/users/{userId}/balance", $$"""{"amount":{{amount}}}""")).Status.ShouldBe(HttpStatusCode.Created);
            var (claim, _) = await http.Send("2_claim_coupon", HttpMethod.Post, $"/coupons?userId={userId}&policyId={shop.PolicyIds[vu % shop.PolicyIds.Count]}");
            ((int)claim).ShouldBeOneOf(201, 400, 409);
            results[vu - 1] = (userId, claim);
        })), 120_000);
        return results;
    }

    /// <summary>The user's coupons after the tracked claims: a claim answered 201 has become exactly one coupon.</summary>
    private static async Task<List<long>> CouponsOf(Step http, long userId, HttpStatusCode claim)
    {
        var (_, body) = await http.Send("3_get_coupons", HttpMethod.Get, $"/users/{userId}/coupons");
        var coupons = body!.AsArray().Select(c => c!["couponId"]!.GetValue<long>()).ToList();
        coupons.Count.ShouldBe(claim == HttpStatusCode.Created ? 1 : 0);
        return coupons;
    }

    private static void Report(string scenario, Step http, TimeSpan wall)
    {
        foreach (var (step, times) in http.Timings.OrderBy(t => t.Key))
        {
            TimingLog.Record($"{scenario} {step}", times.Select(t => new TimedResponse(200, string.Empty, t)).ToList(), wall);
        }
    }

    [Fact]
    public async Task persona_a_three_hundred_impulse_buyers_with_one_hundred_coupons()
    {
        // Five policies of 20 coupons: 300 users claim policyIds[vu % 5], 60 per policy, so 100 coupons in all.
        var shop = await Host.InitShop("""{"userCount":300,"couponQuantity":20}""");
        using var client = Host.Server.CreateClient();
        var http = new Step(client);
        var coupons = new bool[300];
        var orders = new HttpStatusCode[300];
        var balances = new long[300];
        var wall = Stopwatch.StartNew();

        var users = await ChargeAndClaim(http, shop, 300, 10_000);
        await Task.WhenAll(Enumerable.Range(1, 300).Select(async vu =>
        {
            var (userId, claim) = users[vu - 1];
            var mine = await CouponsOf(http, userId, claim);
            coupons[vu - 1] = mine.Count > 0;
            var (_, top) = await http.Send("4_get_top_products", HttpMethod.Get, "/products/top/realtime");
            var top5 = top!.AsArray().Take(5).Select(p => p!["productId"]!.GetValue<long>()).ToList();
            var (status, _) = await http.Send("5_create_order", HttpMethod.Post, "/orders", OrderBody(userId, mine.Count > 0 ? mine[0] : null, Items(top5)));
            orders[vu - 1] = status;
            var (_, balance) = await http.Send("6_get_balance", HttpMethod.Get, $"/users/{userId}/balance");
            balances[vu - 1] = balance!["balance"]!.GetValue<long>();
        }));
        Report("persona A 300 VUs", http, wall.Elapsed);

        orders.ShouldAllBe(s => s == HttpStatusCode.Created);
        coupons.Count(c => c).ShouldBe(100);
        for (var i = 0; i < 300; i++)
        {
            balances[i].ShouldBe(coupons[i] ? 2_000 : 0);
        }

        await using var session = Store.QuerySession();
        (await session.Query<Coupon>().CountAsync(Ct)).ShouldBe(100);
        (await session.Query<Order>().CountAsync(Ct)).ShouldBe(300);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task persona_b_buys_a_second_product_only_with_a_coupon_and_ends_at_zero()
    {
        var shop = await Host.InitShop("""{"userCount":40,"couponQuantity":4}""");
        using var client = Host.Server.CreateClient();
        var http = new Step(client);
        var balances = new long[40];

        var users = await ChargeAndClaim(http, shop, 40, 2_000);
        await Task.WhenAll(Enumerable.Range(1, 40).Select(async vu =>
        {
            var (userId, claim) = users[vu - 1];
            var mine = await CouponsOf(http, userId, claim);
            var products = mine.Count > 0 ? new[] { shop.ProductIds[0], shop.ProductIds[1] } : [shop.ProductIds[0]];
            (await http.Send("order", HttpMethod.Post, "/orders", OrderBody(userId, mine.Count > 0 ? mine[0] : null, Items(products)))).Status.ShouldBe(HttpStatusCode.Created);
            balances[vu - 1] = (await http.Send("balance", HttpMethod.Get, $"/users/{userId}/balance")).Body!["balance"]!.GetValue<long>();
        }));

        balances.ShouldAllBe(b => b == 0);
        await Host.ShouldPassAudit();
    }

    /// <summary>
    /// Persona C (perf/k6/persona-c.js) with one change: k6 charges 1,000, less than any order costs, so there the
    /// balance check refuses everything before a coupon is even looked at. Here every user has 4,000, enough for the
    /// coupon to pay twice (an order of p1 + p2 with the coupon costs 2,000), so only the coupon guards stand between a
    /// malicious order and a sale: a coupon nobody was issued, the same coupon in two orders at the same instant.
    /// </summary>
    [Fact]
    public async Task persona_c_a_coupon_pays_once_and_every_malicious_order_is_refused()
    {
        const long charge = 4_000;
        var shop = await Host.InitShop("""{"userCount":30,"couponQuantity":3}""");
        using var client = Host.Server.CreateClient();
        var http = new Step(client);
        var fake = new List<HttpStatusCode>();
        var doubleUse = new List<HttpStatusCode[]>();
        var malformed = new List<HttpStatusCode>();
        var balances = new long[30];
        var hasCoupon = new bool[30];
        string[] malformedItems =
        [
            $$"""[{"productId":{{shop.ProductIds[0]}},"quantity":0}]""",
            $$"""[{"productId":{{shop.ProductIds[0]}},"quantity":-3}]""",
            """[{"productId":999999999,"quantity":1}]""",
            "[]",
            $$"""[{"productId":{{shop.ProductIds[0]}},"quantity":1000}]""",
        ];

        var users = await ChargeAndClaim(http, shop, 30, charge);
        await Task.WhenAll(Enumerable.Range(1, 30).Select(async vu =>
        {
            var (userId, claim) = users[vu - 1];
            var mine = await CouponsOf(http, userId, claim);
            hasCoupon[vu - 1] = mine.Count > 0;

            // A coupon id nobody was issued, on an order the balance could pay.
            var fakeUse = http.Send("fake coupon", HttpMethod.Post, "/orders", OrderBody(userId, 900_000 + vu, Items([shop.ProductIds[0]])));
            if (mine.Count > 0)
            {
                // The same coupon in two orders at the same instant; the balance could pay both.
                var twice = OrderBody(userId, mine[0], Items([shop.ProductIds[0], shop.ProductIds[1]]));
                var both = await Task.WhenAll(http.Send("double use", HttpMethod.Post, "/orders", twice), http.Send("double use", HttpMethod.Post, "/orders", twice));
                lock (doubleUse)
                {
                    doubleUse.Add(both.Select(b => b.Status).ToArray());
                }
            }
            else
            {
                var (status, _) = await http.Send("malformed", HttpMethod.Post, "/orders", OrderBody(userId, null, malformedItems[vu % malformedItems.Length]));
                lock (malformed)
                {
                    malformed.Add(status);
                }
            }

            var (fakeStatus, _) = await fakeUse;
            lock (fake)
            {
                fake.Add(fakeStatus);
            }

            balances[vu - 1] = (await http.Send("balance", HttpMethod.Get, $"/users/{userId}/balance")).Body!["balance"]!.GetValue<long>();
        }));

        var couponHolders = hasCoupon.Count(c => c);
        couponHolders.ShouldBe(15);
        fake.ShouldAllBe(s => s == HttpStatusCode.BadRequest);
        doubleUse.Count.ShouldBe(couponHolders);
        doubleUse.ShouldAllBe(pair => pair.Count(s => s == HttpStatusCode.Created) == 1 && pair.Count(s => s == HttpStatusCode.Conflict) == 1);
        malformed.Count.ShouldBe(30 - couponHolders);
        malformed.ShouldAllBe(s => s == HttpStatusCode.BadRequest || s == HttpStatusCode.NotFound);
        for (var i = 0; i < 30; i++)
        {
            balances[i].ShouldBe(hasCoupon[i] ? charge - 2_000 : charge);
        }

        await using var session = Store.QuerySession();
        (await session.Query<Order>().CountAsync(Ct)).ShouldBe(couponHolders);
        (await session.Query<Coupon>().CountAsync(c => c.UsedByOrderId != null, Ct)).ShouldBe(couponHolders);
        (await Store.Reload(shop.ProductIds[0])).Stock.ShouldBe(1_000_000 - couponHolders);
        (await Store.Reload(shop.ProductIds[1])).Stock.ShouldBe(1_000_000 - couponHolders);
        await Host.ShouldPassAudit();
    }
}
