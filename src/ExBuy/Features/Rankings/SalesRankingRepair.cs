using ExBuy.Infrastructure.Hosting;
using Marten;
using Npgsql;
using StackExchange.Redis;

namespace ExBuy.Features.Rankings;

/// <summary>
/// Restores a ranking Redis lost (restarted empty, flushed) without waiting for the next sale: every
/// <c>ExBuy:Rankings:RepairIntervalMs</c> (2 s; 0 = off) a pass looks whether the subscription has counted events
/// (its stored progress) while Redis holds no applied mark, and if so writes the ranking computed from PostgreSQL as of
/// that progress. The write is conditional (<see cref="SalesRanking.ReplaceAsync"/>: only while there is still no mark),
/// so a subscription page that rebuilt it first, or another node's pass, wins and nothing is counted twice.
/// </summary>
public sealed partial class SalesRankingRepair(
    IConnectionMultiplexer redis, NpgsqlDataSource db, IDocumentStore store, SalesRanking ranking, IConfiguration configuration, TimeProvider time, ILogger<SalesRankingRepair> logger)
    : PeriodicPass(time)
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(configuration.GetValue("ExBuy:Rankings:RepairIntervalMs", 2_000));

    protected override Task RunPassAsync(CancellationToken ct) => RepairAsync(ct);

    protected override void PassFailed(Exception e) => LogPassFailed(logger, e);

    /// <returns>True when the ranking was lost and has been written again.</returns>
    public async Task<bool> RepairAsync(CancellationToken ct)
    {
        var redisDb = redis.GetDatabase();
        if (await redisDb.KeyExistsAsync(SalesRanking.AppliedKey))
        {
            return false;
        }

        var schema = store.Options.Events.DatabaseSchemaName;
        var progress = await SalesRankingSubscription.ProgressAsync(db, schema, ct);
        if (progress == 0)
        {
            return false; // nothing counted yet: nothing to lose
        }

        var written = await SalesRanking.RebuildAsync(redisDb, db, schema, ranking.Today, progress, ct);
        if (written)
        {
            LogRepaired(logger, progress);
        }

        return written;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The sales ranking was gone from Redis: rebuilt from PostgreSQL as of event {Progress}")]
    private static partial void LogRepaired(ILogger logger, long progress);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sales ranking repair failed; retrying on the next tick")]
    private static partial void LogPassFailed(ILogger logger, Exception e);
}
