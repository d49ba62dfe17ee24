using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Platform.Hosting;

/// <summary>
/// The API as a real process, SIGKILLed in the middle of paid orders, coupon claims and flash-sale purchases, then
/// started again: requests in flight may fail, but every 201 is in the database exactly once, nothing is taken twice,
/// and the audit is clean once the system has settled by itself (issue 11, recovery 4). The process has a schema of
/// its own, so the shared test host takes no part. Its background passes run more often than by default (stock
/// reconciler 1 s, coupon gate reconciler 2 s with a 10 s admission grace, claims without a message published again after
/// 3 s, Wolverine heartbeat 2 s, a node stale after 6 s) so that the settling fits in a test; what settles is the same.
/// </summary>
public sealed class ApiProcessKillTests(AppFixture app) : IntegrationContext(app)
{
    private const string Schema = "exbuy_killed";
    private const int Users = 120;
    private const int Coupons = 60;
    private const int FlashStock = 80;

    private sealed record Call(string Kind, long UserId, string Key, string Url, string? Json)
    {
        public int Status { get; set; } = -1; // -1: no answer (the process died under it)

        public string Body { get; set; } = "";
    }

    private Dictionary<string, string> Settings(string instance)
    {
        var (postgres, redis, redlock) = App.ConnectionStrings;
        return new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = postgres,
            ["ConnectionStrings:Redis"] = redis,
            ["ConnectionStrings:RedlockNodes"] = redlock,
            ["ExBuy:DatabaseSchema"] = Schema,
            ["ExBuy:InstanceId"] = instance,
            ["ExBuy:Profile"] = "local",
            ["ExBuy:DataDirectory"] = Path.Combine(App.DataDirectory, "killed"),
            ["ExBuy:Stock:ReconcileIntervalMs"] = "1000",
            ["ExBuy:Coupons:ReconcileIntervalSeconds"] = "2",
            ["ExBuy:Coupons:AdmissionGraceSeconds"] = "10",
            ["ExBuy:Coupons:RecoveryIntervalSeconds"] = "1",
            ["ExBuy:Coupons:RecoverAfterSeconds"] = "3",
            ["ExBuy:Nodes:HeartbeatSeconds"] = "2",
            ["ExBuy:Nodes:StaleAfterSeconds"] = "6",
        };
    }

    private static async Task Send(HttpClient http, Call call)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, call.Url);
        if (call.Json is not null)
        {
            message.Content = new StringContent(call.Json, Encoding.UTF8, "application/json");
        }

        if (call.Kind == "order")
        {
            message.Headers.Add("Idempotency-Key", call.Key);
        }

        using var response = await http.SendAsync(message);
        call.Body = await response.Content.ReadAsStringAsync();
        call.Status = (int)response.StatusCode;
    }

    private static async Task<JsonNode> Post(HttpClient http, string url, string json)
    {
        using var response = await http.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.ShouldBeTrue($"{url}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    private static async Task<JsonNode> Get(HttpClient http, string url) => JsonNode.Parse(await http.GetStringAsync(url))!;

    private async Task<long> Count(string sql)
    {
        await using var command = Host.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>
    /// Starts the API process on a fresh schema and runs <paramref name="scenario"/> with it, a client of its port and a
    /// way to start its successor on the same port; stops both and drops the schema whatever happens.
    /// </summary>
    private async Task KillAndRestartAsync(Func<ApiProcess, HttpClient, Func<Task>, Task> scenario)
    {
        await App.DropSchemaAsync(Schema);
        var port = ApiProcess.FreePort();
        var first = await ApiProcess.StartAsync("killed", Settings("killed-1"), port);
        ApiProcess? second = null;
        try
        {
            using var http = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            await scenario(first, http, async () => second = await ApiProcess.StartAsync("killed", Settings("killed-2"), port));
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }

            await App.DropSchemaAsync(Schema);
        }
    }

    [Fact]
    public async Task a_killed_api_process_loses_nothing_it_answered_201_and_the_audit_settles_clean()
    {
        await KillAndRestartAsync(async (first, http, restart) =>
        {
            var shop = await Post(http, "/init", $$"""{"userCount":{{Users}},"couponQuantity":{{Coupons}},"policyCount":1}""");
            var policy = shop["policyIds"]![0]!.GetValue<long>();
            var firstUser = shop["userIds"]![0]!.GetValue<long>();
            var products = shop["productIds"]!.AsArray().Select(p => p!.GetValue<long>()).ToList();
            var flash = (await Post(http, "/api/flash-sales", $$"""{"name":"Kill sale","stock":{{FlashStock}},"price":"10.00"}"""))["product_id"]!.GetValue<long>();
            await Task.WhenAll(Enumerable.Range(0, Users).Select(i => Post(http, $"/users/{firstUser + i}/balance", """{"amount":10000}""")));

            // 24 clients, 5 users each: paid orders (each with its Idempotency-Key), one claim per user, flash purchases.
            var calls = new ConcurrentQueue<Call>();
            var answered201 = 0;
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 24).Select(async w =>
            {
                for (var round = 0; !stop.IsCancellationRequested; round++)
                {
                    var user = firstUser + (w * 5) + (round / 3 % 5);
                    var call = (round % 3) switch
                    {
                        0 => new Call("order", user, Guid.NewGuid().ToString(), "/orders",
                            $$"""{"userId":{{user}},"couponId":null,"items":[{"productId":{{products[round % products.Count]}},"quantity":1}]}"""),
                        1 => new Call("claim", user, "", $"/coupons?userId={user}&policyId={policy}", null),
                        _ => new Call("flash", user, "", $"/api/flash-sales/{flash}/purchase?lock_type=atomic", $$"""{"user_id":{{user}}}"""),
                    };
                    calls.Enqueue(call);
                    try
                    {
                        await Send(http, call);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        return; // the process is gone
                    }

                    if (call.Status == 201)
                    {
                        Interlocked.Increment(ref answered201);
                    }
                }
            }).ToList();

            var watch = Stopwatch.StartNew();
            await Eventually.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref answered201) >= 100 || watch.Elapsed > TimeSpan.FromSeconds(15)), TimeSpan.FromSeconds(60), "traffic");
            await first.KillAsync(); // mid-run: two dozen requests in flight
            stop.Cancel();
            await Task.WhenAll(clients);
            var unanswered = calls.Where(c => c.Status == -1).ToList();
            TimingLog.Note($"API process SIGKILLed after {watch.ElapsedMilliseconds} ms: {calls.Count} requests, {calls.Count(c => c.Status == 201)} answered 201, {unanswered.Count} unanswered");
            unanswered.ShouldNotBeEmpty("the kill should catch requests in flight");

            await restart();

            // A client whose paid order got no answer sends it again with the same key: it is placed once in all. (A
            // 409 "another order of this user is being placed" lasts until the dead process's user lock expires.)
            foreach (var call in unanswered.Where(c => c.Kind == "order"))
            {
                await Eventually.WaitUntilAsync(async () =>
                {
                    await Send(http, call);
                    return call.Status != 409;
                }, TimeSpan.FromSeconds(90), "the retried paid order answered");
                call.Status.ShouldBe(201, call.Body);
            }

            var settle = Stopwatch.StartNew();
            var lastAudit = "";
            await Eventually.WaitUntilAsync(async () =>
            {
                var audit = await Get(http, "/api/audit");
                lastAudit = audit.ToJsonString();
                return audit["ok"]!.GetValue<bool>();
            }, TimeSpan.FromSeconds(90), "a clean audit after the kill");
            var claimed = calls.Where(c => c.Kind == "claim" && c.Status == 201).Select(c => c.UserId).ToList();
            await Eventually.WaitUntilAsync(async () =>
            {
                foreach (var user in claimed)
                {
                    if ((await Get(http, $"/users/{user}/coupons")).AsArray().Count != 1)
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(90), "every claim answered 201 issued as a coupon");
            TimingLog.Note($"settled {settle.ElapsedMilliseconds} ms after the restart; {claimed.Count} claims answered 201");

            // Paid orders: each key answered 201 is exactly one stored order, with what its answer said.
            var placed = calls.Where(c => c.Kind == "order" && c.Status == 201).ToList();
            var orderIds = placed.Select(c => JsonNode.Parse(c.Body)!["orderId"]!.GetValue<long>()).ToList();
            orderIds.Distinct().Count().ShouldBe(placed.Count);
            foreach (var (call, id) in placed.Zip(orderIds))
            {
                var order = await Get(http, $"/api/orders/{id}");
                order["user_id"]!.GetValue<long>().ShouldBe(call.UserId);
                order["total_price"]!.GetValue<string>().ShouldBe("2000.00");
            }

            (await Count($"select count(*) from {Schema}.mt_doc_order where (data ->> 'Paid')::boolean")).ShouldBe(placed.Count, "no paid order stored twice or without its 201");

            // Coupons: never more than the quantity, at most one per user, one for every 201.
            (await Count($"select count(*) from {Schema}.mt_doc_coupon")).ShouldBeLessThanOrEqualTo(Coupons);
            (await Count($"select count(*) from {Schema}.mt_doc_coupon")).ShouldBeGreaterThanOrEqualTo(claimed.Count);

            // Flash sale: nothing sold twice, no 201 without its sale.
            var stock = await Get(http, $"/api/flash-sales/{flash}/stock");
            var sold = stock["sold"]!.GetValue<long>();
            sold.ShouldBeGreaterThanOrEqualTo(calls.Count(c => c.Kind == "flash" && c.Status == 201));
            sold.ShouldBeLessThanOrEqualTo(calls.Count(c => c.Kind == "flash" && c.Status is 201 or -1));
            stock["db_stock"]!.GetValue<int>().ShouldBeInRange(0, FlashStock - (int)sold + (int)stock["returned"]!.GetValue<long>());
            stock["oversold"]!.GetValue<long>().ShouldBe(0);

            var audit = await Get(http, "/api/audit");
            audit["ok"]!.GetValue<bool>().ShouldBeTrue(audit.ToJsonString());
        });
    }

    /// <summary>
    /// The window the coupon queue's recovery exists for, held open: claims answered 201 (their rows committed) whose
    /// messages are still in the process's memory when it is killed, because issuance is held back by a lock on the
    /// policy's counter row. The next process publishes them again from their rows and issues each once.
    /// </summary>
    [Fact]
    public async Task claims_whose_messages_died_with_their_process_are_issued_by_the_next_one()
    {
        const int claimants = 20, quantity = 10;
        await KillAndRestartAsync(async (first, http, restart) =>
        {
            var shop = await Post(http, "/init", $$"""{"userCount":{{claimants}},"couponQuantity":{{quantity}},"policyCount":1}""");
            var policy = shop["policyIds"]![0]!.GetValue<long>();
            var firstUser = shop["userIds"]![0]!.GetValue<long>();
            var users = Enumerable.Range(0, claimants).Select(i => firstUser + i).ToList();

            await using var counter = await HeldRow.LockAsync(Host.Services.GetRequiredService<NpgsqlDataSource>(), $"{Schema}.coupon_policy_stock", "policy_id", policy, Ct);

            var calls = users.Select(u => new Call("claim", u, "", $"/coupons?userId={u}&policyId={policy}", null)).ToList();
            await Task.WhenAll(calls.Select(c => Send(http, c)));
            var claimed = calls.Where(c => c.Status == 201).Select(c => c.UserId).ToList();
            claimed.Count.ShouldBe(quantity, string.Join(", ", calls.Select(c => c.Status)));
            calls.Where(c => c.Status != 201).ShouldAllBe(c => c.Status == 409);
            (await Count($"select count(*) from {Schema}.coupon_claims where status = 'accepted'")).ShouldBe(quantity);
            (await Count($"select count(*) from {Schema}.mt_doc_coupon")).ShouldBe(0, "issuance waits for the counter row");

            await first.KillAsync();
            await counter.ReleaseAsync();
            await restart();

            var settle = Stopwatch.StartNew();
            await Eventually.WaitUntilAsync(async () =>
                await Count($"select count(*) from {Schema}.coupon_claims where status = 'accepted'") == 0, TimeSpan.FromSeconds(90), "the accepted claims settled");
            TimingLog.Note($"claims of a killed process settled {settle.ElapsedMilliseconds} ms after the restart");

            foreach (var user in claimed)
            {
                (await Get(http, $"/users/{user}/coupons")).AsArray().Count.ShouldBe(1, $"user {user} was answered 201");
            }

            (await Count($"select count(*) from {Schema}.mt_doc_coupon")).ShouldBe(quantity);
            (await Count($"select count(*) from {Schema}.coupon_claims where status = 'issued'")).ShouldBe(quantity);
            var audit = await Get(http, "/api/audit");
            audit["ok"]!.GetValue<bool>().ShouldBeTrue(audit.ToJsonString());
        });
    }
}
