using System.Diagnostics;
using System.Text.Json.Nodes;
using ExBuy.Features.Balance;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>Runs the perf runner's Python programs (perf/runner) as `./exbuy perf` does.</summary>
internal static class RunnerProcess
{
    public static string Runner(string script)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "ExBuy.sln")))
            {
                return Path.Combine(d.FullName, "perf", "runner", script);
            }
        }

        throw new InvalidOperationException("ExBuy.sln not found above the test binaries");
    }

    public static (int Exit, string Output, string Error) Python(params string[] args)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>A line as k6 v0.47 writes console.log to its --console-output file (logrus text, the message quoted).</summary>
    public static string ConsoleLine(string message) =>
        $"time=\"2026-11-24T11:27:08Z\" level=info msg=\"{message.Replace("\"", "\\\"", StringComparison.Ordinal)}\" source=console";
}

/// <summary>
/// What a run was told against what the database holds, in the history line, the verdict and the reports: an accepted
/// answer missing (or stored twice) fails the run, with or without faults; one stored whose answer no client saw does
/// not. And where a fault landed: during the sale, or after its last unit.
/// </summary>
public sealed class AcceptedAnswersReportTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-accepted-").FullName;

    private static string Point(double seconds, string status) => new JsonObject
    {
        ["type"] = "Point",
        ["metric"] = "http_req_duration",
        ["data"] = new JsonObject
        {
            ["time"] = new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero).AddSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'"),
            ["value"] = 5,
            ["tags"] = new JsonObject { ["name"] = "1_purchase", ["status"] = status },
        },
    }.ToJsonString();

    private static readonly string[] Sales = [Point(0.1, "201"), Point(1.1, "201"), Point(2.1, "201"), Point(3.1, "409"), Point(4.1, "409")];

    private int Summarize(string history, string accepted)
    {
        var points = Path.Combine(dir, "points.json");
        File.WriteAllLines(points, Sales);
        File.WriteAllText(Path.Combine(dir, "audit.json"), """{"ok":true}""");
        File.WriteAllText(Path.Combine(dir, "accepted.json"), accepted);
        var (exit, output, error) = RunnerProcess.Python(
            RunnerProcess.Runner("summarize.py"), points, "--scenario", "paid-orders", "--lock-type", "atomic", "--vus", "10", "--duration", "5s",
            "--base-url", "http://localhost:8080", "--audit", Path.Combine(dir, "audit.json"), "--k6-exit", "0", "--history", history,
            "--accepted", Path.Combine(dir, "accepted.json"));
        output.ShouldContain("accepted: ", customMessage: error);
        return exit;
    }

    private static string Accepted(string kind, int accepted, int verified, int missing, int duplicated, int stored, int notAnswered, string examples = "") =>
        new JsonObject
        {
            ["verified"] = true,
            ["waited_s"] = 0.1,
            ["kinds"] = new JsonObject
            {
                [kind] = new JsonObject
                {
                    ["answers"] = accepted, ["accepted"] = accepted, ["verified"] = verified, ["missing"] = missing, ["duplicated"] = duplicated,
                    ["without_id"] = 0, ["stored"] = stored, ["stored_not_answered"] = notAnswered,
                    ["examples"] = examples.Length == 0 ? new JsonArray() : new JsonArray(examples),
                },
            },
        }.ToJsonString();

    [Fact]
    public void an_accepted_answer_missing_or_stored_twice_fails_the_run_and_one_whose_answer_was_lost_does_not()
    {
        var history = Path.Combine(dir, "history.jsonl");
        Summarize(history, Accepted("paid_order", 1000, 1000, 0, 0, 1000, 0)).ShouldBe(0);
        Summarize(history, Accepted("paid_order", 1000, 999, 1, 0, 999, 0, "5123")).ShouldBe(1, "a lost accepted id fails the run");
        Summarize(history, Accepted("claim", 500, 500, 0, 0, 503, 3)).ShouldBe(0, "stored but never answered (a killed API) is allowed");
        Summarize(history, Accepted("paid_order", 10, 9, 0, 1, 10, 0, "77")).ShouldBe(1, "two debits for one paid order fail the run");
        var markdown = Path.Combine(dir, "report.md");
        var html = Path.Combine(dir, "report.html");

        var (exit, output, error) = RunnerProcess.Python(RunnerProcess.Runner("compare.py"), history, "--runs", "1,2,3,4", "--html", html, "--markdown", markdown, "--quiet");

        exit.ShouldBe(0, output + error);
        var table = File.ReadAllLines(markdown);
        table.ShouldContain(l => l.StartsWith("| #1 | ok |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #2 | 1 accepted paid_order LOST (5123) |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #3 | ok |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #4 | 1 accepted paid_order stored TWICE |", StringComparison.Ordinal));
        table.ShouldContain("| #1 |  |  | paid_order: 1,000 accepted, 1,000 found once, 1,000 stored |");
        table.ShouldContain("| #3 |  |  | claim: 500 accepted, 500 found once, 503 stored (3 stored but answer lost) |");
        var report = File.ReadAllText(html);
        report.ShouldContain("Accepted answers against the database");
        report.ShouldContain("lost, e.g. 5123");
        report.ShouldContain("""<div class="card bad"><div class="mark">FAIL</div><div><div class="who">#2""");
    }

    [Fact]
    public void a_fault_run_that_settled_clean_still_fails_when_an_accepted_answer_is_lost_and_says_where_the_fault_landed()
    {
        var history = Path.Combine(dir, "history.jsonl");
        Summarize(history, Accepted("purchase", 3, 3, 0, 0, 3, 0));
        Summarize(history, Accepted("purchase", 3, 2, 1, 0, 2, 0, "01a20d4f-2c80-7250-83ea-655f87060a7e"));
        Summarize(history, Accepted("purchase", 3, 3, 0, 0, 3, 0));
        var lines = File.ReadAllLines(history).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var start = lines[0]["series"]!["start_epoch"]!.GetValue<long>();
        lines[0]["series"]!["created"]!.AsArray().Select(n => n!.GetValue<int>()).ShouldBe([1, 1, 1, 0, 0], "201 answers per second");
        // The first two faults began 1.5 s into the sale (one unit sold before, two after); the third after the last sale.
        double[] at = [start + 1.5, start + 1.5, start + 3.2];
        for (var i = 0; i < lines.Count; i++)
        {
            lines[i]["scenario"] = "flash-sale";
            lines[i]["faults"] = JsonNode.Parse($$"""[{"kind":"kill-api","at_s":10,"at_epoch":{{at[i]}},"exit":0,"took_s":5.8}]""");
            lines[i]["settle_s"] = 0.4;
            lines[i]["settle_bound_s"] = 60;
            lines[i]["checks_failed"] = 17;
        }

        File.WriteAllLines(history, lines.Select(l => l.ToJsonString()));
        var code = """
            import json, sys
            sys.path.insert(0, sys.argv[1])
            from summarize import fault_landing
            lines = [json.loads(l) for l in open(sys.argv[2])]
            for line in lines:
                fault_landing(line)
            open(sys.argv[2], "w").write("".join(json.dumps(l) + "\n" for l in lines))
            """;
        RunnerProcess.Python("-c", code, Path.GetDirectoryName(RunnerProcess.Runner("summarize.py"))!, history).Exit.ShouldBe(0);
        var markdown = Path.Combine(dir, "report.md");

        var (exit, output, error) = RunnerProcess.Python(RunnerProcess.Runner("compare.py"), history, "--runs", "1,2,3", "--html", Path.Combine(dir, "r.html"), "--markdown", markdown, "--quiet");

        exit.ShouldBe(0, output + error);
        var table = File.ReadAllLines(markdown);
        table.ShouldContain(l => l.StartsWith("| #1 | ok |", StringComparison.Ordinal), "settled, clean, nothing lost: failed checks during the fault are expected");
        table.ShouldContain(l => l.StartsWith("| #2 | 1 accepted purchase LOST (01a20d4f-2c80-7250-83ea-655f87060a7e) |", StringComparison.Ordinal));
        table.ShouldContain(l => l.Contains("kill-api@10s: landed at t=1 s while units were still being sold (1 sold before it, 2 after)", StringComparison.Ordinal));
        table.ShouldContain(l => l.Contains("kill-api@10s: landed at t=3 s AFTER the last unit was sold (3 sold before it)", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}

/// <summary>
/// perf/runner/accepted.py against the real test PostgreSQL: each accepted answer a run recorded (in k6's console
/// format) is looked up — an order, a paid order with its one debit, a flash-sale purchase, a claim with its coupon — and
/// one the database does not have is reported as lost, one it has twice as stored twice.
/// </summary>
public sealed class AcceptedAnswersDatabaseTests(AppFixture app) : IntegrationContext(app)
{
    private static string Url
    {
        get
        {
            var c = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? AppFixture.DefaultPostgres);
            return $"postgresql://{c.Username}:{c.Password}@{c.Host}:{c.Port}/{c.Database}";
        }
    }

    private string Schema => Store.Options.DatabaseSchemaName;

    private (int Exit, JsonNode Result, string Summary) Verify(string console, string snapshot, params string[] records)
    {
        File.WriteAllLines(console, records.Select(r => RunnerProcess.ConsoleLine($"exbuy-accepted {r}")).Prepend(RunnerProcess.ConsoleLine("flash sale stock: {\"sold\":1}")));
        var (exit, output, error) = RunnerProcess.Python(
            RunnerProcess.Runner("accepted.py"), "verify", "--console", console, "--pg", Url, "--schema", Schema, "--snapshot", snapshot, "--bound", "0");
        return (exit, JsonNode.Parse(output) ?? throw new InvalidOperationException(error), error);
    }

    private static void ShouldBe(JsonNode kind, int accepted, int verified, int missing, int duplicated)
    {
        kind["accepted"]!.GetValue<int>().ShouldBe(accepted, kind.ToJsonString());
        kind["verified"]!.GetValue<int>().ShouldBe(verified, kind.ToJsonString());
        kind["missing"]!.GetValue<int>().ShouldBe(missing, kind.ToJsonString());
        kind["duplicated"]!.GetValue<int>().ShouldBe(duplicated, kind.ToJsonString());
    }

    [Fact]
    public async Task every_recorded_accepted_answer_is_found_once_in_postgresql_and_a_lost_or_doubled_one_is_reported()
    {
        var shop = await Host.InitShop("""{"userCount":3,"productCount":2,"policyCount":1,"couponQuantity":5}""");
        var (first, second) = (shop.UserIds[0], shop.UserIds[0] + 1);
        var snap = RunnerProcess.Python(RunnerProcess.Runner("accepted.py"), "snapshot", "--pg", Url, "--schema", Schema);
        snap.Exit.ShouldBe(0, snap.Error);
        var product = await Store.AddProduct(stock: 10);
        var order = (await Host.PlaceOrder(first, $$"""[{"product_id":{{product.Id}},"quantity":1}]"""))["id"]!.GetValue<long>();
        await Host.PlaceOrder(first, $$"""[{"product_id":{{product.Id}},"quantity":1}]"""); // stored, its answer "lost"
        await Host.Charge(first, 100_000);
        var paid = (await Host.PostJson("/orders", $$"""{"userId":{{first}},"couponId":null,"items":[{"productId":{{shop.ProductIds[0]}},"quantity":1}]}""", 201))["orderId"]!.GetValue<long>();
        var sale = await Host.SetUpFlashSale(5);
        var purchase = (await Host.PostJson($"/api/flash-sales/{sale}/purchase", """{"user_id":1,"quantity":1}""", 201))["purchase_id"]!.GetValue<string>();
        (await Host.ClaimAndWait(first, shop.PolicyIds[0])).ShouldBe(201);
        var console = Path.Combine(Path.GetTempPath(), $"exbuy-accepted-{Guid.NewGuid():N}.log");
        try
        {
            string[] told = [$"order {order}", $"paid_order {paid}", $"purchase {purchase}", $"claim {shop.PolicyIds[0]}:{first}"];

            var clean = Verify(console, snap.Output.Trim(), told);

            clean.Exit.ShouldBe(0, clean.Summary);
            var kinds = clean.Result["kinds"]!;
            ShouldBe(kinds["order"]!, 1, 1, 0, 0);
            kinds["order"]!["stored"]!.GetValue<int>().ShouldBe(2);
            kinds["order"]!["stored_not_answered"]!.GetValue<int>().ShouldBe(1, "the second order was stored, and no answer recorded for it");
            ShouldBe(kinds["paid_order"]!, 1, 1, 0, 0);
            ShouldBe(kinds["purchase"]!, 1, 1, 0, 0);
            ShouldBe(kinds["claim"]!, 1, 1, 0, 0);

            var lost = Verify(console, snap.Output.Trim(),
                [.. told, "order 999999999", $"purchase {Guid.CreateVersion7()}", $"claim {shop.PolicyIds[0]}:{second}", "paid_order ?"]);

            lost.Exit.ShouldBe(1, lost.Summary);
            kinds = lost.Result["kinds"]!;
            ShouldBe(kinds["order"]!, 2, 1, 1, 0);
            kinds["order"]!["examples"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["999999999"]);
            ShouldBe(kinds["purchase"]!, 2, 1, 1, 0);
            ShouldBe(kinds["claim"]!, 2, 1, 1, 0);
            kinds["paid_order"]!["without_id"]!.GetValue<int>().ShouldBe(1, "a 201 without its id cannot be checked: reported");

            // A second debit for the paid order: the one-debit-per-paid-order check must see it.
            await using (var session = Store.LightweightSession())
            {
                session.Events.Append($"balance-{first}", new BalanceDebited(first, 1m, paid, DateTimeOffset.UtcNow));
                await session.SaveChangesAsync(Ct);
            }

            var doubled = Verify(console, snap.Output.Trim(), told);

            doubled.Exit.ShouldBe(1, doubled.Summary);
            ShouldBe(doubled.Result["kinds"]!["paid_order"]!, 1, 0, 0, 1);
        }
        finally
        {
            File.Delete(console);
        }
    }
}
