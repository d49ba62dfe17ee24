using System.Diagnostics;
using System.Text.Json.Nodes;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// Capacity under an SLO (perf/runner/capacity.py, `./exbuy perf capacity` and `perf matrix --capacity`): the SLO
/// grammar, the search fed step results written here, a step's verdict, and whole searches through a stand-in k6 whose
/// latency grows with the arrival rate it is given (no load is generated: these machines run no load tests).
/// </summary>
public sealed class CapacityTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-capacity-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string RunnerDir => Repo.PathOf("perf", "runner");

    private static (int Exit, string Output) Run(IDictionary<string, string>? env, params string[] args)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }

    /// <summary>Runs a Python snippet with perf/runner importable; its last stdout line is JSON.</summary>
    private static JsonNode Py(string code)
    {
        var (exit, output) = Run(null, "-c", $"import sys, json\nsys.path.insert(0, '{RunnerDir}')\nimport capacity, report\n{code}");
        exit.ShouldBe(0, output);
        return JsonNode.Parse(output.TrimEnd().Split('\n')[^1])!;
    }

    private static List<int> Rates(JsonNode found) => found["steps"]!.AsArray().Select(s => s!["rate"]!.GetValue<int>()).ToList();

    [Fact]
    public void the_slo_takes_percentile_bounds_in_ms_or_s_comma_separated()
    {
        var terms = Py("print(json.dumps(capacity.parse_slo('p95<50ms, p99<0.2s,p50<10ms')))").AsArray();

        terms.Select(t => t!["percentile"]!.GetValue<int>()).ShouldBe([95, 99, 50]);
        terms.Select(t => t!["below_ms"]!.GetValue<double>()).ShouldBe([50, 200, 10]);
        terms.Select(t => t!["text"]!.GetValue<string>()).ShouldBe(["p95<50ms", "p99<200ms", "p50<10ms"]);
    }

    [Theory]
    [InlineData("p90<50ms")]
    [InlineData("p95<50")]
    [InlineData("p95>50ms")]
    [InlineData("p95<0ms")]
    [InlineData("p95<50ms,,p99<100ms")]
    [InlineData("p95<50ms,p95<60ms")]
    [InlineData("")]
    public void a_bad_slo_is_refused_with_what_to_write_and_exit_2_before_anything_runs(string slo)
    {
        var (exit, output) = Run(null, Path.Combine(RunnerDir, "perf.py"), "capacity", "read-heavy", "--slo", slo, "--base-url", "http://127.0.0.1:9");

        exit.ShouldBe(2, output);
        output.ShouldContain("argument --slo:");
        output.ShouldNotContain("capacity step");
    }

    [Fact]
    public void other_unusable_options_exit_2_with_the_reason()
    {
        var perf = Path.Combine(RunnerDir, "perf.py");
        var (exit, output) = Run(null, perf, "capacity", "read-heavy", "--slo", "p95<50ms", "--start", "500", "--max", "100", "--base-url", "http://127.0.0.1:9");
        exit.ShouldBe(2, output);
        output.ShouldContain("--start 500 is above --max 100");

        (exit, output) = Run(null, perf, "capacity", "flash-sale", "--slo", "p99<100ms", "--start", "5", "--step-duration", "10s", "--base-url", "http://127.0.0.1:9");
        exit.ShouldBe(2, output);
        output.ShouldContain("could not sell out");

        (exit, output) = Run(null, perf, "capacity", "coupon-rush", "--slo", "p95<50ms", "--lock-type", "row", "--base-url", "http://127.0.0.1:9");
        exit.ShouldBe(2, output);
        output.ShouldContain("coupon-rush takes no --lock-type");

        (exit, output) = Run(null, perf, "matrix", "flash-sale", "--slo", "p95<50ms", "--base-url", "http://127.0.0.1:9");
        exit.ShouldBe(2, output);
        output.ShouldContain("--slo goes with --capacity");
    }

    [Fact]
    public void the_search_ramps_geometrically_until_a_step_fails_then_bisects_to_the_knee()
    {
        // A system that meets the SLO up to 420 iterations/s.
        var found = Py("print(json.dumps(capacity.search(lambda r: {'rate': r, 'ok': r <= 420}, 100, 5000, 2, 10, 0.1)))");

        found["knee"]!.GetValue<int>().ShouldBe(400);
        Rates(found).ShouldBe([100, 200, 400, 800, 600, 500, 450, 425]);
        found["stopped"]!.GetValue<string>().ShouldBe("bracketed: 400/s passes, 425/s fails (within 10%)");
    }

    [Fact]
    public void the_search_stops_at_max_at_its_step_budget_and_goes_down_when_the_start_fails()
    {
        var atMax = Py("print(json.dumps(capacity.search(lambda r: {'rate': r, 'ok': True}, 100, 700, 2, 10, 0.1)))");
        atMax["knee"]!.GetValue<int>().ShouldBe(700);
        Rates(atMax).ShouldBe([100, 200, 400, 700]);
        atMax["stopped"]!.GetValue<string>().ShouldBe("reached --max 700/s without a failing step");

        var budget = Py("print(json.dumps(capacity.search(lambda r: {'rate': r, 'ok': r <= 420}, 100, 5000, 2, 5, 0.1)))");
        budget["knee"]!.GetValue<int>().ShouldBe(400);
        Rates(budget).Count.ShouldBe(5);
        budget["stopped"]!.GetValue<string>().ShouldBe("step budget spent (5 steps)");

        var below = Py("print(json.dumps(capacity.search(lambda r: {'rate': r, 'ok': r <= 37}, 100, 5000, 2, 10, 0.1)))");
        below["knee"]!.GetValue<int>().ShouldBe(37);
        Rates(below).ShouldBe([100, 50, 25, 37, 43, 40]);

        var never = Py("print(json.dumps(capacity.search(lambda r: {'rate': r, 'ok': False}, 8, 5000, 2, 10, 0.1)))");
        never["knee"].ShouldBeNull();
        Rates(never).ShouldBe([8, 4, 2, 1]);
        never["stopped"]!.GetValue<string>().ShouldBe("no rate passed, down to 1/s");

        // The flash sale's floor: a step below it could not sell out (twice STOCK attempts a step).
        var floor = Py("print(json.dumps(capacity.search(lambda r: {'rate': r, 'ok': False}, 50, 5000, 2, 10, 0.1, 20)))");
        Rates(floor).ShouldBe([50, 25, 20]);
        floor["stopped"]!.GetValue<string>().ShouldBe("no rate passed, down to 20/s");
    }

    [Fact]
    public void a_step_fails_on_the_slo_a_failed_check_a_dirty_audit_or_too_many_dropped_iterations()
    {
        // A clean step at 100/s for 10 s; then the same with one thing wrong at a time.
        var steps = Py("""
            terms = capacity.parse_slo('p95<50ms,p99<100ms')
            clean = {"run_id": "x", "scenario": "read-heavy", "lock_type": "atomic", "requests": 1000, "req_per_s": 100.0, "p50_ms": 5, "p95_ms": 40, "p99_ms": 90,
                     "error_rate": 0.0, "checks_failed": 0, "checks": {}, "audit_ok": True, "k6_exit": 0, "thresholds_failed": [],
                     "iterations": 1000, "dropped_iterations": 10, "steps": {}, "accepted": None}
            def step(**change):
                return capacity.step_of(dict(clean, **change), 100, 10, terms, 0.01, report.judge)
            print(json.dumps([step(), step(p95_ms=50), step(p99_ms=120.5), step(checks_failed=1, checks={"01_health 200": {"passed": 9, "failed": 1}}),
                              step(audit_ok=False), step(dropped_iterations=11), step(lock_type="none", audit_ok=False)]))
            """).AsArray();

        steps[0]!["ok"]!.GetValue<bool>().ShouldBeTrue(steps[0]!.ToJsonString());
        steps[0]!["achieved_it_per_s"]!.GetValue<double>().ShouldBe(100);
        Problems(steps[1]!).ShouldBe(["p95 50 ms >= 50 ms"]);
        Problems(steps[2]!).ShouldBe(["p99 120.5 ms >= 100 ms"]);
        Problems(steps[3]!).ShouldContain("1 failed checks");
        Problems(steps[4]!).ShouldContain(p => p.Contains("audit", StringComparison.Ordinal));
        Problems(steps[5]!).ShouldBe(["11 of 1,000 iterations dropped (> 1.0%: no free VU, raise --vus or the system is saturated)"]);
        // lock_type=none oversells by design: its capacity is judged on the SLO and on its run not breaking.
        steps[6]!["ok"]!.GetValue<bool>().ShouldBeTrue(steps[6]!.ToJsonString());
        steps[6]!["status"]!.GetValue<string>().ShouldBe("unsafe, as expected");
    }

    private static List<string> Problems(JsonNode step)
    {
        step["ok"]!.GetValue<bool>().ShouldBeFalse(step.ToJsonString());
        return step["problems"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
    }

    /// <summary>A stand-in k6 (v0.47 by `k6 version`, which is not logged): per run, 40 requests over 5 s whose latency is the arrival rate / 10 ms (x 1.5 for
    /// lock_type=pessimistic), as many iterations as the rate asks, and a file of the calls with K6_NO_THRESHOLDS.</summary>
    private string FakeK6()
    {
        var fakeK6 = Path.Combine(dir, "k6");
        File.WriteAllText(fakeK6, """
            #!/usr/bin/env python3
            import datetime, json, os, sys
            here = os.path.dirname(os.path.abspath(__file__))
            args = sys.argv[1:]
            if args == ["version"]:
                print("k6 v0.47.0 (go1.19.8, linux/amd64)")
                sys.exit(0)
            with open(os.path.join(here, "calls.log"), "a") as f:
                f.write(json.dumps({"args": args, "no_thresholds": os.environ.get("K6_NO_THRESHOLDS")}) + "\n")
            if "--no-summary" in args:
                sys.exit(0)
            env = dict(a.split("=", 1) for a in args if "=" in a and a.split("=", 1)[0].isupper())
            rate = int(env["ARRIVAL_RATE"])
            latency = rate / 10 * (1.5 if env.get("LOCK_TYPE") == "pessimistic" else 1)
            start = datetime.datetime(2026, 12, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
            with open(next(a[5:] for a in args if a.startswith("json=")), "w") as f:
                for k in range(40):
                    t = (start + datetime.timedelta(seconds=k * 5 / 39)).isoformat()
                    f.write(json.dumps({"type": "Point", "metric": "http_req_duration",
                                        "data": {"time": t, "value": latency, "tags": {"name": "01_health", "status": "200"}}}) + "\n")
            with open(args[args.index("--summary-export") + 1], "w") as f:
                json.dump({"metrics": {"vus_max": {"value": 200, "max": 200}, "iterations": {"count": rate * 5}}}, f)
            sys.exit(0)
            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(fakeK6, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // The audit is read from the base URL; a file:// URL stands in for the server.
        Directory.CreateDirectory(Path.Combine(dir, "site", "api"));
        File.WriteAllText(Path.Combine(dir, "site", "api", "audit"), """{"ok":true}""");
        return fakeK6;
    }

    private List<JsonNode> Calls() => File.ReadAllLines(Path.Combine(dir, "calls.log")).Select(l => JsonNode.Parse(l)!).ToList();

    [Fact]
    public void a_search_through_a_stand_in_k6_records_one_history_line_with_the_knee_every_step_and_the_curve_in_the_report()
    {
        var history = Path.Combine(dir, "history.jsonl");
        var report = Path.Combine(dir, "capacity.html");

        var (exit, output) = Run(new Dictionary<string, string> { ["EXBUY_K6"] = FakeK6() },
            Path.Combine(RunnerDir, "perf.py"), "capacity", "read-heavy", "--slo", "p95<50ms", "--start", "100", "--step-duration", "5s",
            "--max-steps", "10", "--lock-type", "row", "--warmup", "5s", "--base-url", $"file://{dir}/site", "--history", history, "--report", report);

        exit.ShouldBe(0, output);
        // p95 = rate / 10 ms: 100, 200, 400 pass; 800, 600, 500 fail; then 450 and 475 pass.
        var calls = Calls();
        calls.Count.ShouldBe(9, "one warm-up, then eight steps");
        var measured = calls.Skip(1).Select(c => c["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList()).ToList();
        measured.Select(a => a.Single(x => x.StartsWith("ARRIVAL_RATE=", StringComparison.Ordinal))).ShouldBe(
            ["ARRIVAL_RATE=100", "ARRIVAL_RATE=200", "ARRIVAL_RATE=400", "ARRIVAL_RATE=800", "ARRIVAL_RATE=600", "ARRIVAL_RATE=500", "ARRIVAL_RATE=450", "ARRIVAL_RATE=475"]);
        measured.ShouldAllBe(a => a.Contains("THINK_TIME=0") && a.Contains("DURATION=5s") && a.Contains("MAX_VU=200") && a.Contains("LOCK_TYPE=row"));
        calls.Skip(1).ShouldAllBe(c => c["no_thresholds"]!.GetValue<string>() == "true", "the SLO replaces the scripts' latency thresholds");

        var line = JsonNode.Parse(File.ReadAllLines(history).Single())!;
        line["scenario"]!.GetValue<string>().ShouldBe("read-heavy");
        line["lock_type"]!.GetValue<string>().ShouldBe("row");
        line["shape"]!.GetValue<string>().ShouldBe("capacity");
        line["run_id"]!.GetValue<string>().ShouldEndWith("-capacity-read-heavy-row");
        line["p95_ms"]!.GetValue<double>().ShouldBe(47.5, "the line's own figures are the knee step's");
        var capacity = line["capacity"]!;
        capacity["slo"]!.GetValue<string>().ShouldBe("p95<50ms");
        capacity["knee_rate"]!.GetValue<int>().ShouldBe(475);
        capacity["knee"]!["achieved_it_per_s"]!.GetValue<double>().ShouldBe(475);
        capacity["knee"]!["p95_ms"]!.GetValue<double>().ShouldBe(47.5);
        capacity["stopped"]!.GetValue<string>().ShouldBe("bracketed: 475/s passes, 500/s fails (within 10%)");
        capacity["steps"]!.AsArray().Select(s => s!["ok"]!.GetValue<bool>()).ShouldBe([true, true, true, false, false, false, true, true]);
        capacity["steps"]!.AsArray()[5]!["problems"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldBe(["p95 50 ms >= 50 ms"]);
        output.ShouldContain("verdict: capacity 475 iterations/s under p95<50ms");
        output.ShouldContain("500/s failed: p95 50 ms >= 50 ms");

        var html = File.ReadAllText(report);
        html.ShouldContain("Latency against offered rate");
        html.ShouldContain("Achieved against offered rate");
        html.ShouldContain("SLO p95&lt;50ms");
        html.ShouldContain("knee: 475/s, the highest step that met p95&lt;50ms");
    }

    [Fact]
    public void matrix_capacity_searches_every_lock_type_and_charts_their_sustainable_rates_in_one_report()
    {
        var history = Path.Combine(dir, "history.jsonl");
        var report = Path.Combine(dir, "matrix.html");

        var (exit, output) = Run(new Dictionary<string, string> { ["EXBUY_K6"] = FakeK6() },
            Path.Combine(RunnerDir, "perf.py"), "matrix", "flash-sale", "--capacity", "--slo", "p95<50ms", "--start", "100", "--step-duration", "5s",
            "--max-steps", "4", "--warmup", "0", "--base-url", $"file://{dir}/site", "--history", history, "--report", report);

        exit.ShouldBe(0, output);
        var lines = File.ReadAllLines(history).Select(l => JsonNode.Parse(l)!).ToList();
        lines.Select(l => l["lock_type"]!.GetValue<string>()).ShouldBe(["optimistic", "pessimistic", "redlock", "row", "atomic", "batched", "none"]);
        // Four steps each: 100, 200, 400 pass, 800 fails (pessimistic, its p95 1.5 x: 100, 200 pass, 400 fails, 300 passes).
        lines.Select(l => l["capacity"]!["knee_rate"]!.GetValue<int>()).ShouldBe([400, 300, 400, 400, 400, 400, 400]);
        output.ShouldContain("matrix capacity under p95<50ms");
        output.ShouldContain("every strategy has a sustainable rate");
        var html = File.ReadAllText(report);
        html.ShouldContain("Sustainable rate under the SLO, with CPU per request at that rate");
        html.Split("aria-label=\"Latency against offered rate (").Length.ShouldBe(8, "a curve per strategy");
        File.Exists(Path.ChangeExtension(report, ".md")).ShouldBeTrue();
    }
}
