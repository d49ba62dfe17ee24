using System.Diagnostics;
using System.Text.Json.Nodes;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// What a perf run costs (perf/runner/cost.py): CPU time per request of the API, PostgreSQL, Redis and k6 read from
/// /proc, and statements per request from pg_stat_statements. The arithmetic runs on a /proc written here (processes
/// that start, exit and are restarted between samples); the statement counting runs against the test PostgreSQL.
/// </summary>
public sealed class PerfCostTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-cost-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string RunnerDir => Repo.PathOf("perf", "runner");

    /// <summary>Runs a Python snippet with perf/runner importable; its last stdout line is JSON.</summary>
    private static JsonNode Py(string code, IDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"import sys, json\nsys.path.insert(0, {Quote(RunnerDir)})\nimport cost\n{code}");
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        process.ExitCode.ShouldBe(0, output.Result + error.Result);
        return JsonNode.Parse(output.Result.TrimEnd().Split('\n')[^1])!;
    }

    private static string Quote(string text) => "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    [Fact]
    public void a_process_tree_counts_its_live_and_exited_children_and_a_group_counts_restarted_and_extra_instances()
    {
        // A /proc with: a postmaster (100) and backends; an API of two instances (pid files api.pid, api-2.pid), of
        // which the first is killed and restarted between the samples; an unrelated busy process. Times are in ticks.
        var result = Py($$"""
            import os
            proc = {{Quote(dir)}}
            T = cost.TICKS
            def write(pid, comm, ppid, own, reaped=0, start=0):
                os.makedirs(f"{proc}/{pid}", exist_ok=True)
                # fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal starttime
                with open(f"{proc}/{pid}/stat", "w") as f:
                    f.write(f"{pid} ({comm}) S {ppid} 1 1 0 -1 0 0 0 0 0 {own - own // 3} {own // 3} {reaped - reaped // 2} {reaped // 2} 20 0 1 0 {start} 0 0\n")
            def gone(pid):
                os.remove(f"{proc}/{pid}/stat"); os.rmdir(f"{proc}/{pid}")
            with open(f"{proc}/uptime", "w") as f: f.write("1000.00 1800.00\n")
            os.makedirs(f"{proc}/data", exist_ok=True)
            def pidfile(name, pid):
                with open(f"{proc}/data/{name}", "w") as f: f.write(f"{pid}\n/var/lib/whatever\n")
            write(100, "postgres", 1, own=10, start=5 * T)
            write(101, "postgres: exbuy exbuy 127.0.0.1(5) idle", 100, own=5, start=10 * T)
            write(102, "postgres: (odd) name", 100, own=7, start=10 * T)
            write(200, "busy", 1, own=1000, start=5 * T)
            write(300, "dotnet", 1, own=50, start=5 * T)
            write(301, "dotnet", 1, own=30, start=5 * T)
            pidfile("postmaster.pid", 100); pidfile("api.pid", 300); pidfile("api-2.pid", 301)
            now = [0.0]
            m = cost.Meter({"postgres": ("files", f"{proc}/data/postmaster.pid"),
                            "api": ("files", f"{proc}/data/api.pid:{proc}/data/api-*.pid")}, proc=proc, clock=lambda: now[0])
            m.sample()
            # One second later: 101 used 10 more; 102 used 3 more and exited (the postmaster reaped it: 7 + 3 in its
            # children's time); 103 is a new backend (4); the postmaster itself used 2. The busy process is not ours.
            now[0] = 1.0
            write(100, "postgres", 1, own=12, reaped=10, start=5 * T)
            write(101, "postgres: exbuy exbuy 127.0.0.1(5) idle", 100, own=15, start=10 * T)
            gone(102)
            write(103, "postgres: exbuy exbuy 127.0.0.1(6) idle", 100, own=4, start=1000 * T + 50)
            write(200, "busy", 1, own=2000, start=5 * T)
            # The API instance 300 was killed (its last second is lost) and started again as 302 after the sampler
            # started: all of 302's time counts. The second instance used 15 more.
            gone(300)
            write(302, "dotnet", 1, own=8, start=1000 * T + 80)
            pidfile("api.pid", 302)
            write(301, "dotnet", 1, own=45, start=5 * T)
            m.sample()
            now[0] = 2.0
            write(302, "dotnet", 1, own=28, start=1000 * T + 80)
            m.sample()
            print(json.dumps({"samples": m.samples, "roots": m.roots, "ticks": T,
                              "cpu": cost.cpu_cost(m.samples, (0.0, 2.0), 100, ticks=T)}))
            """);

        var samples = result["samples"]!.AsArray();
        samples.Count.ShouldBe(3);
        samples[0]![1]!["postgres"]!.GetValue<double>().ShouldBe(0);
        samples[1]![1]!["postgres"]!.GetValue<double>().ShouldBe(19, "101 +10, 102 +3 before it exited, 103 +4, the postmaster +2");
        samples[1]![1]!["api"]!.GetValue<double>().ShouldBe(23, "301 +15, the restarted 302 from zero +8, the killed 300 keeps what it had");
        samples[2]![1]!["api"]!.GetValue<double>().ShouldBe(43);
        result["roots"]!["api"]!.GetValue<int>().ShouldBe(3);
        var ticks = result["ticks"]!.GetValue<double>();
        var api = result["cpu"]!["api"]!;
        api["cpu_s"]!.GetValue<double>().ShouldBe(Math.Round(43 / ticks, 3));
        api["ms_per_request"]!.GetValue<double>().ShouldBe(Math.Round(43 / ticks * 1000 / 100, 4));
        api["cores"]!.GetValue<double>().ShouldBe(Math.Round(43 / ticks / 2, 3));
    }

    [Fact]
    public void the_measured_window_is_interpolated_between_samples_and_clamped_to_them()
    {
        // 100 ticks a second here; the API uses 10 s of CPU between t=0 and t=10, then nothing.
        var result = Py("""
            samples = [(0.0, {"api": 0, "k6": 0}), (10.0, {"api": 1000, "k6": 200}), (20.0, {"api": 1000, "k6": 400})]
            inside = cost.window_of(samples, 5.0, 15.0)
            replayed = cost.window_of(samples, 1e9, 1e9 + 10)
            print(json.dumps({"inside": inside, "replayed": replayed,
                              "cpu": cost.cpu_cost(samples, inside, 1000, ticks=100),
                              "none": cost.cpu_cost(samples, inside, 0, ticks=100),
                              "series": cost.cores_series(samples, 8, list(range(0, 14)), ticks=100)}))
            """);

        result["inside"]!.AsArray().Select(v => v!.GetValue<double>()).ShouldBe([5.0, 15.0]);
        result["replayed"]!.AsArray().Select(v => v!.GetValue<double>()).ShouldBe([0.0, 20.0], "a stream's times outside the samples: the sampled span");
        var api = result["cpu"]!["api"]!;
        api["cpu_s"]!.GetValue<double>().ShouldBe(5, "from 500 ticks at t=5 to 1000 at t=15");
        api["ms_per_request"]!.GetValue<double>().ShouldBe(5);
        api["cores"]!.GetValue<double>().ShouldBe(0.5);
        result["cpu"]!["k6"]!["cpu_s"]!.GetValue<double>().ShouldBe(2);
        result["none"]!["api"]!["ms_per_request"].ShouldBeNull("no request, no per-request figure");
        var cores = result["series"]!["api"]!.AsArray().Select(v => v?.GetValue<double>()).ToList();
        cores[0].ShouldBe(1.0, "second 8-9: one core");
        cores[2].ShouldBe(0.0, "second 10-11: idle");
        cores[12].ShouldBeNull("second 20-21 is past the last sample");
    }

    [Fact]
    public void statements_per_request_are_the_calls_difference_and_the_top_five_are_by_execution_time()
    {
        var result = Py("""
            def e(key, calls, ms, query, rows=0):
                return {"key": key, "calls": calls, "ms": ms, "rows": rows, "query": query}
            before = {"dealloc": 2, "entries": [e("a", 100, 50.0, "select a"), e("b", 10, 400.0, "select b"), e("c", 500, 10.0, "select c")]}
            after = {"dealloc": 2, "entries": [
                e("a", 160, 80.0, "select a"),            # +60 calls, +30 ms
                e("b", 10, 400.0, "select b"),            # not called during the run
                e("c", 20, 4.0, "select c"),              # reset meanwhile: its new value counts
                e("d", 5, 100.0, "select\n   d  from x"),  # new during the run
                e("e", 1, 1.0, "select e"), e("f", 1, 2.0, "select f"), e("g", 1, 3.0, "select g")]}
            print(json.dumps({"delta": cost.statements_delta(before, after, 40),
                              "error": cost.statements_delta({"error": "relation pg_stat_statements does not exist"}, after, 40),
                              "none": cost.statements_delta(None, None, 40)}))
            """);

        var delta = result["delta"]!;
        delta["calls"]!.GetValue<int>().ShouldBe(60 + 20 + 5 + 3);
        delta["per_request"]!.GetValue<double>().ShouldBe(Math.Round(88 / 40.0, 3));
        delta["exec_ms_per_request"]!.GetValue<double>().ShouldBe(Math.Round((30 + 4 + 100 + 6) / 40.0, 4));
        delta["evicted"]!.GetValue<int>().ShouldBe(0);
        var top = delta["top"]!.AsArray();
        top.Select(t => t!["query"]!.GetValue<string>()).ShouldBe(["select d from x", "select a", "select c", "select g", "select f"]);
        top[1]!["mean_ms"]!.GetValue<double>().ShouldBe(0.5);
        result["error"]!["error"]!.GetValue<string>().ShouldContain("pg_stat_statements");
        result["none"].ShouldBeNull();
    }

    [Fact]
    public async Task against_real_postgresql_exited_backends_cpu_and_the_statements_of_the_window_are_counted()
    {
        // A database of its own, so that other tests' statements are not in the counts.
        var builder = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? AppFixture.DefaultPostgres);
        string dataDirectory;
        await using (var admin = new NpgsqlConnection(builder.ConnectionString))
        {
            await admin.OpenAsync(TestContext.Current.CancellationToken);
            await using var show = new NpgsqlCommand("show data_directory", admin);
            dataDirectory = (string)(await show.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
            await using var exists = new NpgsqlCommand("select count(*) from pg_database where datname = 'exbuy_cost_probe'", admin);
            if ((long)(await exists.ExecuteScalarAsync(TestContext.Current.CancellationToken))! == 0)
            {
                await using var create = new NpgsqlCommand("create database exbuy_cost_probe", admin);
                await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            }
        }

        var probe = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = "exbuy_cost_probe", Pooling = false };
        await using (var connection = new NpgsqlConnection(probe.ConnectionString))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var extension = new NpgsqlCommand("create extension if not exists pg_stat_statements", connection);
            await extension.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var conninfo = $"host={probe.Host} port={probe.Port} dbname=exbuy_cost_probe user={probe.Username} password={probe.Password}";
        // Eight short sessions (psql), each a backend that burns CPU on one statement and exits: their time reaches the
        // postmaster's children's time, which the tree counts.
        var result = Py($$$"""
            import subprocess
            conninfo = {{{Quote(conninfo)}}}
            m = cost.Meter({"postgres": ("files", {{{Quote(Path.Combine(dataDirectory, "postmaster.pid"))}}})}, pg=conninfo, interval=0.2)
            with m:
                for _ in range(8):
                    subprocess.run(["psql", "-XAtq", "-d", conninfo, "-c", "select count(*) from generate_series(1, 3000000) as cost_probe"],
                                   check=True, stdout=subprocess.DEVNULL)
            line = {"requests": 8, "steps": {"probe": {"requests": 8}}, "series": None, "iterations": 4}
            cost.record(line, m)
            print(json.dumps(line["cost"]))
            """);

        var postgres = result["cpu"]!["postgres"]!;
        postgres["cpu_s"]!.GetValue<double>().ShouldBeGreaterThan(0.3, "eight backends each counted three million rows, then exited");
        result["processes"]!["postgres"]!.GetValue<int>().ShouldBe(1);
        var statements = result["statements"]!;
        statements["error"].ShouldBeNull(statements.ToJsonString());
        var counted = statements["top"]!.AsArray().Single(t => t!["query"]!.GetValue<string>().Contains("cost_probe", StringComparison.Ordinal))!;
        counted["calls"]!.GetValue<int>().ShouldBe(8);
        statements["top"]!.AsArray().ShouldAllBe(t => !t!["query"]!.GetValue<string>().Contains("pg_stat_statements", StringComparison.Ordinal),
            "the runner's own reads are not the system's statements");
        statements["calls"]!.GetValue<int>().ShouldBe(8);
        statements["per_request"]!.GetValue<double>().ShouldBe(1);
        statements["per_iteration"]!.GetValue<double>().ShouldBe(2, "k6's iterations: a whole flow, a claim, a paid order");
    }

    [Fact]
    public async Task a_runs_cost_is_in_the_markdown_and_the_html_report_and_compare_puts_two_side_by_side()
    {
        var history = Path.Combine(dir, "history.jsonl");
        static string Run(string commit, int hour, double pg, double stmts) => new JsonObject
        {
            ["time"] = $"2026-11-24T{hour:00}:00:00+00:00", ["system"] = "ExBuy", ["scenario"] = "read-heavy", ["lock_type"] = "default",
            ["vus"] = 100, ["duration"] = "30s", ["commit"] = commit, ["requests"] = 20000, ["req_per_s"] = 500.0, ["p50_ms"] = 5.0,
            ["p95_ms"] = 40.0, ["p99_ms"] = 80.0, ["error_rate"] = 0.0, ["audit_ok"] = true, ["k6_exit"] = 0, ["checks_failed"] = 0,
            ["steps"] = new JsonObject(),
            ["cost"] = new JsonObject
            {
                ["window_s"] = 40.5, ["requests"] = 20000,
                ["cpu"] = new JsonObject
                {
                    ["api"] = new JsonObject { ["cpu_s"] = 17.4, ["ms_per_request"] = 0.87, ["cores"] = 0.43 },
                    ["postgres"] = new JsonObject { ["cpu_s"] = pg * 20, ["ms_per_request"] = pg, ["cores"] = pg / 2 },
                },
                ["statements"] = new JsonObject
                {
                    ["calls"] = stmts * 20000, ["requests"] = 20000, ["per_request"] = stmts, ["per_iteration"] = stmts * 6, ["exec_ms_per_request"] = 0.88, ["evicted"] = 0,
                    ["top"] = new JsonArray(new JsonObject { ["query"] = "select jsonb_build_object($1, d.name) from exbuy.mt_doc_product | x", ["calls"] = 2080, ["total_ms"] = 3722.4, ["mean_ms"] = 1.79, ["rows"] = 1 }),
                },
            },
        }.ToJsonString();
        File.WriteAllLines(history, [Run("aaa1111", 10, 0.736, 2.85), Run("bbb2222", 11, 0.184, 1.2)]);
        var html = Path.Combine(dir, "report.html");
        var markdown = Path.Combine(dir, "report.md");

        var result = await Processes.RunAsync("python3", [Path.Combine(RunnerDir, "compare.py"), history, "--runs", "1,2", "--html", html,
            "--markdown", markdown, "--quiet"]);

        result.ExitCode.ShouldBe(0, result.Output);
        var table = File.ReadAllText(markdown);
        table.ShouldContain("| run | API CPU ms/req | PostgreSQL CPU ms/req | Redis CPU ms/req | k6 CPU ms/req | statements/req | statements/iteration | PG exec ms/req | window s |");
        table.ShouldContain("| #1 | 0.870 | 0.736 |  |  | 2.85 | 17.10 | 0.880 | 40.5 |");
        table.ShouldContain("| #2 | 0.870 | 0.184 |  |  | 1.20 | 7.20 | 0.880 | 40.5 |");
        table.ShouldContain("| 3,722.4 | 2,080 | 1.790 | `select jsonb_build_object($1, d.name) from exbuy.mt_doc_product \\| x` |");
        var report = File.ReadAllText(html);
        report.ShouldContain("<h2>Cost per request</h2>");
        var chart = report[report.IndexOf("CPU per request by process", StringComparison.Ordinal)..];
        chart = chart[..chart.IndexOf("</svg>", StringComparison.Ordinal)];
        chart.ShouldContain("PostgreSQL CPU");
        chart.ShouldContain(">0.736<");
        chart.ShouldContain(">0.184<");
    }
}
