namespace ExBuy.Features.Health;

/// <summary>
/// <c>dotnet ExBuy.dll health [--url URL] [--timeout SECONDS]</c>: GETs the API's own readiness route and exits 0
/// when it answers 2xx, 1 otherwise. It is the container's healthcheck (compose.yaml), because the .NET runtime image
/// has neither curl nor wget, and its <c>/bin/sh</c> (dash) has no <c>/dev/tcp</c>. It runs before the application is
/// built (Program.cs), so a probe every few seconds costs a process start, not the API's whole start-up.
/// </summary>
public static class HealthProbe
{
    public const string Verb = "health";
    public const string ReadinessPath = "/api/health/ready";

    private const string Usage = """
        usage: dotnet ExBuy.dll health [--url URL] [--timeout SECONDS]

        GETs the API's readiness route and exits 0 when it answers 2xx, 1 otherwise (not reachable, 503, timeout).
          --url URL          what to GET (default: http://127.0.0.1:<first port of ASPNETCORE_HTTP_PORTS>/api/health/ready)
          --timeout SECONDS  give up after this long (default 3)
        """;

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Verb;

    /// <summary>Runs the probe from the command line (<paramref name="args"/> without the verb).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        string? url = null;
        var timeout = TimeSpan.FromSeconds(3);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help" or "help":
                    await output.WriteLineAsync(Usage);
                    return 0;
                case "--url" when i + 1 < args.Length:
                    url = args[++i];
                    break;
                case "--timeout" when i + 1 < args.Length && int.TryParse(args[i + 1], out var seconds) && seconds > 0:
                    timeout = TimeSpan.FromSeconds(seconds);
                    i++;
                    break;
                default:
                    await output.WriteLineAsync($"health: unexpected argument '{args[i]}'\n\n{Usage}");
                    return 2;
            }
        }

        url ??= DefaultUrl(Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            await output.WriteLineAsync("health: no URL to probe: pass --url, or set ASPNETCORE_HTTP_PORTS (the .NET images set it)");
            return 2;
        }

        using var client = new HttpClient { Timeout = timeout };
        return await ProbeAsync(client, uri, output, CancellationToken.None);
    }

    /// <summary>The readiness URL on loopback for the first of the ports the API listens on (<c>ASPNETCORE_HTTP_PORTS</c> is <c>a;b</c>).</summary>
    public static string? DefaultUrl(string? httpPorts)
    {
        var first = httpPorts?.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault();
        return int.TryParse(first, out var port) && port is > 0 and < 65536 ? $"http://127.0.0.1:{port}{ReadinessPath}" : null;
    }

    /// <summary>0 when <paramref name="url"/> answers 2xx; 1 (with the reason on <paramref name="output"/>) otherwise.</summary>
    public static async Task<int> ProbeAsync(HttpClient client, Uri url, TextWriter output, CancellationToken ct)
    {
        try
        {
            using var response = await client.GetAsync(url, ct);
            if (response.IsSuccessStatusCode)
            {
                return 0;
            }

            var body = await response.Content.ReadAsStringAsync(ct);
            await output.WriteLineAsync($"health: {url} answered {(int)response.StatusCode}: {body}");
            return 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"health: {url} did not answer: {e.Message}");
            return 1;
        }
    }
}
