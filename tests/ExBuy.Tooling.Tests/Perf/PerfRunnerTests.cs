using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// The perf runner (perf/runner, what `./exbuy perf` runs) on k6 outputs written here: the history line it appends,
/// the reports it writes, its help, the k6 commands it would run, and a whole run through a stand-in k6 that writes a
/// recorded point stream and summary (no load is generated: these machines run no load tests).
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

    private static (int Exit, string Output) Python(params string[] args) => PythonWith(new Dictionary<string, string>(), args);

    private static (int Exit, string Output) PythonWith(IDictionary<string, string> env, params string[] args)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }

    private static string Point(string metric, double value, string time, string name, string? check = null, string? status = null)
    {
        var tags = new JsonObject { ["name"] = name };
        if (check is not null)
        {
            tags["check"] = check;
        }

        if (status is not null)
        {
            tags["status"] = status;
        }

        return new JsonObject
        {
            ["type"] = "Point",
            ["metric"] = metric,
            ["data"] = new JsonObject { ["time"] = time, ["value"] = value, ["tags"] = tags },
        }.ToJsonString();
    }

    private static string At(double seconds) => new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero).AddSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'");

    private string Summarize(string scenario, IEnumerable<string> points, string summary, bool auditOk, string history, string system = "ExBuy", string k6Exit = "0")
    {
        File.WriteAllLines(Path.Combine(dir, "points.json"), points);
        File.WriteAllText(Path.Combine(dir, "summary.json"), summary);
        File.WriteAllText(Path.Combine(dir, "audit.json"), auditOk ? """{"ok":true}""" : """{"ok":false}""");
        File.WriteAllLines(Path.Combine(dir, "rss.kb"), ["409600", "512000", "460800"]);
        var (exit, output) = Python(
            Runner("summarize.py"), Path.Combine(dir, "points.json"), "--scenario", scenario, "--lock-type", "atomic", "--vus", "10",
            "--duration", "2s", "--base-url", "http://localhost:8080", "--audit", Path.Combine(dir, "audit.json"), "--k6-exit", k6Exit,
            "--summary", Path.Combine(dir, "summary.json"), "--rss", Path.Combine(dir, "rss.kb"), "--env", "STOCK=100",
            "--system", system, "--label", $"{system} label", "--history", history);
        return exit + "\n" + output;
    }

    private static readonly string[] TwoPurchases =
    [
        Point("http_req_duration", 10, "2026-11-23T10:00:00.000000+00:00", "1_purchase"),
        Point("http_req_duration", 30, "2026-11-23T10:00:01.000000+00:00", "1_purchase"),
    ];

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
              "flash_sale_stock_db": {"value": 0, "min": 0, "max": 0},
              "http_reqs": {"count": 4, "rate": 2},
              "vus_max": {"value": 7, "min": 7, "max": 7},
              "iterations": {"count": 3, "rate": 1.5},
              "http_req_duration{name:1_purchase}": {"p(99)": 30, "thresholds": {"p(99)<100": false}},
              "checks": {"value": 1, "passes": 2, "fails": 0, "thresholds": {"rate==1.0": true}}
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
        line["gauges"]!["flash_sale_stock_db"]!.GetValue<int>().ShouldBe(0);
        line["counters"]!.AsObject().ContainsKey("http_reqs").ShouldBeFalse("k6's own metrics are not the scenario's counters");
        line["thresholds_failed"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["checks: rate==1.0"]);
        line["thresholds"]!["http_req_duration{name:1_purchase}: p(99)<100"]!.GetValue<bool>().ShouldBeFalse("met thresholds are kept too");
        line["vus"]!.GetValue<int>().ShouldBe(7, "what k6 ran (vus_max), not only what was asked");
        line["vus_requested"]!.GetValue<int>().ShouldBe(10);
        line["iterations"]!.GetValue<int>().ShouldBe(3, "k6's iterations, for statements per iteration");
        line["measured_from"]!.GetValue<string>().ShouldStartWith("2026-11-23T10:00:00");
        line["measured_to"]!.GetValue<string>().ShouldStartWith("2026-11-23T10:00:02");
        line["api_rss_mb_max"]!.GetValue<double>().ShouldBe(500);
        line["env"]!["STOCK"]!.GetValue<string>().ShouldBe("100");
        line["audit_ok"]!.GetValue<bool>().ShouldBeTrue();
        line["system"]!.GetValue<string>().ShouldBe("ExBuy");
        line["label"]!.GetValue<string>().ShouldBe("ExBuy label");
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
        line["checks"]!["audit ok"]!["failed"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public void the_point_stream_is_kept_as_a_per_second_series_and_latency_by_status()
    {
        var history = Path.Combine(dir, "history.jsonl");
        // Second 0: two sales (201) at 10 and 20 ms; second 1: three sold-out answers (409) at 1, 2, 3 ms and an HTTP
        // error; second 2: nothing measured (a gap); second 3: one 409 at 300 ms. k6 reports 5, 8 and 8 VUs.
        string[] points =
        [
            Point("http_req_duration", 99, At(-5), "0_setup_flash_sale", status: "201"),
            Point("vus", 5, At(0), "?"),
            Point("http_req_duration", 10, At(0.1), "1_purchase", status: "201"),
            Point("http_req_duration", 20, At(0.9), "1_purchase", status: "201"),
            Point("vus", 8, At(1), "?"),
            Point("http_req_duration", 1, At(1.2), "1_purchase", status: "409"),
            Point("http_req_duration", 2, At(1.3), "1_purchase", status: "409"),
            Point("http_req_duration", 3, At(1.4), "1_purchase", status: "409"),
            Point("http_req_failed", 1, At(1.4), "1_purchase"),
            Point("vus", 8, At(2), "?"),
            Point("http_req_duration", 300, At(3.1), "1_purchase", status: "409"),
        ];

        Summarize("flash-sale", points, """{"metrics":{}}""", auditOk: true, history).ShouldStartWith("0\n");

        var line = JsonNode.Parse(File.ReadAllLines(history).Single())!;
        var series = line["series"]!;
        series["t"]!.AsArray().Select(t => t!.GetValue<int>()).ShouldBe([0, 1, 2, 3], "seconds from the first measured request; set-up is before it");
        series["requests"]!.AsArray().Select(n => n!.GetValue<int>()).ShouldBe([2, 3, 0, 1]);
        series["p95_ms"]![0]!.GetValue<double>().ShouldBe(20);
        series["p95_ms"]![1]!.GetValue<double>().ShouldBe(3);
        series["p95_ms"]![2].ShouldBeNull("a second without requests is a gap, not 0 ms");
        series["p95_ms"]![3]!.GetValue<double>().ShouldBe(300);
        series["failed"]!.AsArray().Select(n => n!.GetValue<int>()).ShouldBe([0, 1, 0, 0]);
        series["vus"]!.AsArray().Select(n => n?.GetValue<int>()).ShouldBe([5, 8, 8, null]);
        series["p95_ms_by_step"]!["1_purchase"]![1]!.GetValue<double>().ShouldBe(3);

        var byStatus = line["steps"]!["1_purchase"]!["by_status"]!;
        byStatus["201"]!["requests"]!.GetValue<int>().ShouldBe(2);
        byStatus["201"]!["p95_ms"]!.GetValue<double>().ShouldBe(20);
        byStatus["409"]!["requests"]!.GetValue<int>().ShouldBe(4);
        byStatus["409"]!["p50_ms"]!.GetValue<double>().ShouldBe(2);
        line["by_status"]!["409"]!["p99_ms"]!.GetValue<double>().ShouldBe(300);
    }

    [Fact]
    public void compare_picks_history_lines_and_writes_markdown_and_an_html_report_with_axes_thresholds_and_verdicts()
    {
        var history = Path.Combine(dir, "history.jsonl");
        Summarize("flash-sale", TwoPurchases, """{"metrics":{}}""", auditOk: true, history);
        Summarize("coupon-rush", TwoPurchases, """{"metrics":{}}""", auditOk: false, history);
        var html = Path.Combine(dir, "report.html");
        var markdown = Path.Combine(dir, "report.md");

        var (exit, output) = Python(Runner("compare.py"), history, "--runs", "2,1", "--html", html, "--markdown", markdown);

        exit.ShouldBe(0, output);
        var table = File.ReadAllText(markdown);
        table.IndexOf("| #2 |", StringComparison.Ordinal).ShouldBeLessThan(table.IndexOf("| #1 |", StringComparison.Ordinal), "in the order asked for");
        table.ShouldContain("audit VIOLATIONS");
        table.ShouldContain("| 1_purchase | 30 (30) | 30 (30) |");
        var report = File.ReadAllText(html);
        report.ShouldContain("coupon-rush");
        report.ShouldContain("""<div class="card bad"><div class="mark">FAIL</div>""");
        report.ShouldContain("""<div class="card ok"><div class="mark">PASS</div>""");
        report.ShouldContain("Latency over time");
        report.ShouldContain("""class="axis""", Case.Sensitive);
        report.ShouldContain("""class="grid""", Case.Sensitive);
        report.ShouldContain("SLA 200 ms");

        var (missingExit, missing) = Python(Runner("compare.py"), history, "--runs", "9");
        missingExit.ShouldNotBe(0);
        missing.ShouldContain("no recorded run 9");
    }

    [Fact]
    public void a_run_whose_k6_exited_99_is_a_failure_even_with_every_check_and_the_audit_green()
    {
        var history = Path.Combine(dir, "history.jsonl");
        // Recorded before the runner kept k6's summary: exit 99 and no threshold named.
        Summarize("read-heavy", TwoPurchases, """{"metrics":{}}""", auditOk: true, history, k6Exit: "99").ShouldStartWith("0\n");
        Summarize("read-heavy", TwoPurchases, """{"metrics":{}}""", auditOk: true, history, k6Exit: "0");
        var markdown = Path.Combine(dir, "report.md");
        var html = Path.Combine(dir, "report.html");

        var (exit, output) = Python(Runner("compare.py"), history, "--runs", "1,2", "--html", html, "--markdown", markdown, "--quiet");

        exit.ShouldBe(0, output);
        var table = File.ReadAllLines(markdown);
        table.ShouldContain(l => l.StartsWith("| #1 | k6 exit 99 (thresholds crossed) |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #2 | ok |", StringComparison.Ordinal));
        var report = File.ReadAllText(html);
        report.ShouldContain("""<tr class="bad"><td>#1</td>""");
        report.ShouldContain("""<tr class="ok"><td>#2</td>""");
    }

    [Fact]
    public void a_fault_run_passes_when_it_settled_with_a_clean_audit_whatever_failed_while_the_fault_lasted()
    {
        var history = Path.Combine(dir, "history.jsonl");
        Summarize("paid-orders", TwoPurchases, """{"metrics":{}}""", auditOk: true, history, k6Exit: "99");
        Summarize("paid-orders", TwoPurchases, """{"metrics":{}}""", auditOk: true, history, k6Exit: "99");
        Summarize("paid-orders", TwoPurchases, """{"metrics":{}}""", auditOk: false, history, k6Exit: "99");
        var lines = File.ReadAllLines(history).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!.AsObject()).ToList();
        double?[] settled = [0.4, null, 0.7];
        for (var i = 0; i < lines.Count; i++)
        {
            lines[i]["faults"] = System.Text.Json.Nodes.JsonNode.Parse("""[{"kind":"kill-api","at_s":10,"exit":0,"took_s":5.8}]""");
            lines[i]["settle_s"] = settled[i];
            lines[i]["settle_bound_s"] = 60;
            lines[i]["checks_failed"] = 1234;
            // Checked in PostgreSQL: a fault run whose answers were not verified does not pass (VerdictTests).
            lines[i]["accepted"] = System.Text.Json.Nodes.JsonNode.Parse("""{"verified":true,"kinds":{}}""");
        }

        File.WriteAllLines(history, lines.Select(l => l.ToJsonString()));
        var markdown = Path.Combine(dir, "report.md");
        var html = Path.Combine(dir, "report.html");

        var (exit, output) = Python(Runner("compare.py"), history, "--runs", "1,2,3", "--html", html, "--markdown", markdown, "--quiet");

        exit.ShouldBe(0, output);
        var table = File.ReadAllLines(markdown);
        table.ShouldContain(l => l.StartsWith("| #1 | ok |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #2 | did not settle within 60 s |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #3 | audit VIOLATIONS |", StringComparison.Ordinal));
        File.ReadAllText(html).ShouldContain("faults: kill-api at 10 s (took 5.8 s); settled with a clean audit in 0.4 s");
    }

    [Fact]
    public void compare_puts_two_systems_side_by_side_and_reads_the_reference_file_and_the_users_history()
    {
        var reference = Path.Combine(dir, "reference.jsonl");
        var history = Path.Combine(dir, "history.jsonl");
        Summarize("persona-a", TwoPurchases, """{"metrics":{}}""", auditOk: true, reference, system: "ExBuy");
        Summarize("persona-a", TwoPurchases, """{"metrics":{}}""", auditOk: true, history, system: "Django");
        Summarize("read-only", TwoPurchases, """{"metrics":{}}""", auditOk: true, history, system: "Spring");
        var markdown = Path.Combine(dir, "report.md");
        var html = Path.Combine(dir, "report.html");

        var (exit, output) = Python(Runner("perf.py"), "compare", "--scenario", "persona-a", "--system", "ExBuy,Django",
            "--reference", reference, "--history", history, "--html", html, "--markdown", markdown, "--quiet");

        exit.ShouldBe(0, output);
        var table = File.ReadAllText(markdown);
        table.ShouldContain("| #r1 | ExBuy | ExBuy label | persona-a |");
        table.ShouldContain("| #1 | Django | Django label | persona-a |");
        table.ShouldNotContain("Spring");
        File.ReadAllText(html).ShouldContain("<title>Django vs ExBuy perf: persona-a</title>");

        var (onlyPeer, peer) = Python(Runner("perf.py"), "compare", "--system", "django", "--reference", reference, "--history", history,
            "--html", html);
        onlyPeer.ShouldBe(0, peer);
        peer.ShouldContain("| #1 | Django |");
        peer.ShouldNotContain("| #r1 |");
    }

    [Fact]
    public void runs_of_one_scenario_at_several_commits_are_drawn_as_a_trend_line_per_load()
    {
        var history = Path.Combine(dir, "history.jsonl");
        static string Run(string commit, int hour, int vus, double p95) => new JsonObject
        {
            ["time"] = $"2026-11-23T{hour:00}:00:00+00:00", ["system"] = "ExBuy", ["scenario"] = "read-heavy", ["lock_type"] = "default",
            ["vus"] = vus, ["duration"] = "30s", ["commit"] = commit, ["req_per_s"] = 1000.0, ["p50_ms"] = 10.0, ["p95_ms"] = p95,
            ["p99_ms"] = p95 * 2, ["error_rate"] = 0.0, ["audit_ok"] = true, ["k6_exit"] = 0, ["checks_failed"] = 0, ["steps"] = new JsonObject(),
        }.ToJsonString();
        File.WriteAllLines(history, [Run("aaa1111", 10, 500, 300), Run("bbb2222", 11, 500, 250), Run("bbb2222", 11, 100, 15), Run("ccc3333", 12, 500, 150)]);
        var html = Path.Combine(dir, "report.html");

        var (exit, output) = Python(Runner("compare.py"), history, "--html", html, "--quiet");

        exit.ShouldBe(0, output);
        var report = File.ReadAllText(html);
        var trend = report[report.IndexOf("Trend across commits: p95 latency", StringComparison.Ordinal)..];
        trend = trend[..trend.IndexOf("</svg>", StringComparison.Ordinal)];
        trend.ShouldContain("ExBuy read-heavy default 500 VUs");
        trend.Split("<polyline").Length.ShouldBe(2, "one line: the three 500-VU runs; a single 100-VU run is not a trend");
        trend.ShouldContain(">aaa1111<");
        trend.ShouldContain(">ccc3333<");
    }

    [Fact]
    public void every_verb_and_option_has_help_with_defaults_and_examples()
    {
        var (topExit, top) = Python(Runner("perf.py"), "--help");
        topExit.ShouldBe(0, top);
        string[] scenarios = ["read-only", "read-heavy", "write-heavy", "mixed", "persona-a", "persona-b", "persona-c", "flash-sale", "coupon-rush", "paid-orders"];
        foreach (var scenario in scenarios)
        {
            top.ShouldContain(scenario);
            var (exit, help) = Python(Runner("perf.py"), scenario, "--help");
            exit.ShouldBe(0, help);
            help.ShouldContain("--vus N");
            help.ShouldContain("--warmup D");
            help.ShouldContain("EXBUY_K6");
            help.ShouldContain("examples:");
        }

        var (_, readHeavy) = Python(Runner("perf.py"), "read-heavy", "--help");
        readHeavy.ShouldContain("virtual users (default: 100)");
        var (_, persona) = Python(Runner("perf.py"), "persona-a", "--help");
        persona.ShouldContain("flow_300vus      ramp up 30s to 300 VUs, hold 2m");
        var (compareExit, compare) = Python(Runner("perf.py"), "compare", "--help");
        compareExit.ShouldBe(0, compare);
        compare.ShouldContain("--system NAME[,NAME]");
        compare.ShouldContain("examples:");
        var (matrixExit, matrix) = Python(Runner("perf.py"), "matrix", "--help");
        matrixExit.ShouldBe(0, matrix);
        matrix.ShouldContain("once for each lock_type");

        var (badExit, bad) = Python(Runner("perf.py"), "persona-a", "--lock-type", "row");
        badExit.ShouldBe(2);
        bad.ShouldContain("takes no --lock-type");
    }

    [Fact]
    public void faults_are_named_with_their_time_and_anything_else_is_refused()
    {
        var (_, help) = Python(Runner("perf.py"), "flash-sale", "--help");
        help.ShouldContain("--fault KIND@TIME");
        help.ShouldContain("--settle D");

        foreach (var good in new[] { "kill-api@20s", "restart-redis@1m", "restart-postgres@5s", "pause-redis:5@10s", "pause-redis-writes:7@10s", "stop-redlock:2:20@10s", "stop-redlock:3@0s" })
        {
            var (exit, output) = Python(Runner("perf.py"), "flash-sale", "--fault", good, "--dry-run", "--base-url", "http://localhost:1");
            exit.ShouldBe(0, $"{good}: {output}");
        }

        foreach (var bad in new[] { "kill-api", "kill-db@5s", "pause-redis@5s", "pause-redis-writes@5s", "stop-redlock:6@5s", "kill-api@soon" })
        {
            var (exit, output) = Python(Runner("perf.py"), "flash-sale", "--fault", bad, "--dry-run", "--base-url", "http://localhost:1");
            exit.ShouldBe(2, bad);
            output.ShouldContain("looks like kill-api@20s");
        }
    }

    [Fact]
    public void the_vus_asked_for_are_the_vus_k6_runs_in_every_shape_and_the_warm_up_stays_small()
    {
        var (exit, output) = Python(Runner("perf.py"), "persona-a", "--vus", "50", "--dry-run", "--base-url", "http://localhost:1");
        exit.ShouldBe(0, output);
        var lines = output.Split('\n');
        var run = lines.Single(l => l.StartsWith("run: ", StringComparison.Ordinal));
        var warmUp = lines.Single(l => l.StartsWith("warm-up: ", StringComparison.Ordinal));
        run.ShouldContain("-e MAX_VU=50 ");
        run.ShouldContain("-e SCENARIO=flow_100vus ");
        warmUp.ShouldContain("-e MAX_VU=20 ");

        var (_, iterations) = Python(Runner("perf.py"), "persona-a", "--shape", "flow_iterations", "--vus", "50", "--warmup", "0", "--dry-run",
            "--base-url", "http://localhost:1");
        iterations.ShouldContain("-e MAX_VU=50 ");
        iterations.ShouldContain("-e SCENARIO=flow_iterations ");
        iterations.ShouldNotContain("warm-up:");

        // The scripts take every shape's VUs from MAX_VU: no hard-coded count in a shape.
        var k6 = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Runner("perf.py")))!, "k6");
        foreach (var script in Directory.GetFiles(k6, "*.js", SearchOption.AllDirectories).Where(f => !f.EndsWith("defaults.js", StringComparison.Ordinal)))
        {
            File.ReadAllText(script).ShouldNotMatch(@"vus:\s*\d", $"{script} hard-codes a VU count");
        }
    }

    [Fact]
    public void k6s_newer_machine_readable_summary_export_is_read_as_the_classic_one()
    {
        // k6 >= 2.1 with --new-machine-readable-summary writes handleSummary's shape: values apart, thresholds as {ok}.
        var history = Path.Combine(dir, "history.jsonl");
        const string summary = """
            {"metrics": {
              "flash_sale_sold": {"type": "counter", "contains": "default", "values": {"count": 100, "rate": 5}},
              "flash_sale_stock_db": {"type": "gauge", "contains": "default", "values": {"value": 0, "min": 0, "max": 0}},
              "vus_max": {"type": "gauge", "contains": "default", "values": {"value": 7, "min": 7, "max": 7}},
              "iterations": {"type": "counter", "contains": "default", "values": {"count": 3, "rate": 1.5}},
              "http_req_duration{name:1_purchase}": {"type": "trend", "contains": "time", "values": {"p(99)": 30},
                "thresholds": {"p(99)<100": {"ok": true}}},
              "checks": {"type": "rate", "contains": "default", "values": {"rate": 0.5, "passes": 1, "fails": 1},
                "thresholds": {"rate==1.0": {"ok": false}}}
            }}
            """;

        Summarize("flash-sale", TwoPurchases, summary, auditOk: true, history).ShouldStartWith("0\n");

        var line = JsonNode.Parse(File.ReadAllLines(history).Single())!;
        line["thresholds_failed"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["checks: rate==1.0"]);
        line["thresholds"]!["http_req_duration{name:1_purchase}: p(99)<100"]!.GetValue<bool>().ShouldBeFalse();
        line["counters"]!["flash_sale_sold"]!.GetValue<int>().ShouldBe(100);
        line["gauges"]!["flash_sale_stock_db"]!.GetValue<int>().ShouldBe(0);
        line["vus"]!.GetValue<int>().ShouldBe(7);
        line["iterations"]!.GetValue<int>().ShouldBe(3);
    }

    [Fact]
    public void a_whole_run_through_a_stand_in_k6_records_what_ran_and_fails_on_k6s_exit_code()
    {
        // The stand-in copies a recorded stream and summary to where the runner asks and exits with a given code.
        var fakeK6 = Path.Combine(dir, "k6");
        File.WriteAllText(fakeK6, """
            #!/usr/bin/env python3
            import json, os, shutil, sys
            here = os.path.dirname(os.path.abspath(__file__))
            args = sys.argv[1:]
            if args == ["version"]:
                print("k6 v0.47.0 (go1.19.8, linux/amd64)")
                sys.exit(0)
            with open(os.path.join(here, "calls.log"), "a") as f:
                f.write(json.dumps(args) + "\n")
            if "--no-summary" in args:
                sys.exit(0)
            shutil.copy(os.path.join(here, "points.template"), next(a[5:] for a in args if a.startswith("json=")))
            shutil.copy(os.path.join(here, "summary.template"), args[args.index("--summary-export") + 1])
            sys.exit(int(open(os.path.join(here, "exit-code")).read()))
            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(fakeK6, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.WriteAllLines(Path.Combine(dir, "points.template"),
        [
            Point("http_req_duration", 12, At(0), "1_purchase", status: "201"),
            Point("http_req_duration", 250, At(1), "1_purchase", status: "409"),
        ]);
        File.WriteAllText(Path.Combine(dir, "summary.template"), """
            {"metrics": {"vus_max": {"value": 30, "min": 30, "max": 30},
              "http_req_duration{name:1_purchase}": {"thresholds": {"p(99)<100": true}}}}
            """);
        File.WriteAllText(Path.Combine(dir, "exit-code"), "99");
        // The audit is read from the base URL; a file:// URL stands in for the server.
        Directory.CreateDirectory(Path.Combine(dir, "site", "api"));
        File.WriteAllText(Path.Combine(dir, "site", "api", "audit"), """{"ok":true}""");
        var history = Path.Combine(dir, "history.jsonl");
        var report = Path.Combine(dir, "last.html");

        var (exit, output) = PythonWith(new Dictionary<string, string> { ["EXBUY_K6"] = fakeK6 },
            Runner("perf.py"), "flash-sale", "--vus", "30", "--lock-type", "row", "--warmup", "5s", "--base-url", $"file://{dir}/site",
            "--system", "Spring", "--label", "peer on 2 cores", "--history", history, "--report", report);

        exit.ShouldBe(99, output);
        output.ShouldContain("verdict: thresholds crossed: latency (http_req_duration{name:1_purchase}: p(99)<100)");
        var calls = File.ReadAllLines(Path.Combine(dir, "calls.log")).Select(l => JsonNode.Parse(l)!.AsArray().Select(a => a!.GetValue<string>()).ToList()).ToList();
        calls.Count.ShouldBe(2, "a warm-up, then the measured run");
        calls[0].ShouldContain("MAX_VU=20");
        calls[1].ShouldContain("MAX_VU=30");
        calls[1].ShouldContain("LOCK_TYPE=row");
        calls[1].ShouldContain("system=Spring");
        calls[1].ShouldContain("lock_type=row");
        calls[0].ShouldContain("--no-summary", "k6 v0.47 takes --no-summary (v1: --summary-mode=disabled)");
        var line = JsonNode.Parse(File.ReadAllLines(history).Single())!;
        line["k6_exit"]!.GetValue<int>().ShouldBe(99);
        line["vus"]!.GetValue<int>().ShouldBe(30);
        line["system"]!.GetValue<string>().ShouldBe("Spring");
        line["label"]!.GetValue<string>().ShouldBe("peer on 2 cores");
        line["k6_version"]!.GetValue<string>().ShouldBe("v0.47.0");
        line["shape"]!.GetValue<string>().ShouldBe("v1_stress");
        line["audit_ok"]!.GetValue<bool>().ShouldBeTrue();
        calls[1].ShouldContain($"testid={line["run_id"]!.GetValue<string>()}");
        line["series"]!["requests"]!.AsArray().Select(n => n!.GetValue<int>()).ShouldBe([1, 1]);
        File.ReadAllText(report).ShouldContain("""<div class="card bad"><div class="mark">FAIL</div>""");
    }

    [Theory]
    [InlineData("k6 v0.47.0 (go1.19.8, linux/amd64)", "v0.47.0", "--no-summary")]
    [InlineData("k6 v1.3.0 (go1.23.5, linux/amd64)", "v1.3.0", "--summary-mode=disabled")]
    [InlineData("k6 v2.2.0 (commit/devel, go1.26.10, linux/amd64)", "v2.2.0", "--summary-mode=disabled")]
    [InlineData("k6 (devel)", null, "--no-summary")]
    public void the_warm_up_uses_the_summary_flag_its_k6_version_knows_and_a_refused_warm_up_is_said(string reported, string? recorded, string flag)
    {
        // The stand-in refuses, as k6 does (exit 255, "unknown flag"), the spelling its version lacks: --summary-mode
        // before v0.52, --no-summary from v2.0 (a version it cannot tell is refused with v2's answer).
        var fakeK6 = Path.Combine(dir, "k6");
        File.WriteAllText(fakeK6, $$"""
            #!/usr/bin/env python3
            import json, os, shutil, sys
            here = os.path.dirname(os.path.abspath(__file__))
            args = sys.argv[1:]
            reported = {{JsonSerializer.Serialize(reported)}}
            if args == ["version"]:
                print(reported)
                sys.exit(0)
            with open(os.path.join(here, "calls.log"), "a") as f:
                f.write(json.dumps(args) + "\n")
            unknown = "--summary-mode=disabled" if "v0." in reported else "--no-summary" if "v1." not in reported else None
            if unknown in args:
                print('time="2026-12-08T03:11:23Z" level=error msg="unknown flag: ' + unknown.split("=")[0] + '"', file=sys.stderr)
                sys.exit(255)
            if "--summary-export" not in args:
                sys.exit(0)
            shutil.copy(os.path.join(here, "points.template"), next(a[5:] for a in args if a.startswith("json=")))
            with open(args[args.index("--summary-export") + 1], "w") as f:
                json.dump(dict(metrics=dict(vus_max=dict(value=5, min=5, max=5))), f)
            sys.exit(0)
            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(fakeK6, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.WriteAllLines(Path.Combine(dir, "points.template"), [Point("http_req_duration", 12, At(0), "1_purchase", status: "201")]);
        Directory.CreateDirectory(Path.Combine(dir, "site", "api"));
        File.WriteAllText(Path.Combine(dir, "site", "api", "audit"), """{"ok":true}""");
        var history = Path.Combine(dir, "history.jsonl");

        var (exit, output) = PythonWith(new Dictionary<string, string> { ["EXBUY_K6"] = fakeK6 },
            Runner("perf.py"), "flash-sale", "--vus", "5", "--warmup", "5s", "--base-url", $"file://{dir}/site",
            "--history", history, "--report", Path.Combine(dir, "last.html"));

        exit.ShouldBe(0, output);
        var warmUp = JsonNode.Parse(File.ReadLines(Path.Combine(dir, "calls.log")).First())!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        warmUp.ShouldContain(flag);
        warmUp.ShouldNotContain("--summary-export");
        if (recorded is null)
        {
            output.ShouldContain("warm-up FAILED (k6 exit 255: time=\"2026-12-08T03:11:23Z\" level=error msg=\"unknown flag: --no-summary\"); the measured run is not warmed");
        }
        else
        {
            output.ShouldNotContain("warm-up FAILED");
        }
        var line = JsonNode.Parse(File.ReadAllLines(history).Single())!;
        string? version = line["k6_version"]?.GetValue<string>();
        version.ShouldBe(recorded);
        line["k6_exit"]!.GetValue<int>().ShouldBe(0);
    }

    [Fact]
    public void the_grafana_dashboard_is_its_generators_output_with_variables_run_annotations_and_one_unit_per_axis()
    {
        var committed = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Runner("perf.py")))!, "observability", "grafana", "dashboards", "exbuy.json");
        var generated = Path.Combine(dir, "exbuy.json");

        var (exit, output) = Python(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(committed))!, "..", "make_dashboard.py"), generated);

        exit.ShouldBe(0, output);
        File.ReadAllText(generated).ShouldBe(File.ReadAllText(committed), "run perf/observability/make_dashboard.py after editing it");
        var dashboard = JsonNode.Parse(File.ReadAllText(generated))!;
        dashboard["templating"]!["list"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()).ShouldBe(["instance", "lock_type", "system", "testid"]);
        dashboard["annotations"]!["list"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()).ShouldContain("k6 runs");
        var memory = dashboard["panels"]!.AsArray().Single(p => p!["title"]!.GetValue<string>() == "API process: resident memory and CPU")!;
        memory["fieldConfig"]!["defaults"]!["unit"]!.GetValue<string>().ShouldBe("bytes");
        var cpu = memory["fieldConfig"]!["overrides"]!.AsArray().Single()!;
        cpu["matcher"]!["options"]!.GetValue<string>().ShouldBe("B");
        cpu["properties"]!.AsArray().Single(p => p!["id"]!.GetValue<string>() == "unit")!["value"]!.GetValue<string>().ShouldBe("none", "CPU cores are not bytes");
        foreach (var panel in dashboard["panels"]!.AsArray().Where(p => p!["type"]!.GetValue<string>() == "timeseries"))
        {
            var exprs = panel!["targets"]!.AsArray().Select(t => t!["expr"]!.GetValue<string>()).ToList();
            exprs.Where(e => !e.Contains("k6_", StringComparison.Ordinal)).ShouldAllBe(e => e.Contains("$instance", StringComparison.Ordinal), "API queries follow the instance variable");
            exprs.Where(e => e.Contains("k6_", StringComparison.Ordinal)).ShouldAllBe(e => e.Contains("$testid", StringComparison.Ordinal), "k6 queries follow the run variable");
        }
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
