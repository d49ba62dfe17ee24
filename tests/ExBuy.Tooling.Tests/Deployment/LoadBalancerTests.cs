using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ExBuy.Infrastructure.Hosting;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Deployment;

/// <summary>
/// The HAProxy configuration <c>./exbuy up --instances N</c> writes (<c>./exbuy lb-config N</c> prints it), run for real:
/// two API processes behind it share the requests, and when one is SIGKILLed every request still gets its answer
/// from the other (a refused connection is sent elsewhere; the health check takes the dead one out).
/// </summary>
public sealed class LoadBalancerTests(AppFixture app) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-lb-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A port with the two after it free (HAProxy there, the instances on the next two).</summary>
    private static int FreeBasePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var candidate = Random.Shared.Next(20_000, 40_000);
            if (Enumerable.Range(candidate, 3).All(IsFree))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("no three consecutive free ports");

        static bool IsFree(int port)
        {
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }
    }

    [Fact]
    public async Task the_generated_haproxy_configuration_spreads_requests_and_routes_around_a_killed_instance()
    {
        var basePort = FreeBasePort();
        var env = new Dictionary<string, string?> { ["EXBUY_API_PORT"] = basePort.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var generated = await Processes.RunAsync(Repo.PathOf("exbuy"), ["lb-config", "2"], environment: env);
        generated.ExitCode.ShouldBe(0, generated.Output);
        generated.Output.ShouldContain($"bind 127.0.0.1:{basePort}");
        var config = Path.Combine(dir, "haproxy.cfg");
        await File.WriteAllTextAsync(config, generated.Output.Replace(Repo.PathOf(".data", "dev", "haproxy"), dir, StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var haproxy = Environment.GetEnvironmentVariable("EXBUY_HAPROXY") is { Length: > 0 } set ? set : "/usr/sbin/haproxy";
        (await Processes.RunAsync(haproxy, ["-c", "-f", config])).ExitCode.ShouldBe(0);

        var (postgres, redis, redlock) = app.ConnectionStrings;
        Dictionary<string, string> Settings(string id) => new()
        {
            ["ConnectionStrings:Postgres"] = postgres,
            ["ConnectionStrings:Redis"] = redis,
            ["ConnectionStrings:RedlockNodes"] = redlock,
            ["ExBuy:DatabaseSchema"] = "exbuy_lb", // kept between runs: only the health routes are used
            ["ExBuy:InstanceId"] = id,
            ["ExBuy:DataDirectory"] = Path.Combine(dir, id),
        };
        var instances = await Task.WhenAll(
            ApiProcess.StartAsync("lb-1", Settings("api-1"), basePort + 1),
            ApiProcess.StartAsync("lb-2", Settings("api-2"), basePort + 2));
        using var lb = Process.Start(new ProcessStartInfo(haproxy, ["-db", "-f", config]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        try
        {
            lb.BeginOutputReadLine();
            lb.BeginErrorReadLine();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{basePort}"), Timeout = TimeSpan.FromSeconds(30) };
            await Eventually.WaitUntilAsync(async () => (await http.GetAsync("/api/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "HAProxy to reach the instances");

            async Task<List<(HttpStatusCode Status, string Instance)>> Ask(int count)
            {
                var answers = new List<(HttpStatusCode, string)>();
                for (var i = 0; i < count; i++)
                {
                    using var response = await http.GetAsync("/api/health");
                    answers.Add((response.StatusCode, response.Headers.TryGetValues(ExBuyInstance.HeaderName, out var v) ? v.Single() : "(none)"));
                }

                return answers;
            }

            var before = await Ask(40);
            before.ShouldAllBe(a => a.Status == HttpStatusCode.OK);
            before.Select(a => a.Instance).Distinct().Order().ShouldBe(["api-1", "api-2"]);
            before.Count(a => a.Instance == "api-1").ShouldBeInRange(15, 25, "round robin");

            await instances[1].KillAsync();
            var after = await Ask(40);
            after.ShouldAllBe(a => a.Status == HttpStatusCode.OK, "a refused connection is retried on the live instance");
            after.ShouldAllBe(a => a.Instance == "api-1");
        }
        finally
        {
            lb.Kill();
            await lb.WaitForExitAsync(TestContext.Current.CancellationToken);
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// What reaches the generated HAProxy from another address — a sidecar or forwarder connecting from 127.0.0.6 — is
    /// that client to the API, not HAProxy's 127.0.0.1: HAProxy sends the address (<c>option forwardfor</c>, after
    /// dropping whatever the client wrote there), and the instance trusts it as <c>./exbuy up --instances N</c>
    /// configures it (<c>ExBuy:TrustedProxies</c> 127.0.0.1). DELETE of an unknown product: 403 when refused, 404
    /// once past the admin check; nothing changes either way.
    /// </summary>
    [Fact]
    public async Task a_client_of_the_generated_haproxy_is_admin_only_from_the_local_machine()
    {
        var basePort = FreeBasePort();
        var env = new Dictionary<string, string?> { ["EXBUY_API_PORT"] = basePort.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var generated = await Processes.RunAsync(Repo.PathOf("exbuy"), ["lb-config", "1"], environment: env);
        generated.ExitCode.ShouldBe(0, generated.Output);
        generated.Output.ShouldContain("option forwardfor");
        generated.Output.ShouldContain("http-request del-header X-Forwarded-For");
        var config = Path.Combine(dir, "haproxy.cfg");
        await File.WriteAllTextAsync(config, generated.Output.Replace(Repo.PathOf(".data", "dev", "haproxy"), dir, StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var haproxy = Environment.GetEnvironmentVariable("EXBUY_HAPROXY") is { Length: > 0 } set ? set : "/usr/sbin/haproxy";

        var (postgres, redis, redlock) = app.ConnectionStrings;
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = postgres,
            ["ConnectionStrings:Redis"] = redis,
            ["ConnectionStrings:RedlockNodes"] = redlock,
            ["ExBuy:DatabaseSchema"] = "exbuy_lb",
            ["ExBuy:InstanceId"] = "api-1",
            ["ExBuy:DataDirectory"] = Path.Combine(dir, "api-1"),
            ["ExBuy:Profile"] = "local",
            ["ExBuy:TrustedProxies"] = "127.0.0.1",
        };
        await using var instance = await ApiProcess.StartAsync("lb-admin", settings, basePort + 1);
        using var lb = Process.Start(new ProcessStartInfo(haproxy, ["-db", "-f", config]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        try
        {
            lb.BeginOutputReadLine();
            lb.BeginErrorReadLine();
            var target = new Uri($"http://127.0.0.1:{basePort}");
            using var local = new HttpClient { BaseAddress = target, Timeout = TimeSpan.FromSeconds(30) };
            using var sidecar = new HttpClient(From(IPAddress.Parse("127.0.0.6"))) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(30) };
            await Eventually.WaitUntilAsync(async () => (await local.GetAsync("/api/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "HAProxy to reach the instance");

            async Task<HttpStatusCode> Delete(HttpClient client, string? forwardedFor)
            {
                using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/products/987654321");
                if (forwardedFor is not null)
                {
                    request.Headers.Add("X-Forwarded-For", forwardedFor);
                }

                using var response = await client.SendAsync(request);
                return response.StatusCode;
            }

            (await Delete(sidecar, null)).ShouldBe(HttpStatusCode.Forbidden, "a client connecting from 127.0.0.6 is not this machine");
            (await Delete(sidecar, "127.0.0.1")).ShouldBe(HttpStatusCode.Forbidden, "what a client writes into X-Forwarded-For is dropped");
            (await Delete(local, null)).ShouldBe(HttpStatusCode.NotFound, "the developer on 127.0.0.1 is admin through HAProxy");
        }
        finally
        {
            lb.Kill();
            await lb.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A handler whose connections leave from <paramref name="source"/> (any 127.x address is loopback on Linux).</summary>
    private static SocketsHttpHandler From(IPAddress source) => new()
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
