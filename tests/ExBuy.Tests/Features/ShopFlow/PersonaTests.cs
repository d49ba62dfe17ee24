using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ExBuy.Features.Orders;
using ExBuy.Features.Coupons;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.ShopFlow;

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

    private static async Task<List<long>> WaitForCoupons(Step http, long userId)
    {
        for (var i = 0; i < 100; i++)
        {
            var (_, body) = await http.Send("3_get_coupons", HttpMethod.Get, $"/users/{userId}/coupons");
            var coupons = body!.AsArray().Select(c => c!["couponId"]!.GetValue<long>()).ToList();
            if (coupons.Count > 0)
            {
                return coupons;
            }

            await Task.Delay(50);
        }

        return [];
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

        await Task.WhenAll(Enumerable.Range(1, 300).Select(async vu =>
        {
            var (_, id) = await http.Send("0_get_userId", HttpMethod.Get, $"/users/id?name=u{vu}");
            var userId = id!.GetValue<long>();
            (await http.Send("1_charge_balance", HttpMethod.Post, $"/users/{userId}/balance", """{"amount":10000}""")).Status.ShouldBe(HttpStatusCode.Created);
            var (claim, _) = await http.Send("2_claim_coupon", HttpMethod.Post, $"/coupons?userId={userId}&policyId={shop.PolicyIds[vu % 5]}");
            ((int)claim).ShouldBeOneOf(201, 400, 409);
            var mine = claim == HttpStatusCode.Created ? await WaitForCoupons(http, userId) : [];
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

        await Task.WhenAll(Enumerable.Range(1, 40).Select(async vu =>
        {
            var userId = (await http.Send("id", HttpMethod.Get, $"/users/id?name=u{vu}")).Body!.GetValue<long>();
            await http.Send("charge", HttpMethod.Post, $"/users/{userId}/balance", """{"amount":2000}""");
            var (claim, _) = await http.Send("claim", HttpMethod.Post, $"/coupons?userId={userId}&policyId={shop.PolicyIds[vu % 5]}");
            var mine = claim == HttpStatusCode.Created ? await WaitForCoupons(http, userId) : [];
            var products = mine.Count > 0 ? new[] { shop.ProductIds[0], shop.ProductIds[1] } : [shop.ProductIds[0]];
            (await http.Send("order", HttpMethod.Post, "/orders", OrderBody(userId, mine.Count > 0 ? mine[0] : null, Items(products)))).Status.ShouldBe(HttpStatusCode.Created);
            balances[vu - 1] = (await http.Send("balance", HttpMethod.Get, $"/users/{userId}/balance")).Body!["balance"]!.GetValue<long>();
        }));

        balances.ShouldAllBe(b => b == 0);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task persona_c_malicious_orders_create_nothing()
    {
        var shop = await Host.InitShop("""{"userCount":30,"couponQuantity":3}""");
        using var client = Host.Server.CreateClient();
        var http = new Step(client);
        var statuses = new List<HttpStatusCode>();

        await Task.WhenAll(Enumerable.Range(1, 30).Select(async vu =>
        {
            var userId = (await http.Send("id", HttpMethod.Get, $"/users/id?name=u{vu}")).Body!.GetValue<long>();
            await http.Send("charge", HttpMethod.Post, $"/users/{userId}/balance", """{"amount":1000}""");
            var (claim, _) = await http.Send("claim", HttpMethod.Post, $"/coupons?userId={userId}&policyId={shop.PolicyIds[vu % 5]}");
            var mine = claim == HttpStatusCode.Created ? await WaitForCoupons(http, userId) : [];
            var attempts = new List<Task<(HttpStatusCode, JsonNode?)>>
            {
                http.Send("fake coupon", HttpMethod.Post, "/orders", OrderBody(userId, 900_000 + vu, Items([shop.ProductIds[0]]))),
            };
            if (mine.Count > 0)
            {
                // The same coupon twice at the same time.
                attempts.Add(http.Send("double use", HttpMethod.Post, "/orders", OrderBody(userId, mine[0], Items([shop.ProductIds[0], shop.ProductIds[1]]))));
                attempts.Add(http.Send("double use", HttpMethod.Post, "/orders", OrderBody(userId, mine[0], Items([shop.ProductIds[0], shop.ProductIds[1]]))));
            }
            else
            {
                attempts.Add(http.Send("no coupon", HttpMethod.Post, "/orders", OrderBody(userId, null, Items([shop.ProductIds[0]]))));
            }

            foreach (var (status, _) in await Task.WhenAll(attempts))
            {
                lock (statuses)
                {
                    statuses.Add(status);
                }
            }
        }));

        statuses.ShouldAllBe(s => s == HttpStatusCode.BadRequest || s == HttpStatusCode.Conflict);
        await using var session = Store.QuerySession();
        (await session.Query<Order>().CountAsync(Ct)).ShouldBe(0);
        (await Store.Reload(shop.ProductIds[0])).Stock.ShouldBe(1_000_000);
        await Host.ShouldPassAudit();
    }
}
