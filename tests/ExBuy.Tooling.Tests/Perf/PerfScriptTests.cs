using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// `./exbuy perf script`: a k6 script that is not one of ExBuy's (Fixtures/tiny-shop.js, with its own scenario,
/// thresholds, custom counter and handleSummary) run by the real k6 (EXBUY_K6, else k6 on PATH; skipped where there
/// is none) through perf/runner/perf.py against a small HTTP server started here (a peer: no audit, no database).
/// </summary>
public sealed class PerfScriptTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-perf-script-").FullName;
    private readonly HttpListener server = new();
    private readonly CancellationTokenSource stop = new();
    private int served;

    public void Dispose()
    {
        stop.Cancel();
        server.Close();
        Directory.Delete(dir, recursive: true);
    }

    private static string? K6()
    {
        var k6 = Environment.GetEnvironmentVariable("EXBUY_K6") is { Length: > 0 } own ? own : "k6";
        if (Path.IsPathRooted(k6))
        {
            return File.Exists(k6) ? k6 : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, k6)).FirstOrDefault(File.Exists);
    }

    /// <summary>GET /health 200, GET /items/N 200, POST /cart 201 (409 with ?refuse=1); everything else 404.</summary>
    private string StartServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        server.Prefixes.Add($"http://127.0.0.1:{port}/");
        server.Start();
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await server.GetContextAsync();
                }
                catch (Exception) when (stop.IsCancellationRequested || !server.IsListening)
                {
                    return;
                }

                var request = context.Request;
                var path = request.Url!.AbsolutePath;
                var (status, body) = (request.HttpMethod, path) switch
                {
                    ("GET", "/health") => (200, """{"status":"ok"}"""),
                    ("GET", _) when path.StartsWith("/items/", StringComparison.Ordinal) => (200, $$"""{"id":"{{path[7..]}}"}"""),
                    ("POST", "/cart") => request.QueryString["refuse"] is null ? (201, """{"ok":true}""") : (409, """{"error":"refused"}"""),
                    _ => (404, """{"error":"not found"}"""),
                };
                if (path != "/api/audit")
                {
                    Interlocked.Increment(ref served);
                }

                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
        return $"http://127.0.0.1:{port}";
    }

    private (int Exit, string Output) PerfScript(string k6, params string[] args)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        start.ArgumentList.Add(Repo.PathOf("perf", "runner", "perf.py"));
        start.ArgumentList.Add("script");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["EXBUY_K6"] = k6;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromMinutes(3)).ShouldBeTrue("perf script did not finish in 3 minutes");
        return (process.ExitCode, output.Result + error.Result);
    }

    private static JsonNode LastLine(string history) => JsonNode.Parse(File.ReadLines(history).Last(l => l.Trim().Length > 0))!;

    [Fact]
    public void a_peers_own_k6_script_runs_unmodified_and_becomes_a_history_line()
    {
        var k6 = K6();
        if (k6 is null)
        {
            Assert.Skip("no k6 here (EXBUY_K6 or k6 on PATH): perf script runs the real k6");
        }

        var baseUrl = StartServer();
        var fixture = Repo.PathOf("tests", "ExBuy.Tooling.Tests", "Perf", "Fixtures", "tiny-shop.js");
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(fixture)));
        var history = Path.Combine(dir, "history.jsonl");
        var report = Path.Combine(dir, "tiny.html");
        var ownSummary = Path.Combine(dir, "own-summary.json");

        var (exit, output) = PerfScript(k6, fixture, "--base-url", baseUrl, "--system", "TinyShop", "--label", "peer suite",
            "--env", $"SUMMARY_OUT={ownSummary}", "--history", history, "--report", report);

        exit.ShouldBe(0, output);
        output.ShouldContain("tiny-shop's own summary", customMessage: "the script's handleSummary writes to stdout");
        // Its handleSummary ran and saw the whole run: 1 set-up request + 12 iterations x 2 requests.
        var own = JsonNode.Parse(File.ReadAllText(ownSummary))!;
        own["requests"]!.GetValue<int>().ShouldBe(25);
        own["seen"]!.GetValue<int>().ShouldBe(12);
        served.ShouldBe(25);

        var line = LastLine(history);
        line["system"]!.GetValue<string>().ShouldBe("TinyShop");
        line["label"]!.GetValue<string>().ShouldBe("peer suite");
        line["scenario"]!.GetValue<string>().ShouldBe($"script:tiny-shop.js@{sha[..8]}");
        line["script"]!["sha256"]!.GetValue<string>().ShouldBe(sha);
        line["script"]!["handle_summary"]!.GetValue<bool>().ShouldBeTrue();
        line["commit"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        line["k6_version"]!.GetValue<string>().ShouldStartWith("v");
        line["base_url"]!.GetValue<string>().ShouldBe(baseUrl);
        line["k6_exit"]!.GetValue<int>().ShouldBe(0);
        // Steps: the script's own name tag; an unnamed request by method and path with its id templated; set-up apart.
        var steps = line["steps"]!.AsObject();
        steps.Select(s => s.Key).Order().ShouldBe(["0_setup GET /health", "GET /items/{id}", "add_to_cart"]);
        steps["GET /items/{id}"]!["requests"]!.GetValue<int>().ShouldBe(12);
        steps["add_to_cart"]!["by_status"]!["201"]!["requests"]!.GetValue<int>().ShouldBe(12);
        line["requests"]!.GetValue<int>().ShouldBe(24, "set-up requests are kept out of the totals");
        // The script's thresholds and counter, from k6's --summary-export (written beside the script's handleSummary).
        line["thresholds"]!["checks: rate==1.0"]!.GetValue<bool>().ShouldBeFalse();
        line["thresholds"]!["http_req_duration{name:add_to_cart}: p(95)<5000"]!.GetValue<bool>().ShouldBeFalse();
        line["counters"]!["tiny_items_seen"]!.GetValue<int>().ShouldBe(12);
        line["iterations"]!.GetValue<int>().ShouldBe(12);
        line["checks"]!["cart 201"]!["passed"]!.GetValue<int>().ShouldBe(12);
        line["checks_failed"]!.GetValue<int>().ShouldBe(0);
        // A peer: no audit (404 is "no audit" for a system other than ExBuy), no database to verify answers against.
        line["audit_ok"].ShouldBeNull();
        line["accepted"]!.ToJsonString().ShouldContain("no database to check against");
        line["cost"]!["cpu"]!["k6"].ShouldNotBeNull(output);
        File.ReadAllText(report).ShouldContain("TinyShop");

        // The same script crossing its own threshold: k6's exit 99, the verdict names it, the line is still recorded.
        var (refused, refusedOutput) = PerfScript(k6, fixture, "--base-url", baseUrl, "--system", "TinyShop",
            "--env", $"SUMMARY_OUT={ownSummary}", "--env", "REFUSE_CART=1", "--history", history, "--report", report);

        refused.ShouldBe(99, refusedOutput);
        refusedOutput.ShouldContain("thresholds crossed");
        var crossed = LastLine(history);
        crossed["thresholds"]!["checks: rate==1.0"]!.GetValue<bool>().ShouldBeTrue();
        crossed["checks"]!["cart 201"]!["failed"]!.GetValue<int>().ShouldBe(12);
        crossed["steps"]!["add_to_cart"]!["by_status"]!["409"]!["requests"]!.GetValue<int>().ShouldBe(12);
        File.ReadLines(history).Count(l => l.Trim().Length > 0).ShouldBe(2);
    }

    [Fact]
    public void a_dry_run_shows_the_script_itself_with_the_runners_outputs_and_the_k6_options_after_the_double_dash()
    {
        var fixture = Repo.PathOf("tests", "ExBuy.Tooling.Tests", "Perf", "Fixtures", "tiny-shop.js");

        var (exit, output) = PerfScript("k6", fixture, "--base-url", "http://127.0.0.1:9", "--system", "Django, 4 workers", "--dry-run", "--",
            "--vus", "3", "--duration", "5s");

        exit.ShouldBe(0, output);
        var run = output.Split('\n').Single(l => l.StartsWith("run: ", StringComparison.Ordinal));
        run.ShouldContain("--summary-export");
        run.ShouldContain("--out json=");
        // k6 before v1 splits --tag at a comma: the runner's tag values carry none, on every version alike.
        run.ShouldContain("'system=Django; 4 workers'");
        run.ShouldContain("BASE_URL=http://127.0.0.1:9");
        run.ShouldEndWith($"--vus 3 --duration 5s {fixture}");
        output.ShouldNotContain("warm-up:", customMessage: "a script gets no warm-up unless asked (--warmup D)");
    }
}
