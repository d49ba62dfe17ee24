using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Deployment;

/// <summary>
/// ports.env is the one definition of the default ports. ./exbuy and the test fixture read it; the files that must
/// spell a port themselves (the API's appsettings and launch profile for a bare `dotnet run`, compose.yaml's published
/// ports, the README) are checked against it here, and the script spells none.
/// </summary>
public sealed partial class PortsTests
{
    private static int P(string name) => Repo.Port(name);

    private static readonly string[] Names =
    [
        "EXBUY_API_PORT", "EXBUY_PG_PORT", "EXBUY_REDIS_PORT", "EXBUY_REDLOCK_BASE_PORT",
        "EXBUY_TEST_PG_PORT", "EXBUY_TEST_REDIS_PORT", "EXBUY_TEST_REDLOCK_BASE_PORT",
    ];

    /// <summary>Every port the defaults occupy (the RedLock bases stand for five each).</summary>
    private static IEnumerable<int> Occupied() => Names.SelectMany(name =>
        name.EndsWith("REDLOCK_BASE_PORT", StringComparison.Ordinal) ? Enumerable.Range(P(name), 5) : [P(name)]);

    [Fact]
    public void ports_env_defines_every_port_and_no_two_collide()
    {
        Repo.Ports.Keys.Order().ShouldBe(Names.Order());
        Occupied().Count().ShouldBe(Occupied().Distinct().Count());
    }

    [Fact]
    public void ports_env_rejects_a_line_that_is_not_a_port()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "# comment\nEXBUY_PG_PORT=1234\nEXBUY_REDIS_PORT=redis\n");
            Should.Throw<InvalidOperationException>(() => Repo.ReadPorts(file)).Message.ShouldContain("EXBUY_REDIS_PORT=redis");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void appsettings_points_a_bare_dotnet_run_at_the_dev_servers()
    {
        var settings = JsonNode.Parse(File.ReadAllText(Repo.PathOf("src", "ExBuy", "appsettings.json")))!["ConnectionStrings"]!;

        settings["Postgres"]!.GetValue<string>().ShouldContain($";Port={P("EXBUY_PG_PORT")};");
        settings["Redis"]!.GetValue<string>().ShouldStartWith($"127.0.0.1:{P("EXBUY_REDIS_PORT")},");
        settings["RedlockNodes"]!.GetValue<string>().ShouldBe(
            string.Join(';', Enumerable.Range(P("EXBUY_REDLOCK_BASE_PORT"), 5).Select(port => $"127.0.0.1:{port}")));
    }

    [Fact]
    public void the_launch_profile_serves_the_dev_api_port()
    {
        var settings = JsonNode.Parse(File.ReadAllText(Repo.PathOf("src", "ExBuy", "Properties", "launchSettings.json")))!;
        var profiles = settings["profiles"]!.AsObject();

        profiles.Count.ShouldBe(1);
        profiles.Single().Value!["applicationUrl"]!.GetValue<string>().ShouldBe($"http://localhost:{P("EXBUY_API_PORT")}");
    }

    [Fact]
    public void compose_publishes_the_dev_ports_on_loopback()
    {
        var compose = File.ReadAllText(Repo.PathOf("compose.yaml"));

        compose.ShouldContain($"\"127.0.0.1:{P("EXBUY_API_PORT")}:8080\"");
        compose.ShouldContain($"\"127.0.0.1:{P("EXBUY_PG_PORT")}:5432\"");
        compose.ShouldContain($"\"127.0.0.1:{P("EXBUY_REDIS_PORT")}:6379\"");
    }

    [Fact]
    public void the_readme_names_the_defined_ports_and_no_other()
    {
        var readme = File.ReadAllText(Repo.PathOf("README.md"));
        int[] composeTools = [3000, 8086, 9090]; // Grafana, InfluxDB, Prometheus (compose profiles)

        var named = Address().Matches(readme).Select(m => int.Parse(m.Groups[1].Value)).Distinct().ToList();
        named.Except(Occupied()).Except(composeTools).ShouldBeEmpty();
        Names.Select(P).Except(named).ShouldBeEmpty();

        foreach (Match range in PortRange().Matches(readme))
        {
            int.Parse(range.Groups[2].Value).ShouldBe(int.Parse(range.Groups[1].Value) + 4, range.Value);
            new[] { P("EXBUY_REDLOCK_BASE_PORT"), P("EXBUY_TEST_REDLOCK_BASE_PORT") }.ShouldContain(int.Parse(range.Groups[1].Value));
        }
    }

    [Theory]
    [InlineData("exbuy")]
    [InlineData("src/ExBuy")]
    [InlineData("tests/ExBuy.Tests/Infrastructure")]
    [InlineData("tests/ExBuy.Tooling.Tests")]
    [InlineData("tests/ExBuy.UnitTests")]
    public void code_spells_no_port_and_reads_ports_env_instead(string path)
    {
        var full = Repo.PathOf(path.Split('/'));
        var files = File.Exists(full)
            ? [full]
            : Directory.EnumerateFiles(full, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                         && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .ToArray();
        files.ShouldNotBeEmpty();

        // The API's own port is also the container's port (8080 in compose.yaml and the Dockerfile); code spells
        // neither. Only the 5-digit server ports are looked for in the test folders, which name example URLs.
        var ports = path.StartsWith("tests", StringComparison.Ordinal) ? Occupied().Where(p => p > 9999) : Occupied();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            foreach (var port in ports)
            {
                Regex.IsMatch(text, $@"(?<![0-9]){port}(?![0-9])").ShouldBeFalse($"{file} spells port {port}: read it from ports.env");
            }
        }
    }

    [GeneratedRegex(@"(?:127\.0\.0\.1|localhost):([0-9]{4,5})")]
    private static partial Regex Address();

    [GeneratedRegex(@"([0-9]{5})[–-]([0-9]{5})")]
    private static partial Regex PortRange();
}
