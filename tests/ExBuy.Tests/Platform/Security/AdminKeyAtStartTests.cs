using ExBuy.Infrastructure.Security;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Platform.Security;

/// <summary>
/// Outside the local profile the admin key is all that guards the destructive routes: a key anyone can guess stops
/// the API when it starts, with a message naming the setting. Run as a real process (<c>dotnet ExBuy.dll</c>, as
/// the image and <c>./exbuy up</c> run it) against the test PostgreSQL and Redis, so the only thing wrong is the key.
/// </summary>
public sealed class AdminKeyAtStartTests(AppFixture app)
{
    [Theory]
    [InlineData("CHANGE-ME-to-a-long-random-value", "is a placeholder")] // the Kubernetes Secret's, as shipped
    [InlineData("changeme", "is shorter than 24 characters")]
    [InlineData("0123456789abcdef012345", "is shorter than 24 characters")]
    [InlineData("", "is empty")]
    public async Task a_guessable_key_stops_the_api_at_start_outside_the_local_profile(string key, string reason)
    {
        var result = await Start(("ExBuy:Profile", "kubernetes"), ("ExBuy:AdminKey", key));

        result.ExitCode.ShouldNotBe(0, result.Output);
        result.Output.ShouldContain("ExBuy:AdminKey (ExBuy__AdminKey) " + reason);
        result.Output.ShouldContain("the profile is 'kubernetes', not 'local'");
    }

    [Fact]
    public async Task a_misspelt_trusted_proxy_stops_the_api_at_start()
    {
        var result = await Start(("ExBuy:TrustedProxies", "127.0.0.1, 10.0.0.300"));

        result.ExitCode.ShouldNotBe(0, result.Output);
        result.Output.ShouldContain("ExBuy:TrustedProxies (ExBuy__TrustedProxies) holds entries that are neither an IP address nor a network (a.b.c.d/n): 10.0.0.300");
    }

    [Theory]
    [InlineData("CHANGE-ME-please-to-something-random", "is a placeholder, not a secret")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "is a placeholder, not a secret")]
    [InlineData("   ", "is empty")]
    [InlineData(null, "is empty")]
    [InlineData("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c", null)]
    public void the_key_rules(string? key, string? problem) =>
        SecuritySettingsValidation.KeyProblem(key).ShouldBe(problem);

    [Fact]
    public void the_kubernetes_secret_as_shipped_holds_a_key_the_api_refuses()
    {
        var secret = File.ReadAllLines(Repo.PathOf("deploy", "k8s", "exbuy-external.yaml"));
        var line = secret.Single(l => l.TrimStart().StartsWith("ExBuy__AdminKey:", StringComparison.Ordinal));
        var key = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Trim('"');
        SecuritySettingsValidation.KeyProblem(key).ShouldBe("is a placeholder, not a secret");
    }

    /// <summary>Runs the API until it exits; one that starts serving instead is a failed expectation (killed by the safety net).</summary>
    private async Task<ProcessResult> Start(params (string Key, string Value)[] settings)
    {
        var (postgres, redis, redlock) = app.ConnectionStrings;
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ApiProcess.FreePort()}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Postgres"] = postgres,
            ["ConnectionStrings__Redis"] = redis,
            ["ConnectionStrings__RedlockNodes"] = redlock,
            ["ExBuy__DatabaseSchema"] = "exbuy_startcheck",
            ["ExBuy__DataDirectory"] = Path.Combine(Path.GetTempPath(), "exbuy-startcheck"),
            ["ExBuy__ProjectionDaemon"] = "Off",
        };
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return await Processes.RunAsync("dotnet", [ApiProcess.Assembly], workingDirectory: Path.GetDirectoryName(ApiProcess.Assembly),
            environment: environment, timeout: TimeSpan.FromSeconds(60));
    }
}
