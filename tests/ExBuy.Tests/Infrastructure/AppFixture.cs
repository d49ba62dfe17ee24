using Alba;
using JasperFx.CommandLine;
using Marten;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;
using Wolverine;

[assembly: AssemblyFixture(typeof(ExBuy.Tests.Infrastructure.AppFixture))]

namespace ExBuy.Tests.Infrastructure;

/// <summary>
/// One in-process ExBuy for the whole run, on the real PostgreSQL and Redis that <c>./exbuy test</c> starts
/// (its own data folder and ports: nothing the dev server uses). Connection strings come from the environment
/// that command sets; without it, from the test ports of ports.env, as <c>./exbuy test</c> would start them.
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    public static string DefaultPostgres =>
        $"Host=127.0.0.1;Port={Repo.Port("EXBUY_TEST_PG_PORT")};Database=exbuy;Username=exbuy;Password=exbuy;Maximum Pool Size=100;No Reset On Close=true";

    public static string DefaultRedis => $"127.0.0.1:{Repo.Port("EXBUY_TEST_REDIS_PORT")},abortConnect=false,allowAdmin=true";

    public static string DefaultRedlockNodes =>
        string.Join(';', Enumerable.Range(Repo.Port("EXBUY_TEST_REDLOCK_BASE_PORT"), 5).Select(port => $"127.0.0.1:{port}"));

    public string RedlockNodes { get; } = Environment.GetEnvironmentVariable("ConnectionStrings__RedlockNodes") ?? DefaultRedlockNodes;

    /// <summary>Where <c>./exbuy test</c> keeps the Redis data folders; tests that stop a RedLock node restart it there.</summary>
    public string RedisDirectory { get; } = Environment.GetEnvironmentVariable("EXBUY_REDLOCK_NODE_DIR") ?? Path.GetTempPath();

    public IAlbaHost Host { get; private set; } = null!;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"exbuy-tests-{Guid.NewGuid():N}");

    public async ValueTask InitializeAsync()
    {
        JasperFxEnvironment.AutoStartHost = true;
        var postgres = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? DefaultPostgres;
        var redis = Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? DefaultRedis;
        await EnsureReachable(redis);

        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Postgres"] = postgres,
                ["ConnectionStrings:Redis"] = redis,
                ["ConnectionStrings:RedlockNodes"] = RedlockNodes,
                ["ExBuy:DataDirectory"] = DataDirectory,
                ["ExBuy:Profile"] = "local",
            }));
            builder.ConfigureServices(services =>
            {
                services.AddTransient<Microsoft.AspNetCore.Hosting.IStartupFilter, ProfileOverride>();
                services.RunWolverineInSoloMode();
                services.DisableAllExternalWolverineTransports();
            });
        });
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private static async Task EnsureReachable(string redis)
    {
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(redis + ",abortConnect=true,connectTimeout=3000");
        }
        catch (RedisConnectionException e)
        {
            throw new InvalidOperationException(
                "The test Redis is not reachable. Run the suite with ./exbuy test, which starts PostgreSQL and Redis for it.", e);
        }
    }
}
