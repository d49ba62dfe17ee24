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

        // Generic plans for prepared statements, costed for a database that lives in memory. With PostgreSQL's default
        // plan_cache_mode=auto, a prepared statement whose parameter is an array of ids (`id = any($1)`: Marten's
        // LoadMany, the stock take, the catalogue's stock overlay) is planned again on every call: its generic plan
        // cannot know the array holds one to three ids and looks dearer than the custom plans of its first five calls.
        // In a paid order that was 0.29 ms of planning, as much as the statements' execution (pg_stat_statements with
        // track_planning). Generic plans alone are not enough: costed with random_page_cost=4 (disk seeks), the generic
        // plan of the stock take scans the whole stock table instead of its primary key. random_page_cost=1.1 is the
        // usual setting for data in memory or on SSDs, and with it every generic plan of these statements is an index
        // lookup. With the other write-path changes of issue 13 (perf/README.md, r199-r202, r207-r208): a paid order
        // 1.73-1.80 -> 1.41-1.43 ms of PostgreSQL CPU, read-heavy 0.53 -> 0.51 ms per request. Set either in the connection string's Options (or PGOPTIONS) to
        // override it. (Behind PgBouncer, which refuses the startup parameter `options`, set them with ALTER ROLE.)
        // Npgsql sends PGOPTIONS only when the string has no Options: start from it so that it is not lost. PostgreSQL
        // accepts a setting's name with dashes too (-c random-page-cost=4).
        var options = dataSource.ConnectionStringBuilder.Options ?? Environment.GetEnvironmentVariable("PGOPTIONS") ?? string.Empty;
        var named = options.Replace('-', '_');
        foreach (var (name, value) in new[] { ("plan_cache_mode", "force_generic_plan"), ("random_page_cost", "1.1") })
        {
            if (!named.Contains(name, StringComparison.OrdinalIgnoreCase))
            {
                options = $"{options} -c {name}={value}".Trim();
            }
        }

        dataSource.ConnectionStringBuilder.Options = options;

        return dataSource;
    }
}
