using System.Globalization;
using System.Text.Json.Nodes;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// The Server-Timing breakdown in the runner: server_timing points as perf/k6/lib/timing.js records them (tagged
/// name, phase and rt, the request's half-octave) become each step's phase percentiles and its p95 tail split by
/// phase in the history line, and the report and <c>perf compare</c> show two runs' breakdowns side by side.
/// </summary>
public sealed class PerfTimingTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-perf-timing-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Point(string metric, double value, double second, JsonObject tags) => new JsonObject
    {
        ["type"] = "Point",
        ["metric"] = metric,
        ["data"] = new JsonObject
        {
            ["time"] = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero).AddSeconds(second).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture),
            ["value"] = value,
            ["tags"] = tags,
        },
    }.ToJsonString();

    /// <summary>lib/timing.js's rtBucket.</summary>
    private static int Bucket(double ms) => (int)Math.Floor(2 * Math.Log2(ms));

    /// <summary>One answer of a step: its k6 duration and the phases its Server-Timing header named.</summary>
    private static IEnumerable<string> Answer(string step, double ms, double second, params (string Phase, double Ms)[] phases)
    {
        yield return Point("http_req_duration", ms, second, new JsonObject { ["name"] = step, ["status"] = "201" });
        foreach (var (phase, value) in phases)
        {
            yield return Point("server_timing", value, second, new JsonObject { ["name"] = step, ["phase"] = phase, ["rt"] = Bucket(ms).ToString(CultureInfo.InvariantCulture) });
        }
    }

    /// <summary>19 quick orders (pg 4 ms) and one that waited 80 ms for the user's lock: the p95 tail is that one.</summary>
    private static List<string> Orders(double lockWait)
    {
        var points = new List<string>();
        for (var i = 0; i < 19; i++)
        {
            points.AddRange(Answer("5_order", 6, i * 0.1, ("lock-user", 0.1), ("pool", 0), ("pg", 4), ("app", 1), ("total", 5.1)));
        }

        points.AddRange(Answer("5_order", lockWait + 7, 2, ("lock-user", lockWait), ("pool", 0), ("pg", 5), ("app", 1), ("total", lockWait + 6)));
        points.AddRange(Answer("1_charge_balance", 3, 2.5, ("pg", 2), ("app", 0.5), ("total", 2.5)));
        return points;
    }

    private string Summarize(IEnumerable<string> points, string history, string label)
    {
        var path = Path.Combine(dir, $"points-{label}.json");
        File.WriteAllLines(path, points);
        var (exit, output, error) = RunnerProcess.Python(
            RunnerProcess.Runner("summarize.py"), path, "--scenario", "persona-a", "--lock-type", "atomic", "--vus", "10",
            "--duration", "3s", "--base-url", "http://localhost:8080", "--audit", Path.Combine(dir, "no-audit.json"), "--k6-exit", "0", "--label", label, "--history", history);
        exit.ShouldBe(0, output + error);
        return output;
    }

    [Fact]
    public void a_steps_server_timing_becomes_its_phase_percentiles_and_its_p95_tail_split_by_phase()
    {
        var history = Path.Combine(dir, "history.jsonl");
        Summarize(Orders(lockWait: 80), history, "one");

        var order = JsonNode.Parse(File.ReadAllLines(history).Single())!["steps"]!["5_order"]!;
        order["p95_ms"]!.GetValue<double>().ShouldBe(87);
        var timing = order["server_timing"]!;
        timing["tail_requests"]!.GetValue<int>().ShouldBe(1, "only the slow order is at or above the p95's half-octave");
        timing["tail"]!["lock-user"]!.GetValue<double>().ShouldBe(80);
        timing["tail"]!["pg"]!.GetValue<double>().ShouldBe(5);
        timing["tail"]!["total"]!.GetValue<double>().ShouldBe(86);
        timing["phases"]!["pg"]!["p50_ms"]!.GetValue<double>().ShouldBe(4);
        timing["phases"]!["lock-user"]!["p50_ms"]!.GetValue<double>().ShouldBe(0.1);
        timing["phases"]!["lock-user"]!["p95_ms"]!.GetValue<double>().ShouldBe(80);
    }

    [Fact]
    public void a_step_without_the_header_has_no_breakdown()
    {
        var history = Path.Combine(dir, "history.jsonl");
        Summarize([Point("http_req_duration", 5, 0, new JsonObject { ["name"] = "5_order", ["status"] = "201" })], history, "peer");

        JsonNode.Parse(File.ReadAllLines(history).Single())!["steps"]!["5_order"]!["server_timing"].ShouldBeNull();
    }

    [Fact]
    public void compare_puts_two_runs_breakdowns_side_by_side_in_the_markdown_and_the_html_report()
    {
        var history = Path.Combine(dir, "history.jsonl");
        Summarize(Orders(lockWait: 80), history, "before");
        Summarize(Orders(lockWait: 20), history, "after");
        var markdown = Path.Combine(dir, "report.md");
        var html = Path.Combine(dir, "report.html");

        var (exit, output, error) = RunnerProcess.Python(RunnerProcess.Runner("compare.py"), history, "--runs", "1,2", "--html", html, "--markdown", markdown, "--quiet");

        exit.ShouldBe(0, output + error);
        var table = File.ReadAllLines(markdown);
        table.ShouldContain(l => l.StartsWith("Where the time went (Server-Timing)", StringComparison.Ordinal));
        table.ShouldContain("| 5_order | lock-user | 80.0 (0.10 / 80.0) | 20.0 (0.10 / 20.0) |");
        table.ShouldContain("| 5_order | pg | 5.00 (4.00 / 5.00) | 5.00 (4.00 / 5.00) |");
        table.ShouldContain("| 1_charge_balance | pg | 2.00 (2.00 / 2.00) | 2.00 (2.00 / 2.00) |");
        // Phases in their order: the waits, pool, pg, app, total.
        var phases = table.SkipWhile(l => !l.StartsWith("Where the time went", StringComparison.Ordinal)).Where(l => l.StartsWith("| 5_order |", StringComparison.Ordinal)).Select(l => l.Split('|')[2].Trim()).ToList();
        phases.ShouldBe(["lock-user", "pool", "pg", "app", "total"]);
        var report = File.ReadAllText(html);
        report.ShouldContain("<h2>Where the time went (Server-Timing)</h2>");
        report.ShouldContain("<h3>5_order</h3>");
        report.ShouldContain("<th class=\"left\">lock-user</th><td><b>80.0</b>");
    }
}
