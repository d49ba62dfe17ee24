using System.Diagnostics;
using System.Globalization;
using ExBuy.Tests.Infrastructure;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// <c>./exbuy fault pause-redis-writes:SECONDS</c>: Redis refuses writes (CLIENT PAUSE … WRITE) and the fault returns
/// once the pause is over. Run against a redis-server of the test's own on a free port (EXBUY_REDIS_PORT), never the
/// dev or test Redis another run uses.
/// </summary>
public sealed class FaultCommandTests : IAsyncLifetime
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-fault-").FullName;
    private readonly int port = ApiProcess.FreePort();
    private Process? redis;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        redis = Process.Start(new ProcessStartInfo("redis-server",
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"])
        {
            UseShellExecute = false, RedirectStandardOutput = true,
        })!;
        await Eventually.WaitUntilAsync(async () =>
        {
            await using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},abortConnect=true,connectTimeout=500");
            return probe.IsConnected;
        }, TimeSpan.FromSeconds(30), "the test's own redis-server answers");
    }

    private Dictionary<string, string?> Environment => new() { ["EXBUY_REDIS_PORT"] = port.ToString(CultureInfo.InvariantCulture) };

    private static async Task<long> BlockedClientsAsync(ConnectionMultiplexer admin)
    {
        var info = (string)(await admin.GetDatabase().ExecuteAsync("INFO", "clients"))!;
        var line = info.Split('\n').Single(l => l.StartsWith("blocked_clients:", StringComparison.Ordinal));
        return long.Parse(line["blocked_clients:".Length..].Trim(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task pause_redis_writes_holds_every_write_but_answers_reads_until_the_pause_ends()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true");
        await admin.GetDatabase().StringSetAsync("exbuy:probe", "before");
        await using var writer = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
        var start = new ProcessStartInfo(Repo.PathOf("exbuy"), ["fault", "pause-redis-writes:600"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root,
        };
        start.Environment["EXBUY_REDIS_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        using var fault = Process.Start(start)!;
        var faultOutput = fault.StandardError.ReadToEndAsync(Ct);
        try
        {
            // The fault's own write, held until the pause ends, is how it knows the pause is over.
            await Eventually.WaitUntilAsync(async () => await BlockedClientsAsync(admin) >= 1, TimeSpan.FromSeconds(60), "the fault's write is held");
            var write = writer.GetDatabase().StringSetAsync("exbuy:probe", "during");
            await Eventually.WaitUntilAsync(async () => await BlockedClientsAsync(admin) >= 2, TimeSpan.FromSeconds(60), "a client's write is held too");

            ((string?)await admin.GetDatabase().StringGetAsync("exbuy:probe")).ShouldBe("before", "reads answer, the write has not happened");
            write.IsCompleted.ShouldBeFalse();
            fault.HasExited.ShouldBeFalse("the fault lasts as long as the pause");

            await admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");

            (await write).ShouldBeTrue();
            await fault.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
            fault.ExitCode.ShouldBe(0, await faultOutput);
            (await faultOutput).ShouldContain($"refuses writes (CLIENT PAUSE 600000 WRITE) for 600s");
            ((string?)await admin.GetDatabase().StringGetAsync("exbuy:probe")).ShouldBe("during");
        }
        finally
        {
            if (!fault.HasExited)
            {
                fault.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task pause_redis_writes_is_in_the_help_and_a_bad_duration_is_refused()
    {
        var help = await Processes.RunAsync(Repo.PathOf("exbuy"), ["fault", "--help"], environment: Environment);
        help.ExitCode.ShouldBe(0, help.Output);
        help.Output.ShouldContain("pause-redis-writes:SECONDS");
        help.Output.ShouldContain("CLIENT PAUSE SECONDS*1000 WRITE");

        foreach (var bad in new[] { "pause-redis-writes", "pause-redis-writes:", "pause-redis-writes:soon", "pause-redis-writes:-3" })
        {
            var refused = await Processes.RunAsync(Repo.PathOf("exbuy"), ["fault", bad], environment: Environment);
            refused.ExitCode.ShouldNotBe(0, bad);
            refused.Output.ShouldContain("fault pause-redis-writes:SECONDS (e.g. pause-redis-writes:7)", customMessage: bad);
        }

        var (exit, output, error) = RunnerProcess.Python(RunnerProcess.Runner("perf.py"), "flash-sale", "--fault", "pause-redis-writes:7@10s", "--dry-run",
            "--base-url", "http://localhost:1");
        exit.ShouldBe(0, output + error);
        output.ShouldContain("-e SETTLE_SECONDS=60 ", customMessage: "a fault run's teardown waits for its consistency checks, at most --settle");
        var (badExit, _, badError) = RunnerProcess.Python(RunnerProcess.Runner("perf.py"), "flash-sale", "--fault", "pause-redis-writes@10s", "--dry-run",
            "--base-url", "http://localhost:1");
        badExit.ShouldBe(2);
        badError.ShouldContain("pause-redis-writes:SECONDS");
    }

    public ValueTask DisposeAsync()
    {
        if (redis is { HasExited: false })
        {
            redis.Kill();
            redis.WaitForExit();
        }

        redis?.Dispose();
        Directory.Delete(dir, recursive: true);
        return ValueTask.CompletedTask;
    }
}
