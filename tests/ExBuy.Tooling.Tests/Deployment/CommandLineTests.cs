using System.Net;
using System.Net.Sockets;
using ExBuy.Features.Health;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Deployment;

/// <summary>The API's own command line as ./exbuy and the container run it: <c>dotnet ExBuy.dll …</c>.</summary>
public sealed class CommandLineTests(AppFixture app)
{
    /// <summary>
    /// The API as its own build wrote it (src/ExBuy/bin/&lt;configuration&gt;), not the copy beside the tests: JasperFx
    /// scans the assemblies next to the app, and the test binaries there reference xunit, which the app's deps lack.
    /// </summary>
    private static readonly string AppDirectory = Repo.PathOf(
        "src", "ExBuy", "bin", Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!,
        Path.GetFileName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)));

    private static Task<ProcessResult> ExBuy(params string[] args) => ExBuyWith(new Dictionary<string, string?>(), args);

    private static Task<ProcessResult> ExBuyWith(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        Processes.RunAsync("dotnet", [Path.Combine(AppDirectory, "ExBuy.dll"), .. args], AppDirectory, environment);

    [Fact]
    public async Task the_command_line_lists_every_command_without_the_discovery_banner()
    {
        var result = await ExBuy("help");

        result.ExitCode.ShouldBe(0, result.Output);
        result.Output.ShouldNotContain("for commands"); // JasperFx's "Searching '<assembly>' for commands"
        foreach (var command in new[] { "run", "seed", "projections", "db-apply", "db-patch", "codegen", "describe", "check-env" })
        {
            result.Output.ShouldContain($"  {command} ", Case.Sensitive, $"{command} is missing from:\n{result.Output}");
        }
    }

    [Fact]
    public async Task the_health_probe_exits_1_when_nothing_answers()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await ExBuy("health", "--url", $"http://127.0.0.1:{closedPort}/api/health/ready");

        result.ExitCode.ShouldBe(1, result.Output);
        result.Output.ShouldContain("did not answer");
    }

    [Fact]
    public async Task the_health_probe_exits_0_when_the_api_is_ready()
    {
        var output = new StringWriter();
        var exit = await HealthProbe.ProbeAsync(
            app.Host.Server.CreateClient(), new Uri("http://localhost/api/health/ready"), output, TestContext.Current.CancellationToken);

        exit.ShouldBe(0, output.ToString());
    }

    [Fact]
    public async Task the_health_probe_exits_1_when_the_api_answers_503()
    {
        using var client = new HttpClient(new Answering(HttpStatusCode.ServiceUnavailable));
        var output = new StringWriter();

        var exit = await HealthProbe.ProbeAsync(
            client, new Uri("http://localhost/api/health/ready"), output, TestContext.Current.CancellationToken);

        exit.ShouldBe(1);
        output.ToString().ShouldContain("answered 503");
    }

    [Theory]
    [InlineData("8080", "http://127.0.0.1:8080/api/health/ready")]
    [InlineData("9000;8080", "http://127.0.0.1:9000/api/health/ready")]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("http", null)]
    public void the_probe_url_is_the_first_of_the_http_ports(string? ports, string? url) =>
        HealthProbe.DefaultUrl(ports).ShouldBe(url);

    [Fact]
    public async Task the_health_probe_without_a_url_or_port_says_what_is_missing()
    {
        var result = await ExBuyWith(new Dictionary<string, string?> { ["ASPNETCORE_HTTP_PORTS"] = null }, "health");

        result.ExitCode.ShouldBe(2, result.Output);
        result.Output.ShouldContain("pass --url");
    }

    private sealed class Answering(HttpStatusCode status) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent("""{"status":"unavailable"}""") });
    }
}
