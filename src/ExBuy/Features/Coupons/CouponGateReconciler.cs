using ExBuy.Infrastructure.Hosting;
using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Coupons;

/// <summary>Bound from <c>ExBuy:Coupons</c>.</summary>
public sealed class CouponOptions
{
    public const string Section = "ExBuy:Coupons";

    /// <summary>Seconds between two reconciliations of the Redis coupon gates with PostgreSQL; 0 turns the background pass off.</summary>
    [Range(0, 3_600)]
    public int ReconcileIntervalSeconds { get; set; } = 10;

    /// <summary>
    /// How long a Redis admission may wait for its claim to commit before the reconciler counts it as lost (a request
    /// that died between the gate and PostgreSQL). Well above a request's own time limits.
    /// </summary>
    [Range(1, 3_600)]
    public int AdmissionGraceSeconds { get; set; } = 60;

    /// <summary>
    /// Seconds between two passes of <see cref="CouponClaimRecovery"/>, which publishes again the messages of accepted
    /// claims that no process is handling (after a crash); 0 turns the background pass off.
    /// </summary>
    [Range(0, 3_600)]
    public int RecoveryIntervalSeconds { get; set; } = 5;

    /// <summary>
    /// How long an accepted claim's message may go unsettled since it was last published (at acceptance, or by a
    /// recovery) before a recovery pass publishes it again — never a claim its own process is still handling, unless it
    /// has waited <see cref="StuckClaimSeconds"/>. Well above the time a claim waits in a rush's queue; a claim
    /// published twice is issued once.
    /// </summary>
    [Range(1, 3_600)]
    public int RecoverAfterSeconds { get; set; } = 15;

    /// <summary>
    /// An accepted claim older than this that is still not issued nor failed is reported as stuck; also how long the
    /// recovery trusts its own process to be handling a claim it published.
    /// </summary>
    [Range(1, 86_400)]
    public int StuckClaimSeconds { get; set; } = 300;
}

/// <summary>
/// Brings the Redis coupon gates back to PostgreSQL's truth: on demand when a claim finds a counter missing (Redis
/// restarted empty), and every <see cref="CouponOptions.ReconcileIntervalSeconds"/> in the background, on one API node
/// at a time (a PostgreSQL advisory lock; a node that does not get it skips the pass). Claims in flight: PostgreSQL
/// sees a claim from the moment its row commits; between the Redis admission and that commit only Redis knows it,
/// so members PostgreSQL does not know are kept while younger than <see cref="CouponOptions.AdmissionGraceSeconds"/>
/// (by the Redis clock) and dropped after. Running beside traffic is safe because the Redis side is one Lua call that
/// only adds known users, drops stale unknown ones and sets the counter to quantity − |requested|.
/// </summary>
public sealed partial class CouponGateReconciler(
    NpgsqlDataSource db, IDocumentStore store, CouponGate gate, IOptions<CouponOptions> options, ILogger<CouponGateReconciler> logger) : PeriodicPass(TimeProvider.System)
{
    /// <summary>The advisory lock key every node's pass takes ("exbuy-coupons-gate" as an int64).</summary>
    public const long LockKey = 0x6578_6275_7963_6770;

    private readonly ConcurrentDictionary<long, Lazy<Task>> _rebuilds = new();

    private TimeSpan Grace => TimeSpan.FromSeconds(options.Value.AdmissionGraceSeconds);

    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.ReconcileIntervalSeconds);

    // A node that starts finds the gates as Redis kept them: the first pass does not wait for the interval.
    protected override bool RunAtStart => true;

    protected override Task RunPassAsync(CancellationToken ct) => RunOnceAsync(ct);

    // Redis or PostgreSQL away: the next tick tries again.
    protected override void PassFailed(Exception e) => LogPassFailed(logger, e);

    /// <summary>
    /// One pass over every policy, if no other node is running one: a transaction-level advisory lock, held by an
    /// otherwise idle transaction for the pass and released when it ends, whatever happens to this process.
    /// Null when another node holds it.
    /// </summary>
    public async Task<int?> RunOnceAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var take = new NpgsqlCommand(CouponsSql.TryReconcilerLock, connection, transaction))
        {
            take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKey });
            if (!(bool)(await take.ExecuteScalarAsync(ct))!)
            {
                return null;
            }
        }

        var changed = await ReconcileAsync(null, ct);
        await transaction.CommitAsync(ct);
        return changed;
    }

    /// <summary>Reconciles one policy (or all): returns how many gates it changed.</summary>
    public async Task<int> ReconcileAsync(long? policyId, CancellationToken ct)
    {
        var changed = 0;
        foreach (var truth in await CouponClaims.TruthAsync(db, store, policyId, ct))
        {
            var repair = await gate.ReconcileAsync(truth, Grace);
            if (repair.Changed)
            {
                changed++;
                Repaired(logger, truth.PolicyId, repair.Added, repair.Removed, repair.RemainingBefore?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing", repair.RemainingAfter);
            }
        }

        return changed;
    }

    /// <summary>
    /// Rebuilds a policy's missing gate from PostgreSQL. Concurrent claims of this process that found it missing wait
    /// for one rebuild instead of each reading PostgreSQL.
    /// </summary>
    public async Task RebuildAsync(long policyId, CancellationToken ct)
    {
        var rebuild = _rebuilds.GetOrAdd(policyId, id => new Lazy<Task>(() => ReconcileAsync(id, CancellationToken.None)));
        try
        {
            await rebuild.Value.WaitAsync(ct);
        }
        finally
        {
            _rebuilds.TryRemove(new KeyValuePair<long, Lazy<Task>>(policyId, rebuild));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon gate reconciliation failed; retrying on the next tick")]
    private static partial void LogPassFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon policy {PolicyId}: Redis gate repaired from PostgreSQL (+{Added} -{Removed} requested, remaining {Before} → {After})")]
    private static partial void Repaired(ILogger logger, long policyId, int added, int removed, string before, long after);
}
