using ExBuy.Infrastructure.Hosting;
using ExBuy.Infrastructure.Observability;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Inventory;

/// <summary>What one reconciliation pass saw and did.</summary>
public sealed record StockReconciliation(bool Skipped, int Checked, int Restored, int Repaired, int Removed, int Suspected)
{
    public static readonly StockReconciliation SkippedPass = new(true, 0, 0, 0, 0, 0);
}

/// <summary>
/// Brings the Redis stock keys back to the database's truth: keys Redis lost, keys left too low (a request died
/// between the gate and the database, a give-back failed, a cancelled order's Redis update was lost) and keys too
/// high, whatever caused them.
/// <para>
/// <b>The truth</b> is the product's stock in PostgreSQL. Open holds are already taken there, so they need no
/// correction; what the database cannot see is work between the two stores — a gate decrement whose database take
/// has not happened yet, a release whose Redis give-back has not happened yet. Such work lasts milliseconds, so a
/// pass repairs a key only when it finds the <i>same</i> difference (Redis − database) as the previous pass, an
/// interval earlier, with the same Redis value and the same stock row version — nothing touched the product in between,
/// so the difference is drift, not work in flight; a difference that moves, or recurs while requests flow, is traffic,
/// and it is looked at again next time (a key that stays busy is repaired in the first quiet interval). Redis is read before
/// the database, and the repair is a compare-and-set on the value read: a gate decrement or give-back that lands
/// in between makes the repair a no-op rather than being overwritten. A repair that still guesses wrong (a single
/// request stalled between the stores for a whole interval) leaves the key off by that request, in either
/// direction, until the next passes see the new difference hold; Redis too high only lets a buyer through the gate
/// for the database to refuse, so nothing is ever oversold. A missing key is restored at once (the gate refuses to
/// decrement a missing key, so nothing can be in flight on it).
/// </para>
/// <para>
/// Several API nodes may run it: each pass holds a PostgreSQL advisory lock for its duration and a node that cannot
/// get it skips the pass.
/// </para>
/// </summary>
public sealed partial class StockReconciler(
    IDocumentStore store, RedisStock redisStock, IOptions<StockRecoveryOptions> options, TimeProvider clock, ILogger<StockReconciler> logger)
    : PeriodicPass(clock)
{
    /// <summary>The advisory lock key ('ExBuyStk' in ASCII): one reconciler at a time across the API nodes.</summary>
    public const long AdvisoryLockKey = 0x4578_4275_7953_746B;

    private readonly SemaphoreSlim _onePass = new(1, 1);
    private Dictionary<long, Sighting> _suspects = [];

    /// <summary>A difference seen on a key: the difference, the Redis value and the stock row's version it was seen with.</summary>
    private readonly record struct Sighting(long Difference, long Redis, int Version);

    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(options.Value.ReconcileIntervalMs);

    protected override Task RunPassAsync(CancellationToken ct) => ReconcileAsync(ct);

    protected override void PassFailed(Exception e)
    {
        ExBuyMetrics.StockReconcilePasses.WithLabels("failed").Inc();
        LogPassFailed(logger, e);
    }

    /// <summary>One pass over every product that has (or should have) a Redis stock key.</summary>
    public async Task<StockReconciliation> ReconcileAsync(CancellationToken ct)
    {
        await _onePass.WaitAsync(ct);
        try
        {
            await using var connection = store.Storage.Database.CreateConnection();
            await connection.OpenAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var tryLock = new NpgsqlCommand(InventorySql.TryReconcilerLock, connection, transaction))
            {
                tryLock.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
                if (await tryLock.ExecuteScalarAsync(ct) is not true)
                {
                    ExBuyMetrics.StockReconcilePasses.WithLabels("skipped").Inc();
                    return StockReconciliation.SkippedPass;
                }
            }

            var result = await ReconcileUnderLockAsync(connection, transaction, ct);
            await transaction.CommitAsync(ct);
            ExBuyMetrics.StockReconcilePasses.WithLabels("done").Inc();
            return result;
        }
        finally
        {
            _onePass.Release();
        }
    }

    private async Task<StockReconciliation> ReconcileUnderLockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var gated = await ReadIdsAsync(connection, transaction, InventorySql.GatedIds(store), ct);
        var ids = gated.Union(await redisStock.KeyedProductIdsAsync()).Order().ToList();
        if (ids.Count == 0)
        {
            _suspects = [];
            return new StockReconciliation(false, 0, 0, 0, 0, 0);
        }

        // Redis first, then the database: see the class comment.
        var inRedis = await redisStock.GetManyAsync(ids);
        var inDatabase = await ProductStock.ReadAsync(connection, transaction, store, ids, ct);

        var suspects = new Dictionary<long, Sighting>();
        var (restored, repaired, removed) = (0, 0, 0);
        var gone = new List<long>();
        var ungated = new List<long>();
        for (var i = 0; i < ids.Count; i++)
        {
            var (id, redis) = (ids[i], inRedis[i]);
            if (!inDatabase.TryGetValue(id, out var row))
            {
                gone.Add(id);
                if (redis is { } stale && await redisStock.CompareAndSetAsync(id, stale, null))
                {
                    removed++;
                    ExBuyMetrics.StockRepairs.WithLabels("stale").Inc();
                }

                continue;
            }

            var stock = row.Stock;
            if (!gated.Contains(id))
            {
                ungated.Add(id);
            }

            if (redis is not { } value)
            {
                if (await redisStock.CompareAndSetAsync(id, null, stock))
                {
                    restored++;
                    ExBuyMetrics.StockRepairs.WithLabels("missing").Inc();
                    KeyRepaired(logger, id, "missing", stock);
                }

                continue;
            }

            var difference = (long)value - stock;
            if (difference == 0)
            {
                continue;
            }

            // Repaired only when nothing touched the product between the two looks: the same Redis value and the same
            // stock row version (every take and return bumps it). A difference that merely recurs while requests flow
            // is traffic in flight (a gate decrement before its take, a mirror after its commit), not drift.
            var sighting = new Sighting(difference, value, row.Version);
            if (_suspects.TryGetValue(id, out var before) && before == sighting)
            {
                if (await redisStock.CompareAndSetAsync(id, value, stock))
                {
                    repaired++;
                    var kind = difference < 0 ? "too_low" : "too_high";
                    ExBuyMetrics.StockRepairs.WithLabels(kind).Inc();
                    KeyRepaired(logger, id, kind, stock);
                }
            }
            else
            {
                suspects[id] = sighting;
            }
        }

        _suspects = suspects;
        await using (var forget = new NpgsqlBatch(connection, transaction))
        {
            var forgetGone = new NpgsqlBatchCommand(InventorySql.ForgetGates(store));
            forgetGone.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = gone.ToArray() });
            var recordKeyed = new NpgsqlBatchCommand(InventorySql.RecordGates(store));
            recordKeyed.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ungated.ToArray() });
            forget.BatchCommands.Add(forgetGone);
            forget.BatchCommands.Add(recordKeyed);
            await forget.ExecuteNonQueryAsync(ct);
        }

        return new StockReconciliation(false, ids.Count, restored, repaired, removed, suspects.Count);
    }

    private static async Task<HashSet<long>> ReadIdsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        var ids = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    public override void Dispose()
    {
        _onePass.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stock reconciliation failed; retrying on the next tick")]
    private static partial void LogPassFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis stock of product {ProductId} repaired ({Kind}): set to {Stock}")]
    private static partial void KeyRepaired(ILogger logger, long productId, string kind, int stock);
}
