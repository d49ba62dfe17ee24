using System.Diagnostics;
using System.Text;
using Alba;

namespace ExBuy.Tests.Infrastructure;

public sealed record TimedResponse(int Status, string Body, double Milliseconds);

/// <summary>Real concurrency against the in-process server: every request is built first, then all are released at once.</summary>
public static class ConcurrentRequests
{
    public static async Task<List<TimedResponse>> FireAsync(
        this IAlbaHost host, int count, Func<int, (HttpMethod Method, string Url, string? Json)> request, (string Name, string Value)[]? headers = null)
    {
        using var client = host.Server.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5); // a bound against hangs, not a speed requirement
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            var (method, url, json) = request(i);
            using var message = new HttpRequestMessage(method, url);
            foreach (var (name, value) in headers ?? [])
            {
                message.Headers.Add(name, value);
            }

            if (json is not null)
            {
                message.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            await start.Task;
            var watch = Stopwatch.StartNew();
            using var response = await client.SendAsync(message);
            var body = await response.Content.ReadAsStringAsync();
            return new TimedResponse((int)response.StatusCode, body, watch.Elapsed.TotalMilliseconds);
        }).ToList();

        var wall = Stopwatch.StartNew();
        start.SetResult();
        var results = (await Task.WhenAll(tasks)).ToList();
        LastWallClock = wall.Elapsed;
        return results;
    }

    /// <summary>
    /// Like <see cref="FireAsync"/>, but each client sends its request again while <paramref name="again"/> says so
    /// (e.g. a 409 "busy, try again" while stock is left), as a real client would: how many requests end well then
    /// depends on the invariants, not on how fast this machine gets locks within a strategy's time budget. Each
    /// result is the client's last answer, with the client's whole time; the bound on attempts only turns a defect
    /// into a failure instead of a hang.
    /// </summary>
    public static async Task<(List<TimedResponse> Responses, int Retries)> FireRetryingAsync(
        this IAlbaHost host, int count, Func<int, (HttpMethod Method, string Url, string? Json)> request, Func<TimedResponse, Task<bool>> again, int maxAttempts = 1_000)
    {
        using var client = host.Server.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5); // a bound against hangs, not a speed requirement
        var retries = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            var (method, url, json) = request(i);
            await start.Task;
            var watch = Stopwatch.StartNew();
            for (var attempt = 1; ; attempt++)
            {
                using var message = new HttpRequestMessage(method, url);
                if (json is not null)
                {
                    message.Content = new StringContent(json, Encoding.UTF8, "application/json");
                }

                using var response = await client.SendAsync(message);
                var result = new TimedResponse((int)response.StatusCode, await response.Content.ReadAsStringAsync(), watch.Elapsed.TotalMilliseconds);
                if (attempt >= maxAttempts || !await again(result))
                {
                    return result;
                }

                Interlocked.Increment(ref retries);
            }
        }).ToList();

        var wall = Stopwatch.StartNew();
        start.SetResult();
        var results = (await Task.WhenAll(tasks)).ToList();
        LastWallClock = wall.Elapsed;
        return (results, retries);
    }

    /// <summary>Wall-clock time of the last burst (tests run one at a time, so one value is enough).</summary>
    public static TimeSpan LastWallClock { get; private set; }

    public static double Percentile(this IEnumerable<TimedResponse> responses, double p)
    {
        var sorted = responses.Select(r => r.Milliseconds).Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p / 100 * sorted.Count) - 1)];
    }
}

/// <summary>
/// Timings from the concurrency tests, printed for people, never asserted (speed targets live in the k6
/// benchmarks). <c>./exbuy test</c> shows them at the end of its log: .data/test/logs/timings.txt.
/// </summary>
public static class TimingLog
{
    private static readonly Lock Gate = new();

    public static void Record(string scenario, IReadOnlyList<TimedResponse> responses, TimeSpan wall)
    {
        var line = FormattableString.Invariant(
            $"{scenario,-44} {responses.Count,4} requests in {wall.TotalMilliseconds,7:F0} ms = {responses.Count / wall.TotalSeconds,7:F0} req/s  p50 {responses.Percentile(50),6:F1} ms  p95 {responses.Percentile(95),6:F1} ms  p99 {responses.Percentile(99),6:F1} ms");
        Note(line);
    }

    /// <summary>A free-form line for the same log (a sequential test's count and duration).</summary>
    public static void Note(string line)
    {
        var directory = Environment.GetEnvironmentVariable("EXBUY_TEST_LOG_DIR") ?? Path.GetTempPath();
        lock (Gate)
        {
            File.AppendAllText(Path.Combine(directory, "timings.txt"), line + Environment.NewLine);
        }

        TestContext.Current.TestOutputHelper?.WriteLine(line);
    }
}
