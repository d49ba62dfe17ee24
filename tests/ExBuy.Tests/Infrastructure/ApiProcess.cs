using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ExBuy.Tests.Infrastructure;

/// <summary>
/// The API as a real child process (<c>dotnet ExBuy.dll</c>, the build next to the test project's), on its own
/// loopback port, against the test PostgreSQL and Redis; its output goes to a log file beside the test log.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ApiProcess(Process process, StreamWriter log, int port, string logPath)
    {
        _process = process;
        _log = log;
        Port = port;
        LogPath = logPath;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The API assembly the test project was built with (same configuration).</summary>
    public static string Assembly
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
            return Repo.PathOf("src", "ExBuy", "bin", configuration, "net10.0", "ExBuy.dll");
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the API and waits (bounded) until its readiness route answers 200.</summary>
    public static async Task<ApiProcess> StartAsync(string name, IReadOnlyDictionary<string, string> settings, int? port = null, TimeSpan? readyWithin = null)
    {
        var dll = Assembly;
        File.Exists(dll).ShouldBeTrueOrThrow($"{dll} is missing: build the test project first");
        var chosen = port ?? FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{chosen}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var directory = Environment.GetEnvironmentVariable("EXBUY_TEST_LOG_DIR") ?? Path.GetTempPath();
        var logPath = Path.Combine(directory, $"api-process-{name}.log");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        await log.WriteLineAsync($"--- {DateTimeOffset.UtcNow:O} starting {name} on port {chosen}");
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var api = new ApiProcess(process, log, chosen, logPath);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var watch = Stopwatch.StartNew();
        var limit = readyWithin ?? TimeSpan.FromMinutes(2);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the API process {name} exited with {process.ExitCode} during start-up; see {logPath}");
            }

            try
            {
                using var ready = await client.GetAsync(new Uri(api.BaseAddress, "/api/health/ready"));
                if (ready.IsSuccessStatusCode)
                {
                    TimingLog.Note($"API process {name} (pid {process.Id}) ready in {watch.ElapsedMilliseconds} ms");
                    return api;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            if (watch.Elapsed > limit)
            {
                await api.DisposeAsync();
                throw new TimeoutException($"the API process {name} was not ready within {limit.TotalSeconds:F0} s; see {logPath}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no shutdown, no flush, connections cut (what a crashed node or the OOM killer does).</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
        Write(_log, $"--- {DateTimeOffset.UtcNow:O} SIGKILLed");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // the last lines of a process being disposed
            }
        }
    }
}

internal static class Checks
{
    public static void ShouldBeTrueOrThrow(this bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
