using System.Diagnostics;
using System.Text.Json.Nodes;
using Shouldly;

namespace ExBuy.Tests.Perf;

/// <summary>
/// The perf runner's Python half, run as `./exbuy perf` runs it, on a k6 point stream and summary written here:
/// the history line it appends and the reports it writes.
/// </summary>
public sealed class PerfRunnerTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-perf-").FullName;

    private static string Runner(string script)
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

    private static (int Exit, string Output) Python(params string[] args)
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
        return (process.ExitCode, output.Result + error.Result);
    }

    private static string Point(string metric, double value, string time, string name, string? check = null) =>
        new JsonObject
        {
            ["type"] = "Point",
            ["metric"] = metric,
            ["data"] = new JsonObject
            {
                ["time"] = time,
                ["value"] = value,
                ["tags"] = check is null ? new JsonObject { ["name"] = name } : new JsonObject { ["name"] = name, ["check"] = check },
            },
        }.ToJsonString();

    private string Summarize(string scenario, IEnumerable<string> points, string summary, bool auditOk, string history)
    {
        File.WriteAllLines(Path.Combine(dir, "points.json"), points);
        File.WriteAllText(Path.Combine(dir, "summary.json"), summary);
        File.WriteAllText(Path.Combine(dir, "audit.json"), auditOk ? """{"ok":true}""" : """{"ok":false}""");
        File.WriteAllLines(Path.Combine(dir, "rss.kb"), ["409600", "512000", "460800"]);
        var (exit, output) = Python(
            Runner("summarize.py"), Path.Combine(dir, "points.json"), "--scenario", scenario, "--lock-type", "atomic", "--vus", "10",
            "--duration", "2s", "--base-url", "http://localhost:8080", "--audit", Path.Combine(dir, "audit.json"), "--k6-exit", "0",
            "--summary", Path.Combine(dir, "summary.json"), "--rss", Path.Combine(dir, "rss.kb"), "--env", "STOCK=100",
            "--history", history);
        return exit + "\n" + output;
    }

    [Fact]
    public void a_run_becomes_one_history_line_with_steps_counters_thresholds_and_memory()
    {
        var history = Path.Combine(dir, "history.jsonl");
        string[] points =
        [
            Point("http_req_duration", 40, "2026-11-23T10:00:00.000000+00:00", "0_setup_flash_sale"),
            Point("http_req_duration", 10, "2026-11-23T10:00:00.000000+00:00", "1_purchase"),
            Point("http_req_duration", 20, "2026-11-23T10:00:01.000000+00:00", "1_purchase"),
            Point("http_req_duration", 30, "2026-11-23T10:00:02.000000+00:00", "1_purchase"),
            Point("http_req_failed", 1, "2026-11-23T10:00:02.000000+00:00", "1_purchase"),
            Point("http_req_duration", 50, "2026-11-23T10:00:02.000000+00:00", "99_audit"),
            Point("checks", 1, "2026-11-23T10:00:02.000000+00:00", "1_purchase", "1_purchase 201/409"),
            Point("checks", 1, "2026-11-23T10:00:02.000000+00:00", "99_audit", "audit ok"),
        ];
        const string summary = """
            {"metrics": {
              "flash_sale_sold": {"count": 100, "rate": 5},
              "http_reqs": {"count": 4, "rate": 2},
              "http_req_duration{name:1_purchase}": {"p(99)": 30, "thresholds": {"p(99)<100": false}},
              "checks": {"value": 1, "thresholds": {"rate==1.0": true}}
            }}
            """;

        var result = Summarize("flash-sale", points, summary, auditOk: true, history);

        // Crossed thresholds are listed; failing the run on them is k6's exit code's job in the runner.
        result.ShouldStartWith("0\n", customMessage: result);
        var line = JsonNode.Parse(File.ReadAllLines(history).Single())!;
        line["scenario"]!.GetValue<string>().ShouldBe("flash-sale");
        line["requests"]!.GetValue<int>().ShouldBe(3, "set-up and audit requests are not measured");
        line["req_per_s"]!.GetValue<double>().ShouldBe(1.5);
        line["steps"]!["1_purchase"]!["failed"]!.GetValue<int>().ShouldBe(1);
        line["steps"]!["1_purchase"]!["p50_ms"]!.GetValue<double>().ShouldBe(20);
        line["steps"]!["99_audit"]!["req_per_s"].ShouldBeNull();
        line["counters"]!["flash_sale_sold"]!.GetValue<int>().ShouldBe(100);
        line["counters"]!.AsObject().ContainsKey("http_reqs").ShouldBeFalse("k6's own metrics are not the scenario's counters");
        line["thresholds_failed"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["checks: rate==1.0"]);
        line["api_rss_mb_max"]!.GetValue<double>().ShouldBe(500);
        line["env"]!["STOCK"]!.GetValue<string>().ShouldBe("100");
        line["audit_ok"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public void a_failed_audit_in_the_suites_own_teardown_fails_the_run_even_if_the_later_audit_passes()
    {
        var history = Path.Combine(dir, "history.jsonl");
        string[] points =
        [
            Point("http_req_duration", 10, "2026-11-23T10:00:00.000000+00:00", "1_purchase"),
            Point("http_req_duration", 12, "2026-11-23T10:00:01.000000+00:00", "1_purchase"),
            Point("checks", 0, "2026-11-23T10:00:01.000000+00:00", "99_audit", "audit ok"),
        ];

        var result = Summarize("flash-sale", points, """{"metrics":{}}""", auditOk: true, history);

        result.ShouldStartWith("1\n");
        var line = JsonNode.Parse(File.ReadAllLines(history).Single())!;
        line["audit_ok"]!.GetValue<bool>().ShouldBeFalse();
        line["checks_failed"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public void compare_picks_history_lines_and_writes_markdown_and_an_html_report_with_charts()
    {
        var history = Path.Combine(dir, "history.jsonl");
        string[] points =
        [
            Point("http_req_duration", 10, "2026-11-23T10:00:00.000000+00:00", "1_purchase"),
            Point("http_req_duration", 30, "2026-11-23T10:00:01.000000+00:00", "1_purchase"),
        ];
        Summarize("flash-sale", points, """{"metrics":{}}""", auditOk: true, history);
        Summarize("coupon-rush", points, """{"metrics":{}}""", auditOk: false, history);
        var html = Path.Combine(dir, "report.html");
        var markdown = Path.Combine(dir, "report.md");

        var (exit, output) = Python(Runner("compare.py"), history, "--runs", "2,1", "--html", html, "--markdown", markdown);

        exit.ShouldBe(0, output);
        var table = File.ReadAllText(markdown);
        table.IndexOf("| #2 |", StringComparison.Ordinal).ShouldBeLessThan(table.IndexOf("| #1 |", StringComparison.Ordinal), "in the order asked for");
        table.ShouldContain("audit VIOLATIONS");
        table.ShouldContain("| 1_purchase | 30 (30) | 30 (30) |");
        var report = File.ReadAllText(html);
        report.Split("<svg").Length.ShouldBe(7, "percentiles, throughput, p95, p99, throughput and errors per step");
        report.ShouldContain("coupon-rush");

        var (missingExit, missing) = Python(Runner("compare.py"), history, "--runs", "9");
        missingExit.ShouldNotBe(0);
        missing.ShouldContain("no history line 9");
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
