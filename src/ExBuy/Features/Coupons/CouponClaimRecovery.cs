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
/// to handle (killed, stopped, its work lost) leaves its claim <c>accepted</c>; this pass, on every node, every
/// <see cref="CouponOptions.RecoveryIntervalSeconds"/>, publishes the message again for each accepted claim older than
/// <see cref="CouponOptions.RecoverAfterSeconds"/> that this process is not still handling. A claim another node is
/// still handling may so be published twice: issuance locks the claim and acts only on an accepted one
/// (<see cref="CouponIssuance"/>), and giving up marks it failed only if still accepted, so a second delivery does
/// nothing.
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
    /// One pass: publishes again every accepted claim older than <see cref="CouponOptions.RecoverAfterSeconds"/>
    /// (by the database's clock) unless this process published it within that time. Returns the claims it published.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RecoverOnceAsync(CancellationToken ct)
    {
        var orphans = new List<IssueCoupon>();
        await using (var command = db.CreateCommand(
                         $"""
                          select claim_id, policy_id, user_id from {CouponClaims.Table(store)}
                          where status = 'accepted' and created_at < now() - $1
                          order by created_at
                          limit $2
                          """))
        {
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = RecoverAfter, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Interval });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxPerPass });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var claimId = reader.GetGuid(0);
                if (_inFlight.TryGetValue(claimId, out var since) && clock.GetElapsedTime(since) < RecoverAfter)
                {
                    continue;
                }

                orphans.Add(new IssueCoupon(claimId, reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        if (orphans.Count == 0)
        {
            return [];
        }

        var bus = new MessageBus(runtime);
        foreach (var message in orphans)
        {
            Publishing(message.ClaimId);
            await bus.PublishAsync(message);
        }

        ExBuyMetrics.Coupons.WithLabels("recovered").Inc(orphans.Count);
        Recovered(logger, orphans.Count, RecoverAfter.TotalSeconds);
        return orphans.ConvertAll(m => m.ClaimId);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon claims: {Count} accepted claim(s) older than {Seconds} s without a message in this process published again")]
    private static partial void Recovered(ILogger logger, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon claim recovery failed; retrying on the next tick")]
    private static partial void LogPassFailed(ILogger logger, Exception e);
}
