using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using Weasel.Core;
using Wolverine.Marten;

namespace ExBuy.Infrastructure.Marten;

public static class MartenSetup
{
    public static WebApplicationBuilder AddExBuyMarten(this WebApplicationBuilder builder)
    {
        _ = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set.");

        // One pool for Marten and for the few hand-written SQL statements (conditional updates, aggregates). The
        // connection string is read when the pool is built, so that a host's own configuration (a test host's) applies.
        builder.Services.AddSingleton(sp =>
        {
            var connectionString = sp.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")
                ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set.");
            return DataSourceBuilder(connectionString).Build();
        });

        builder.Services.AddMarten(sp =>
            {
                var settings = sp.GetRequiredService<IOptions<ExBuyOptions>>().Value;
                var opts = new StoreOptions();
                opts.Connection(sp.GetRequiredService<NpgsqlDataSource>());
                opts.DatabaseSchemaName = settings.DatabaseSchema;
                opts.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.Default);
                opts.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                opts.Logger(new ExBuy.Infrastructure.Observability.MartenTimingLogger());

                // Streams are named by operation (order-123, balance-7, reservation-…); the modules add their
                // documents, events and projections through ConfigureMarten (see Features/Modules.cs).
                opts.Events.StreamIdentity = StreamIdentity.AsString;

                // Each event carries the id of the request that committed it (X-Request-Id, when the client sent one):
                // the outcome checker of perf/runner tells from it what every answer's request really stored.
                opts.Events.MetadataConfig.CorrelationIdEnabled = true;
                opts.Listeners.Add(new RequestCorrelationListener());
                return opts;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup()
            .AddAsyncDaemon(DaemonMode.Solo)
            .IntegrateWithWolverine();

        // Several API processes share one database: the projections and subscriptions run on one of them at a time,
        // elected by a PostgreSQL advisory lock, and another takes over when it dies (ProjectionLeadership). Marten's
        // own coordinator runs the daemon only in Solo mode (one process, the test host).
        builder.Services.ConfigureMarten((sp, opts) => opts.Projections.AsyncMode =
            sp.GetRequiredService<IOptions<ExBuyOptions>>().Value.ProjectionDaemon switch
            {
                ProjectionDaemonMode.Solo => DaemonMode.Solo,
                ProjectionDaemonMode.Elected => DaemonMode.ExternallyManaged, // run by ProjectionLeadership
                _ => DaemonMode.Disabled,
            });
        builder.Services.AddSingleton<ProjectionLeadership>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionLeadership>());
        // The modules' triggers (each module's IModuleInstall), after Marten has created the tables.
        builder.Services.AddHostedService<ModuleInstallSetup>();

        return builder;
    }

    /// <summary>The pool's settings: ExBuy's defaults for what the connection string leaves unset.</summary>
    public static NpgsqlDataSourceBuilder DataSourceBuilder(string connectionString)
    {
        var dataSource = new NpgsqlDataSourceBuilder(connectionString);
        // Automatic preparation: a statement used twice on a connection becomes a server-side prepared statement,
        // so PostgreSQL stops parsing and planning it on every call (planning the catalogue search took 0.9 ms,
        // longer than running it). Set Max Auto Prepare in the connection string to override; 0 turns it off.
        if (!connectionString.Contains("Max Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            dataSource.ConnectionStringBuilder.MaxAutoPrepare = 256;
            dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        // The planner's settings stay the server's. Generic plans for every prepared statement (plan_cache_mode=
        // force_generic_plan, with random_page_cost=1.1) spared a paid order 0.29 ms of planning, but made the
        // catalogue's price-filtered search on 50,000 products a thousand times slower (0.025 -> 25 ms): only the stock
        // take runs with them (StockHolds.TakeAsync). perf/README.md, "The write path".

        return dataSource;
    }
}
