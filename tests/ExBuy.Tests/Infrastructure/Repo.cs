using System.Diagnostics;

namespace ExBuy.Tests.Infrastructure;

/// <summary>The checkout the tests run from (found above the test binaries) and its ports.env.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>ports.env, the one place the default ports are defined (./exbuy reads the same file).</summary>
    public static IReadOnlyDictionary<string, int> Ports { get; } = ReadPorts(PathOf("ports.env"));

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static int Port(string name) =>
        Ports.TryGetValue(name, out var port) ? port : throw new InvalidOperationException($"ports.env defines no {name}");

    public static IReadOnlyDictionary<string, int> ReadPorts(string file)
    {
        var ports = new Dictionary<string, int>();
        foreach (var line in File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var parts = line.Split('=', 2);
            if (parts.Length != 2 || !int.TryParse(parts[1], out var port) || !ports.TryAdd(parts[0], port))
            {
                throw new InvalidOperationException($"ports.env: unexpected line '{line}'");
            }
        }

        return ports;
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "ExBuy.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("ExBuy.sln not found above the test binaries");
    }
}

public sealed record ProcessResult(int ExitCode, string Output);

/// <summary>Runs a program to its end, its output (stdout then stderr) collected.</summary>
public static class Processes
{
    /// <param name="environment">variables to set; a null value removes the variable.</param>
    /// <param name="timeout">a safety net against a hung tool, not a measure of speed.</param>
    public static async Task<ProcessResult> RunAsync(
        string file, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in {timeout}");
        }

        return new ProcessResult(process.ExitCode, await stdout + await stderr);
    }
}
