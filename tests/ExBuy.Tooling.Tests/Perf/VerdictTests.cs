using System.Text.Json.Nodes;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// The verdict tells the truth (perf/runner/report.py judge): a matrix fails when a safe strategy failed and shows
/// lock_type=none as "unsafe, as expected", never as a pass; a fault run is judged on its consistency checks after
/// settling, not on what failed while the fault lasted; answers that could not be checked are "not verified", not
/// clean; a crossed k6 threshold is named by its kind. Recorded k6 outputs only (a stand-in k6): no load is generated.
/// </summary>
public sealed class VerdictTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-verdict-").FullName;

    private static string Point(string metric, double value, double seconds, string name, string? check = null, string? status = null, bool consistency = false)
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

        if (consistency)
        {
            tags["exbuy_check"] = "consistency";
        }

        return new JsonObject
        {
            ["type"] = "Point",
            ["metric"] = metric,
            ["data"] = new JsonObject
            {
                ["time"] = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero).AddSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'"),
                ["value"] = value,
                ["tags"] = tags,
            },
        }.ToJsonString();
    }

    /// <summary>A flash sale's stream: two purchases, the in-flight check of each, the teardown's consistency checks.</summary>
    private static string[] Sale(bool inFlightOk, bool consistent) =>
    [
        Point("http_req_duration", 10, 0.1, "1_purchase", status: "201"),
        Point("http_req_duration", 12, 1.1, "1_purchase", status: inFlightOk ? "409" : "503"),
        Point("checks", 1, 0.1, "1_purchase", "1_purchase 201/409"),
        Point("checks", inFlightOk ? 1 : 0, 1.1, "1_purchase", "1_purchase 201/409"),
        Point("checks", consistent ? 1 : 0, 2, "99_stock", "nothing oversold", consistency: true),
        Point("checks", consistent ? 1 : 0, 2, "99_stock", "stock consistent (DB = initial - sold, Redis = DB)", consistency: true),
    ];

    private int Summarize(string history, string[] points, bool auditOk, string k6Exit = "0", string summary = """{"metrics":{}}""", string scenario = "flash-sale", string lockType = "atomic")
    {
        File.WriteAllLines(Path.Combine(dir, "points.json"), points);
        File.WriteAllText(Path.Combine(dir, "summary.json"), summary);
        File.WriteAllText(Path.Combine(dir, "audit.json"), auditOk ? """{"ok":true}""" : """{"ok":false}""");
        var (exit, output, error) = RunnerProcess.Python(
            RunnerProcess.Runner("summarize.py"), Path.Combine(dir, "points.json"), "--scenario", scenario, "--lock-type", lockType, "--vus", "10",
            "--duration", "2s", "--base-url", "http://localhost:8080", "--audit", Path.Combine(dir, "audit.json"), "--k6-exit", k6Exit,
            "--summary", Path.Combine(dir, "summary.json"), "--history", history);
        output.ShouldContain("history: ", customMessage: error);
        return exit;
    }

    private static List<JsonObject> Lines(string history) => File.ReadAllLines(history).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private (string[] Table, string Html) Compare(string history, string runs)
    {
        var markdown = Path.Combine(dir, "report.md");
        var html = Path.Combine(dir, "report.html");
        var (exit, output, error) = RunnerProcess.Python(RunnerProcess.Runner("compare.py"), history, "--runs", runs, "--html", html, "--markdown", markdown, "--quiet");
        exit.ShouldBe(0, output + error);
        return (File.ReadAllLines(markdown), File.ReadAllText(html));
    }

    private static readonly JsonNode Verified = JsonNode.Parse("""
        {"verified": true, "waited_s": 0.1, "kinds": {"purchase": {"answers": 1, "accepted": 1, "verified": 1, "missing": 0, "duplicated": 0,
         "without_id": 0, "stored": 1, "stored_not_answered": 0, "examples": []}},
         "outcomes": {"verified": true, "kinds": {"purchase": {"answers": 2, "requests": 2, "stored_once": 1, "unchanged": 0, "lost": 0, "twice": 0,
         "lied": 0, "refused": 1, "no_answer_stored": 0, "no_answer_not_stored": 0, "examples": {}}}}}
        """)!;

    private static void Fault(JsonObject line, JsonNode? accepted)
    {
        line["faults"] = JsonNode.Parse("""[{"kind":"kill-api","at_s":10,"exit":0,"took_s":5.8}]""");
        line["settle_s"] = 1.2;
        line["settle_bound_s"] = 60;
        line["accepted"] = accepted?.DeepClone();
    }

    /// <summary>
    /// A stand-in k6 for a matrix: per LOCK_TYPE it copies that strategy's recorded stream and summary, writes the
    /// audit the runner will read afterwards (a file:// base URL stands in for the server) and exits with its code.
    /// </summary>
    private string StandInK6()
    {
        var fake = Path.Combine(dir, "k6");
        File.WriteAllText(fake, """
            #!/usr/bin/env python3
            import os, shutil, sys
            here = os.path.dirname(os.path.abspath(__file__))
            args = sys.argv[1:]
            lock = next(a.split("=", 1)[1] for a in args if a.startswith("LOCK_TYPE="))
            def own(name):
                path = os.path.join(here, f"{name}.{lock}")
                return path if os.path.exists(path) else os.path.join(here, name)
            shutil.copy(own("points"), next(a[5:] for a in args if a.startswith("json=")))
            shutil.copy(own("summary"), args[args.index("--summary-export") + 1])
            shutil.copy(own("audit"), os.path.join(here, "site", "api", "audit"))
            sys.exit(int(open(own("exit")).read()))
            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.CreateDirectory(Path.Combine(dir, "site", "api"));
        File.WriteAllLines(Path.Combine(dir, "points"), Sale(inFlightOk: true, consistent: true));
        File.WriteAllText(Path.Combine(dir, "summary"), """{"metrics":{"vus_max":{"value":10,"max":10}}}""");
        File.WriteAllText(Path.Combine(dir, "audit"), """{"ok":true}""");
        File.WriteAllText(Path.Combine(dir, "exit"), "0");
        return fake;
    }

    /// <summary>The recorded run of one strategy that oversold: its consistency checks failed, the audit too, k6 exited 99.</summary>
    private void Oversold(string lockType)
    {
        File.WriteAllLines(Path.Combine(dir, $"points.{lockType}"), Sale(inFlightOk: true, consistent: false));
        File.WriteAllText(Path.Combine(dir, $"summary.{lockType}"), """{"metrics":{"checks":{"value":0.6,"thresholds":{"rate==1.0":true}}}}""");
        File.WriteAllText(Path.Combine(dir, $"audit.{lockType}"), """{"ok":false,"violations":["stock_matches_ledger"]}""");
        File.WriteAllText(Path.Combine(dir, $"exit.{lockType}"), "99");
    }

    private (int Exit, string Output) Matrix(string fake, string name)
    {
        var start = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { RunnerProcess.Runner("perf.py"), "matrix", "flash-sale", "--warmup", "0", "--base-url", $"file://{dir}/site",
                     "--history", Path.Combine(dir, $"{name}.jsonl"), "--report", Path.Combine(dir, $"{name}.html") })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["EXBUY_K6"] = fake;
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }

    [Fact]
    public void a_matrix_fails_when_a_safe_strategy_oversold_and_shows_none_as_unsafe_as_expected_never_as_a_pass()
    {
        var fake = StandInK6();
        Oversold("none");
        Oversold("pessimistic");

        var (failedExit, failed) = Matrix(fake, "one-safe-oversold");

        failedExit.ShouldBe(1, failed);
        failed.ShouldContain("matrix verdicts:");
        failed.ShouldContain("  optimistic   PASS\n");
        failed.ShouldContain("  pessimistic  FAIL: audit VIOLATIONS");
        failed.ShouldContain("  none         unsafe, as expected");
        failed.ShouldContain("matrix: FAILED (pessimistic)");
        var table = File.ReadAllLines(Path.Combine(dir, "one-safe-oversold.md"));
        table.ShouldContain(l => l.Contains("| unsafe, as expected (audit VIOLATIONS", StringComparison.Ordinal));
        table.ShouldNotContain(l => l.Contains("| ok |", StringComparison.Ordinal) && l.Contains("none", StringComparison.Ordinal));
        File.ReadAllText(Path.Combine(dir, "one-safe-oversold.html")).ShouldContain("""<div class="card warn"><div class="mark">UNSAFE</div>""");

        // Only none oversold: the matrix passes, none still shown as unsafe.
        File.Delete(Path.Combine(dir, "points.pessimistic"));
        File.Delete(Path.Combine(dir, "summary.pessimistic"));
        File.Delete(Path.Combine(dir, "audit.pessimistic"));
        File.Delete(Path.Combine(dir, "exit.pessimistic"));

        var (passedExit, passed) = Matrix(fake, "only-none-oversold");

        passedExit.ShouldBe(0, passed);
        passed.ShouldContain("  none         unsafe, as expected");
        passed.ShouldContain("matrix: every strategy passed; none unsafe, as expected");

        // none's run itself broke (a k6 script error): its own rule fails the matrix.
        File.WriteAllText(Path.Combine(dir, "exit.none"), "107");

        var (brokenExit, broken) = Matrix(fake, "none-broke");

        brokenExit.ShouldBe(1, broken);
        broken.ShouldContain("  none         FAIL: k6 exit 107 (script exception)");
    }

    [Fact]
    public void a_fault_run_fails_when_a_consistency_check_fails_after_settling_and_reports_availability_apart_from_correctness()
    {
        var history = Path.Combine(dir, "history.jsonl");
        Summarize(history, Sale(inFlightOk: false, consistent: true), auditOk: true, k6Exit: "99");
        Summarize(history, Sale(inFlightOk: false, consistent: false), auditOk: true, k6Exit: "99");
        var lines = Lines(history);
        lines[0]["consistency_checks"]!.AsArray().Select(n => n!.GetValue<string>())
            .ShouldBe(["nothing oversold", "stock consistent (DB = initial - sold, Redis = DB)"], "the checks the suite tagged");
        foreach (var line in lines)
        {
            Fault(line, Verified);
        }

        File.WriteAllLines(history, lines.Select(l => l.ToJsonString()));

        var (table, html) = Compare(history, "1,2");

        table.ShouldContain(l => l.StartsWith("| #1 | ok |", StringComparison.Ordinal), "the in-flight check failed during the fault: availability, not judged");
        table.ShouldContain(l => l.StartsWith("| #2 | consistency check failed after settling: nothing oversold, stock consistent", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #1 | 1 failed in-flight checks (1_purchase 201/409: 1) | settled, audit clean, consistency checks held (2), accepted answers verified |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #2 | 1 failed in-flight checks (1_purchase 201/409: 1) | settled, audit clean, consistency checks FAILED: nothing oversold", StringComparison.Ordinal));
        html.ShouldContain("availability during the fault: 1 failed in-flight checks");
        html.ShouldContain("correctness after settling: settled, audit clean, consistency checks FAILED: nothing oversold");
        html.ShouldContain("""<div class="card bad"><div class="mark">FAIL</div><div><div class="who">#2""");
    }

    [Fact]
    public void the_recorded_kill_api_coupon_rushes_whose_claims_were_not_all_coupons_at_teardown_are_failures()
    {
        var perf = Path.GetDirectoryName(Path.GetDirectoryName(RunnerProcess.Runner("perf.py")))!;
        var markdown = Path.Combine(dir, "reference.md");
        var empty = Path.Combine(dir, "none.jsonl");
        File.WriteAllText(empty, "");

        var (exit, output, error) = RunnerProcess.Python(RunnerProcess.Runner("perf.py"), "compare", "--runs", "r234,r239", "--reference",
            Path.Combine(perf, "results", "reference.jsonl"), "--history", empty, "--html", Path.Combine(dir, "reference.html"), "--markdown", markdown, "--quiet");

        exit.ShouldBe(0, output + error);
        var table = File.ReadAllLines(markdown);
        foreach (var run in new[] { "r234", "r239" })
        {
            table.ShouldContain(l => l.StartsWith($"| #{run} | consistency check failed after settling: coupons consistent", StringComparison.Ordinal)
                                     && l.Contains("every admitted claim became a coupon", StringComparison.Ordinal), run);
        }
    }

    [Fact]
    public void answers_that_could_not_be_checked_are_not_verified_and_a_fault_run_that_is_not_verified_does_not_pass()
    {
        var history = Path.Combine(dir, "history.jsonl");
        for (var i = 0; i < 4; i++)
        {
            Summarize(history, Sale(inFlightOk: true, consistent: true), auditOk: true);
        }

        var noDatabase = JsonNode.Parse("""
            {"verified": false, "reason": "no database to check against", "kinds": {"purchase": {"answers": 3, "accepted": 3}},
             "outcomes": {"verified": false, "reason": "no database to check against", "kinds": {},
                          "unverified": {"purchase": {"answers": 5, "requests": 5, "ok": 3, "failed": 2, "no_answer": 0}}}}
            """)!;
        var noRequestIds = Verified.DeepClone();
        noRequestIds["outcomes"] = JsonNode.Parse("""
            {"verified": false, "reason": "the server stores no request ids (mt_events.correlation_id missing in schema exbuy)", "kinds": {},
             "unverified": {"purchase": {"answers": 2, "requests": 2, "ok": 1, "failed": 1, "no_answer": 0}}}
            """);
        var lines = Lines(history);
        lines[0]["accepted"] = noDatabase.DeepClone();
        lines[1]["accepted"] = noRequestIds.DeepClone();
        Fault(lines[2], noDatabase);
        Fault(lines[3], Verified);
        File.WriteAllLines(history, lines.Select(l => l.ToJsonString()));

        var (table, html) = Compare(history, "1,2,3,4");

        table.ShouldContain(l => l.StartsWith("| #1 | not verified: accepted answers NOT verified: no database to check against |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #2 | not verified: outcomes NOT verified: the server stores no request ids", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #3 | not verified: accepted answers NOT verified", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #4 | ok |", StringComparison.Ordinal));
        html.ShouldContain("""<div class="card warn"><div class="mark">NOT VERIFIED</div><div><div class="who">#3""");
        html.ShouldNotContain("""<div class="card ok"><div class="mark">PASS</div><div><div class="who">#3""");

        // The runner's exit code: a fault run that is not verified fails; a plain one says so and exits 0.
        var code = """
            import json, sys
            sys.path.insert(0, sys.argv[1])
            from perf import exit_code
            from report import judge
            lines = [json.loads(l) for l in open(sys.argv[2])]
            print(" ".join(f"{judge(l)[0]}={exit_code(judge(l)[0], l)}" for l in lines))
            """;
        var (exit, output, error) = RunnerProcess.Python("-c", code, Path.GetDirectoryName(RunnerProcess.Runner("perf.py"))!, history);
        exit.ShouldBe(0, error);
        output.Trim().ShouldBe("not verified=0 not verified=0 not verified=1 pass=0");
    }

    [Fact]
    public void a_crossed_threshold_is_named_by_kind_latency_checks_or_counter()
    {
        var history = Path.Combine(dir, "history.jsonl");
        const string summary = """
            {"metrics": {
              "http_req_duration{name:1_purchase}": {"p(99)": 130, "thresholds": {"p(99)<100": true}},
              "checks": {"value": 0.5, "passes": 1, "fails": 1, "thresholds": {"rate==1.0": true}},
              "flash_sale_sold": {"count": 99, "rate": 1, "thresholds": {"count==100": true}},
              "coupon_admitted": {"count": 1, "rate": 1, "thresholds": {"count<=5": false}}
            }}
            """;
        Summarize(history, Sale(inFlightOk: false, consistent: true), auditOk: true, k6Exit: "99", summary: summary);
        Summarize(history, Sale(inFlightOk: true, consistent: true), auditOk: true, k6Exit: "99",
            summary: """{"metrics": {"flash_sale_sold": {"count": 99, "thresholds": {"count==100": true}}}}""");

        var (table, html) = Compare(history, "1,2");

        table.ShouldContain(l => l.StartsWith("| #1 | 1 failed checks, thresholds crossed: latency (http_req_duration{name:1_purchase}: p(99)<100); "
                                              + "checks (checks: rate==1.0); counter (flash_sale_sold: count==100) |", StringComparison.Ordinal));
        table.ShouldContain(l => l.StartsWith("| #2 | thresholds crossed: counter (flash_sale_sold: count==100) |", StringComparison.Ordinal),
            "exit 99 with every check green: a correctness counter, not latency");
        html.ShouldContain("thresholds crossed: counter (flash_sale_sold: count==100)");
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
