using System.Collections.Concurrent;
using ExBuy.Infrastructure.Hosting;
using ExBuy.Infrastructure.Observability;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using Wolverine;
using Wolverine.Runtime;

namespace ExBuy.Features.Coupons;

/// <summary>
/// The claims table is the coupon queue's durable record: a claim's row commits before its 201, and its
/// <see cref="IssueCoupon"/> message then travels on an in-memory Wolverine queue. A message that a process did not get
/// to handle (killed, stopped, its work lost) leaves its claim <c>accepted</c>. This pass, on every node, every
/// <see cref="CouponOptions.RecoveryIntervalSeconds"/>, publishes the message again for each accepted claim whose last
/// publication (its acceptance, or a recovery's) is older than <see cref="CouponOptions.RecoverAfterSeconds"/>:
/// <list type="bullet">
/// <item>not a claim this process published and is still handling (in its queue, in retries), until the claim has
/// waited <see cref="CouponOptions.StuckClaimSeconds"/>;</item>
/// <item>one node at a time: a pass takes a claim by setting its <c>recovered_at</c> in a conditional update (skipping
/// rows locked by another pass or by an issuance in progress), so the other nodes leave it for another
/// <see cref="CouponOptions.RecoverAfterSeconds"/>.</item>
/// </list>
/// A claim still waiting in another live node's queue after that long may so get one more message each window; issuance
/// locks the claim and acts only on an accepted one (<see cref="CouponIssuance"/>), and giving up marks it failed only if
/// still accepted, so a second delivery does nothing.
/// </summary>
public sealed partial class CouponClaimRecovery(
    NpgsqlDataSource db, IDocumentStore store, IWolverineRuntime runtime, TimeProvider clock, IOptions<CouponOptions> options, ILogger<CouponClaimRecovery> logger)
    : PeriodicPass(TimeProvider.System)
{
    /// <summary>The most claims one pass publishes again (a backlog is worked off over several passes).</summary>
    public const int MaxPerPass = 1_000;

    // Claims this process published and has not settled yet, with when (the clock's timestamp) it published them last.
    private readonly ConcurrentDictionary<Guid, long> _inFlight = new();

    private TimeSpan RecoverAfter => TimeSpan.FromSeconds(options.Value.RecoverAfterSeconds);

    private TimeSpan TrustOwnFor => TimeSpan.FromSeconds(options.Value.StuckClaimSeconds);

    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.RecoveryIntervalSeconds);

    // A node that starts after a crash picks up what the crash left at once.
    protected override bool RunAtStart => true;

    protected override Task RunPassAsync(CancellationToken ct) => RecoverOnceAsync(ct);

    protected override void PassFailed(Exception e) => LogPassFailed(logger, e);

    /// <summary>This process is about to publish the claim's message (before the claim commits, so no settling can precede it).</summary>
    public void Publishing(Guid claimId) => _inFlight[claimId] = clock.GetTimestamp();

    /// <summary>The claim's message is done with in this process: settled, or not recorded at all.</summary>
    public void Done(Guid claimId) => _inFlight.TryRemove(claimId, out _);

    /// <summary>Whether this process published the claim's message and has not settled it yet.</summary>
    public bool Handling(Guid claimId) => _inFlight.ContainsKey(claimId);

    /// <summary>
    /// One pass: publishes again every accepted claim last published more than <see cref="CouponOptions.RecoverAfterSeconds"/>
    /// ago (by the database's clock) that this process is not handling and no other node took in that time. Returns the
    /// claims it published.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RecoverOnceAsync(CancellationToken ct)
    {
        // An entry older than the audit's patience is not trusted any more (and forgotten: the map cannot grow forever).
        foreach (var (claimId, since) in _inFlight)
        {
            if (clock.GetElapsedTime(since) >= TrustOwnFor)
            {
                _inFlight.TryRemove(new KeyValuePair<Guid, long>(claimId, since));
            }
        }

        var candidates = new List<Guid>();
        await using (var select = db.CreateCommand(CouponsSql.StaleClaims(store)))
        {
            select.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = RecoverAfter, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Interval });
            select.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxPerPass });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var claimId = reader.GetGuid(0);
                if (!_inFlight.ContainsKey(claimId))
                {
                    candidates.Add(claimId);
                }
            }
        }

        if (candidates.Count == 0)
        {
            return [];
        }

        // Taken by this node. A row locked at this moment is skipped, not waited for: another node's pass is taking it, or
        // an issuance holds it (the claim is being handled).
        var orphans = new List<IssueCoupon>();
        await using (var take = db.CreateCommand(CouponsSql.TakeStaleClaims(store)))
        {
            take.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. candidates] });
            take.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = RecoverAfter, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Interval });
            await using var reader = await take.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                orphans.Add(new IssueCoupon(reader.GetGuid(0), reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        var bus = new MessageBus(runtime);
        foreach (var message in orphans)
        {
            Publishing(message.ClaimId);
            try
            {
                await bus.PublishAsync(message);
            }
            catch
            {
                // Not published: a later pass (this node's or another's) takes the claim again.
                Done(message.ClaimId);
                throw;
            }
        }

        if (orphans.Count > 0)
        {
            ExBuyMetrics.Coupons.WithLabels("recovered").Inc(orphans.Count);
            Recovered(logger, orphans.Count, RecoverAfter.TotalSeconds);
        }

        return orphans.ConvertAll(m => m.ClaimId);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon claims: {Count} accepted claim(s) without a message for {Seconds} s published again")]
    private static partial void Recovered(ILogger logger, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon claim recovery failed; retrying on the next tick")]
    private static partial void LogPassFailed(ILogger logger, Exception e);
}
