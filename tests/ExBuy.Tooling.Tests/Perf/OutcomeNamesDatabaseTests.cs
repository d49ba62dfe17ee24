using System.Text.Json.Nodes;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;
using Wolverine.Tracking;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// perf/runner/accepted.py's outcome statements repeat what the server stores in Python: Marten's event type names in
/// <c>mt_events.type</c> (order_placed, stock_reserved, order_cancelled, balance_charged), its table names, the
/// <c>correlation_id</c> the request id is stored in, the claims table's <c>request_id</c>. <see cref="OutcomeDatabaseTests"/>
/// runs them on fixture rows written by hand; this holds them equal to the server: every writing route the runner
/// classifies is called through the API with its own <c>X-Request-Id</c>, and the runner must find each request's
/// primary record exactly once in the API's own schema. A name the server changed (an event type's alias, a column, a
/// table) makes a kind "lost" here.
/// </summary>
public sealed class OutcomeNamesDatabaseTests(AppFixture app) : IntegrationContext(app)
{
    private static string Url
    {
        get
        {
            var c = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? AppFixture.DefaultPostgres);
            return $"postgresql://{c.Username}:{c.Password}@{c.Host}:{c.Port}/{c.Database}";
        }
    }

    private (int Exit, JsonNode Result, string Summary) Verify(string snapshot, IEnumerable<string> answers)
    {
        var console = Path.Combine(Path.GetTempPath(), $"exbuy-outcome-names-{Guid.NewGuid():N}.log");
        try
        {
            File.WriteAllLines(console, answers.Select(a => RunnerProcess.ConsoleLine($"exbuy-answer {a}")));
            var (exit, output, error) = RunnerProcess.Python(
                RunnerProcess.Runner("accepted.py"), "verify", "--console", console, "--pg", Url, "--schema", Store.Options.DatabaseSchemaName,
                "--snapshot", snapshot, "--bound", "0");
            return (exit, JsonNode.Parse(output) ?? throw new InvalidOperationException(error), error);
        }
        finally
        {
            File.Delete(console);
        }
    }

    private static (string, string)[] RequestId(string id) => [("X-Request-Id", id)];

    [Fact]
    public async Task every_classified_write_the_api_stores_is_found_by_its_request_id_under_the_names_the_runner_uses()
    {
        var shop = await Host.InitShop("""{"userCount":2,"productCount":2,"policyCount":1,"couponQuantity":5}""");
        var user = shop.UserIds[0];
        var sale = await Host.SetUpFlashSale(10);
        var snap = RunnerProcess.Python(RunnerProcess.Runner("accepted.py"), "snapshot", "--pg", Url, "--schema", Store.Options.DatabaseSchemaName);
        snap.Exit.ShouldBe(0, snap.Error);

        var id = Guid.NewGuid().ToString("N")[..8];
        var order = (await Host.PostJson("/api/orders?lock_type=row", $$"""{"user_id":{{user}},"items":[{"product_id":{{shop.ProductIds[0]}},"quantity":1}]}""", 201,
            RequestId($"{id}-order")))["id"]!.GetValue<long>();
        await Host.PostJson($"/users/{user}/balance", """{"amount":100000}""", 201, RequestId($"{id}-charge"));
        var paid = (await Host.PostJson("/orders", $$"""{"userId":{{user}},"couponId":null,"items":[{"productId":{{shop.ProductIds[1]}},"quantity":1}]}""", 201,
            RequestId($"{id}-paid")))["orderId"]!.GetValue<long>();
        var purchase = (await Host.PostJson($"/api/flash-sales/{sale}/purchase", $$"""{"user_id":{{user}},"quantity":1}""", 201,
            RequestId($"{id}-purchase")))["purchase_id"]!.GetValue<string>();
        await Host.PostJson("/api/inventory/reserve?lock_type=atomic", $$"""{"product_id":{{sale}},"quantity":2}""", 200, RequestId($"{id}-reserve"));
        await Host.Scenario(s =>
        {
            s.Patch.RawJson("""{"status":"cancelled"}""").ToUrl($"/api/orders/{order}");
            s.WithRequestHeader("X-Request-Id", $"{id}-cancel");
            s.StatusCodeShouldBe(200);
        });
        await Host.ExecuteAndWaitAsync(async () => await Host.Scenario(s =>
        {
            HttpScenarios.WithQuery(s.Post.Url("/coupons"), $"/coupons?userId={user}&policyId={shop.PolicyIds[0]}");
            s.WithRequestHeader("X-Request-Id", $"{id}-claim");
            s.StatusCodeShouldBe(201);
        }), 30_000);

        string[] answers =
        [
            $"order {id}-order 201 1 {order}", $"charge {id}-charge 201 1", $"paid_order {id}-paid 201 1 {paid}",
            $"purchase {id}-purchase 201 1 {purchase}", $"reserve {id}-reserve 200 1", $"cancel {id}-cancel 200 1 {order}",
            $"claim {id}-claim 201 1",
        ];

        var found = Verify(snap.Output.Trim(), answers);

        found.Exit.ShouldBe(0, found.Summary + found.Result.ToJsonString());
        var outcomes = found.Result["outcomes"]!;
        outcomes["verified"]!.GetValue<bool>().ShouldBeTrue(outcomes.ToJsonString());
        foreach (var kind in new[] { "order", "charge", "paid_order", "purchase", "reserve", "cancel", "claim" })
        {
            var counts = outcomes["kinds"]![kind] ?? throw new ShouldAssertException($"no {kind} in {outcomes.ToJsonString()}");
            counts["stored_once"]!.GetValue<int>().ShouldBe(1, $"{kind}: {counts.ToJsonString()}");
            counts["lost"]!.GetValue<int>().ShouldBe(0, $"{kind}: {counts.ToJsonString()}");
        }

        // The same lookup finds nothing for a request the API never saw: the check can fail.
        var lost = Verify(snap.Output.Trim(), [.. answers, $"order {id}-never-sent 201 1"]);

        lost.Exit.ShouldBe(1, lost.Summary);
        lost.Result["outcomes"]!["kinds"]!["order"]!["lost"]!.GetValue<int>().ShouldBe(1);
    }
}
