using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Deployment;

/// <summary>
/// <c>./exbuy test</c> and its tiers: the unit project runs with every server port closed (nothing started, nothing
/// reached), and the closing line is the one the README and CI read.
/// </summary>
public sealed partial class TestCommandTests : IDisposable
{
    private readonly string _results = Directory.CreateTempSubdirectory("exbuy-test-command-").FullName;

    /// <summary>
    /// The test servers' ports and connection strings all on ports nothing listens on (the ones of this run's servers
    /// are not used), and the results in a folder of this test's, not in .data/test/logs.
    /// </summary>
    private Dictionary<string, string?> ClosedServers(out int[] ports)
    {
        ports = [ClosedPort(), ClosedPort(), ClosedPort()];
        return new Dictionary<string, string?>
        {
            ["EXBUY_TEST_PG_PORT"] = ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["EXBUY_TEST_REDIS_PORT"] = ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["EXBUY_TEST_REDLOCK_BASE_PORT"] = ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={ports[0]};Database=exbuy;Username=exbuy;Password=exbuy;Timeout=2",
            ["ConnectionStrings__Redis"] = $"127.0.0.1:{ports[1]},abortConnect=true,connectTimeout=2000",
            ["ConnectionStrings__RedlockNodes"] = $"127.0.0.1:{ports[2]}",
            ["EXBUY_TEST_RESULTS"] = _results,
        };
    }

    private static Task<ProcessResult> ExBuyTest(Dictionary<string, string?> environment, params string[] args) =>
        // A bound against a hung build on a busy machine, not a speed expectation.
        Processes.RunAsync(Repo.PathOf("exbuy"), ["test", .. args], environment: environment, timeout: TimeSpan.FromMinutes(10));

    [Fact]
    public async Task the_unit_tier_runs_with_every_server_port_closed_and_starts_nothing()
    {
        var result = await ExBuyTest(ClosedServers(out var ports), "unit", "-class", "ExBuy.UnitTests.Deciders.CouponIssueDeciderTests");

        result.ExitCode.ShouldBe(0, result.Output);
        var summary = Summary().Match(SummaryLine(result.Output));
        summary.Success.ShouldBeTrue(result.Output);
        int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
        summary.Groups[2].Value.ShouldBe("0");
        result.Output.ShouldNotContain("starting PostgreSQL");
        result.Output.ShouldNotContain("starting Redis");
        File.Exists(Path.Combine(_results, "test-results-unit.trx")).ShouldBeTrue(result.Output);
        File.Exists(Path.Combine(_results, "test-results-api.trx")).ShouldBeFalse("only the unit project was asked for");
        foreach (var port in ports)
        {
            Listening(port).ShouldBeFalse($"something listens on {port} after ./exbuy test unit");
        }
    }

    [Fact]
    public async Task a_filter_that_matches_no_test_in_any_tier_run_fails_the_line()
    {
        var result = await ExBuyTest(ClosedServers(out _), "unit", "-class", "ExBuy.NoSuchNamespace.NoSuchTests");

        result.ExitCode.ShouldNotBe(0, result.Output);
        SummaryLine(result.Output).ShouldBe("0 passed, 0 failed");
        result.Output.ShouldContain("no test ran");
    }

    [Fact]
    public async Task the_help_names_each_tier_and_its_project_which_exists()
    {
        var result = await Processes.RunAsync(Repo.PathOf("exbuy"), ["test", "--help"]);

        result.ExitCode.ShouldBe(0, result.Output);
        foreach (var (tier, project) in new[] { ("unit", "ExBuy.UnitTests"), ("api", "ExBuy.Tests"), ("tooling", "ExBuy.Tooling.Tests") })
        {
            result.Output.ShouldContain($"  {tier,-8} tests/{project}:", Case.Sensitive);
            File.Exists(Repo.PathOf("tests", project, $"{project}.csproj")).ShouldBeTrue(project);
        }
    }

    /// <summary>The one "N passed, N failed" line of the output (the projects' own lines are prefixed).</summary>
    private static string SummaryLine(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.TrimEntries).Where(l => Summary().IsMatch(l)).ToArray();
        lines.Length.ShouldBe(1, output);
        return lines[0];
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static bool Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => Directory.Delete(_results, recursive: true);

    [GeneratedRegex(@"^([0-9]+) passed, ([0-9]+) failed(?:, [0-9]+ skipped)?$")]
    private static partial Regex Summary();
}
