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
/// that command sets; the defaults are the same ports.
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    public const string DefaultPostgres = "Host=127.0.0.1;Port=55442;Database=exbuy;Username=exbuy;Password=exbuy;Maximum Pool Size=100;No Reset On Close=true";
    public const string DefaultRedis = "127.0.0.1:56389,abortConnect=false,allowAdmin=true";
    public const string DefaultRedlockNodes = "127.0.0.1:56390;127.0.0.1:56391;127.0.0.1:56392;127.0.0.1:56393;127.0.0.1:56394";

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
                // Tests run the hold sweeper and the stock reconciler themselves, when their scenario needs them.
                ["ExBuy:Stock:SweepIntervalMs"] = "0",
                ["ExBuy:Stock:ReconcileIntervalMs"] = "0",
            }));
            builder.ConfigureServices(services =>
            {
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
