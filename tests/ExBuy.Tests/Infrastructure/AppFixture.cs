using Alba;
using JasperFx.CommandLine;
using JasperFx.Events.Daemon;
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
        await EnsureReachable(Redis);
        Host = await StartHostAsync(new Dictionary<string, string?>(), HostRole.Shared);
    }

    /// <summary>
    /// A second in-process ExBuy on the same servers with some settings of its own (e.g. another profile or default
    /// lock type), for the tests of those settings; the shared host's options are never changed. It runs no
    /// background work that the shared host already does on the same database: no projection daemon and no Wolverine
    /// durability agent (which would race the shared host's for the same projection rows and inbox envelopes).
    /// Dispose it at the end of the test.
    /// </summary>
    public Task<IAlbaHost> StartHostWithAsync(params (string Key, string? Value)[] settings) =>
        StartHostAsync(settings.ToDictionary(s => s.Key, s => s.Value), HostRole.Secondary);

    /// <summary>
    /// One API node as production runs it (projection daemon elected by <c>HotCold</c>, Wolverine in its balanced
    /// multi-node mode with its durability agent) on the PostgreSQL schema <paramref name="schema"/>, where its
    /// documents, events and Wolverine's tables live: start two on the same schema for a cluster of their own that
    /// the shared host (solo daemon and Wolverine, schema <c>exbuy</c>) does not take part in. Dispose at the end.
    /// </summary>
    public Task<IAlbaHost> StartClusterNodeAsync(string schema, string instanceId, params (string Key, string? Value)[] settings)
    {
        var all = settings.ToDictionary(s => s.Key, s => s.Value);
        all["ExBuy:DatabaseSchema"] = schema;
        all["ExBuy:InstanceId"] = instanceId;
        return StartHostAsync(all, HostRole.ClusterNode);
    }

    /// <summary>Drops a schema that <see cref="StartClusterNodeAsync"/> nodes used (and everything in it).</summary>
    public async Task DropSchemaAsync(string schema)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"drop schema if exists \"{schema}\" cascade", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>The connection strings the hosts use, for API processes a test starts itself.</summary>
    public (string Postgres, string Redis, string RedlockNodes) ConnectionStrings => (Postgres, Redis, RedlockNodes);

    private enum HostRole
    {
        Shared,
        Secondary,
        ClusterNode,
    }

    private string Postgres { get; } = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? DefaultPostgres;

    private string Redis { get; } = Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? DefaultRedis;

    private Task<IAlbaHost> StartHostAsync(IReadOnlyDictionary<string, string?> overrides, HostRole role)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = Postgres,
            ["ConnectionStrings:Redis"] = Redis,
            ["ConnectionStrings:RedlockNodes"] = RedlockNodes,
            ["ExBuy:DataDirectory"] = DataDirectory,
            ["ExBuy:Profile"] = "local",
            // As ./exbuy up --instances N runs its instances behind HAProxy (TestServer's own requests have no address).
            ["ExBuy:TrustedProxies"] = "127.0.0.1",
            // No background pass: a test that breaks a coupon gate on purpose must see it broken; the recovery
            // tests run the reconciler's pass themselves.
            ["ExBuy:Coupons:ReconcileIntervalSeconds"] = "0",
            ["ExBuy:Coupons:RecoveryIntervalSeconds"] = "0",
            // Tests run the hold sweeper and the stock reconciler themselves, when their scenario needs them.
            ["ExBuy:Stock:SweepIntervalMs"] = "0",
            ["ExBuy:Stock:ReconcileIntervalMs"] = "0",
            // The upload sweeper deletes files no row names: after every test's reset that is every earlier upload.
            ["ExBuy:Uploads:SweepIntervalSeconds"] = "0",
        };
        // The API elects one node for the projection daemon; the shared test host is the only node and must not wait
        // for an election after every reset, and a secondary host leaves the daemon to it.
        settings["ExBuy:ProjectionDaemon"] = role switch { HostRole.Shared => "Solo", HostRole.Secondary => "Off", _ => "Elected" };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return AlbaHost.For<Program>(builder =>
        {
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
            builder.ConfigureServices(services =>
            {
                services.AddTransient<Microsoft.AspNetCore.Hosting.IStartupFilter, ProfileOverride>();
                services.DisableAllExternalWolverineTransports();
                if (role == HostRole.ClusterNode)
                {
                    return;
                }

                services.RunWolverineInSoloMode();
                if (role == HostRole.Secondary)
                {
                    services.ConfigureWolverine(opts => opts.Durability.DurabilityAgentEnabled = false);
                }
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
