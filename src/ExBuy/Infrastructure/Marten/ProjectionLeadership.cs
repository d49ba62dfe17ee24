using JasperFx.Events.Daemon;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Infrastructure.Marten;

/// <summary>Where Marten's async daemon (projections and subscriptions) runs: <c>ExBuy:ProjectionDaemon</c>.</summary>
public enum ProjectionDaemonMode
{
    /// <summary>On one API node at a time, elected by a PostgreSQL advisory lock (<see cref="ProjectionLeadership"/>); the default.</summary>
    Elected,

    /// <summary>On this node, unconditionally (one API process only; the test host).</summary>
    Solo,

    /// <summary>Not on this node.</summary>
    Off,
}

/// <summary>
/// Runs the async daemon on one API node at a time, with fail-over: each node tries a session-level PostgreSQL
/// advisory lock (<see cref="LockKeyFor"/>) every <see cref="Poll"/> on a connection of its own; the node that holds it
/// runs every projection and subscription from their stored progress, and checks its connection every
/// <see cref="Poll"/>. A node that dies (or loses its connection) loses the lock with its session, and another node
/// takes over within a poll. Marten's own <c>DaemonMode.HotCold</c> does the same, but its lock goes through Weasel's
/// <c>AdvisoryLock</c> and the DistributedLock.Postgres build it needs, which this project's package source cannot
/// provide (see build/local-packages/README.md: the election fails with a TypeLoadException there).
/// <para>
/// A leader whose connection breaks keeps running until its next check notices (at most one poll): another node may
/// run the daemon beside it meanwhile. Marten's progress updates are conditional, so a page is not recorded twice,
/// and the sales ranking counts a page delivered twice once (SalesRanking.ApplyAsync).
/// </para>
/// </summary>
public sealed partial class ProjectionLeadership(
    IDocumentStore store, IConfiguration configuration, IOptions<ExBuyOptions> options, ILogger<ProjectionLeadership> logger) : BackgroundService
{
    /// <summary>'ExBuyPrj' in ASCII: the advisory lock the elected node holds, combined with the schema (<see cref="LockKeyFor"/>).</summary>
    public const long LockKey = 0x4578_4275_7950_726A;

    /// <summary>
    /// The lock of one deployment: two ExBuy deployments in one database (different <c>ExBuy:DatabaseSchema</c>) each
    /// elect their own leader.
    /// </summary>
    public static long LockKeyFor(string schema)
    {
        var hash = 2166136261u; // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (var c in schema)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return LockKey ^ hash;
    }

    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    private volatile bool _leading;

    /// <summary>True while this node runs the daemon (always in Solo, never when Off).</summary>
    public bool IsLeader => options.Value.ProjectionDaemon switch
    {
        ProjectionDaemonMode.Solo => true,
        ProjectionDaemonMode.Off => false,
        _ => _leading,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.ProjectionDaemon != ProjectionDaemonMode.Elected)
        {
            return;
        }

        // Its own connection, outside the pool: the lock belongs to the session, and a pooled connection would carry
        // it back into the pool.
        var connectionString = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Postgres"))
        {
            Pooling = false,
            KeepAlive = 5,
            ApplicationName = "exbuy-projection-leadership",
        }.ConnectionString;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LeadWhileElectedAsync(connectionString, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LeadershipFailed(logger, e);
            }

            try
            {
                await Task.Delay(Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task LeadWhileElectedAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using (var take = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection))
        {
            take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKeyFor(options.Value.DatabaseSchema) });
            if (await take.ExecuteScalarAsync(ct) is not true)
            {
                return; // another node leads
            }
        }

        using var daemon = await store.BuildProjectionDaemonAsync(logger: logger);
        _leading = true;
        Elected(logger);
        try
        {
            await daemon.StartAllAsync();
            while (true)
            {
                await Task.Delay(Poll, ct);
                await using var alive = new NpgsqlCommand("select 1", connection);
                await alive.ExecuteScalarAsync(ct);
            }
        }
        finally
        {
            _leading = false;
            try
            {
                await daemon.StopAllAsync();
            }
            catch (Exception e)
            {
                LeadershipFailed(logger, e);
            }

            SteppedDown(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This node runs the projection daemon (elected by the PostgreSQL advisory lock)")]
    private static partial void Elected(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "This node stopped running the projection daemon")]
    private static partial void SteppedDown(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Projection daemon leadership: lost or not attainable; trying again")]
    private static partial void LeadershipFailed(ILogger logger, Exception e);
}
