using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Observability;
using Marten;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Runtime;
using Wolverine.Runtime.Handlers;

namespace ExBuy.Features.Coupons;

/// <summary>
/// Wolverine handler for an accepted claim (in-memory local queue "coupons"; the claim's row is the durable record,
/// <see cref="CouponClaimRecovery"/>). Issuance is keyed by the claim id and runs
/// in batches with the other claims being handled at the same moment (<see cref="CouponIssuer"/>, group commit; one
/// transaction per batch, <see cref="CouponIssuance"/>): a redelivery finds the claim settled and does nothing. When
/// the database refuses (the policy is out) the claim is marked failed in that transaction and its Redis admission is
/// given back. Any other failure is retried with growing pauses, then compensated once: the claim marked failed (the one
/// conditional update that can do it), the Redis unit given back and the user taken out of the requested set, the
/// message dead-lettered for the record.
/// </summary>
public static partial class IssueCouponHandler
{
    /// <summary>Pauses between attempts before the claim is given up (five attempts in all).</summary>
    public static readonly TimeSpan[] Cooldowns = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    /// <summary>When the compensation itself cannot be recorded (PostgreSQL away), the message comes back after this.</summary>
    public static readonly TimeSpan CompensationRetry = TimeSpan.FromSeconds(30);

    public static void Configure(HandlerChain chain) =>
        chain.OnAnyException()
            .RetryWithCooldown(Cooldowns)
            .Then.CustomAction(GiveUpAsync, "Give the claim up: mark it failed, give its Redis admission back, dead-letter the message");

    public static async Task Handle(IssueCoupon message, CouponIssuer issuer, IDocumentStore store, CouponGate gate, CouponClaimRecovery recovery, ILogger<IssueCoupon> logger, CancellationToken ct)
    {
        await SettleAsync(message, issuer, store, gate, logger, ct);

        // Settled (a failure above is retried, and the claim stays this process's until it is given up).
        recovery.Done(message.ClaimId);
    }

    private static async Task SettleAsync(IssueCoupon message, CouponIssuer issuer, IDocumentStore store, CouponGate gate, ILogger<IssueCoupon> logger, CancellationToken ct)
    {
        ClaimOutcome outcome;
        try
        {
            outcome = await issuer.IssueAsync(message.ClaimId, ct);
        }
        catch (Exception e) when (PostgresErrors.IsUniqueViolation(e))
        {
            // The user holds a coupon of this policy already (one issued before claims were recorded): this claim
            // fails, and the user rightly stays in the requested set, counted once.
            if (await CouponClaims.FailAsync(store, message.ClaimId, ct))
            {
                ExBuyMetrics.Coupons.WithLabels("compensated").Inc();
            }

            return;
        }

        switch (outcome)
        {
            case ClaimOutcome.Issued:
                ExBuyMetrics.Coupons.WithLabels("issued").Inc();
                break;
            case ClaimOutcome.SoldOut:
                // Redis admitted more than the database had (its gate was rebuilt while claims were in flight).
                await gate.ReleaseAsync(message.PolicyId, message.UserId);
                ExBuyMetrics.Coupons.WithLabels("compensated").Inc();
                break;
            case ClaimOutcome.AlreadySettled:
                Redelivered(logger, message.ClaimId);
                break;
        }
    }

    private static async ValueTask GiveUpAsync(IWolverineRuntime runtime, IEnvelopeLifecycle lifecycle, Exception exception)
    {
        if (lifecycle.Envelope?.Message is not IssueCoupon message)
        {
            await DeadLetterAsync(runtime, lifecycle, exception);
            return;
        }

        var services = runtime.Services;
        var logger = services.GetRequiredService<ILogger<IssueCoupon>>();
        bool failedNow;
        try
        {
            failedNow = await CouponClaims.FailAsync(services.GetRequiredService<IDocumentStore>(), message.ClaimId, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Nothing is given up while the giving up cannot be recorded: the claim is still accepted, so issuing it
            // later is still right. The message comes back after a pause (or, if this process dies meanwhile, the
            // recovery publishes it again from the claim's row).
            CompensationDeferred(logger, e, message.ClaimId);
            await lifecycle.ReScheduleAsync(DateTimeOffset.UtcNow + CompensationRetry);
            return;
        }

        services.GetRequiredService<CouponClaimRecovery>().Done(message.ClaimId);

        if (failedNow)
        {
            ExBuyMetrics.Coupons.WithLabels("compensated").Inc();
            try
            {
                await services.GetRequiredService<CouponGate>().ReleaseAsync(message.PolicyId, message.UserId);
            }
            catch (Exception e)
            {
                // The claim is failed in PostgreSQL; the reconciler drops the stale admission from Redis.
                ReleaseFailed(logger, e, message.ClaimId);
            }
        }

        GaveUp(logger, exception, message.ClaimId);
        await DeadLetterAsync(runtime, lifecycle, exception);
    }

    // What Wolverine's own "move to error queue" does, so that message tracking sees the message finished.
    private static async Task DeadLetterAsync(IWolverineRuntime runtime, IEnvelopeLifecycle lifecycle, Exception exception)
    {
        await lifecycle.MoveToDeadLetterQueueAsync(exception);
        await lifecycle.CompleteAsync();
        runtime.MessageTracking.MessageFailed(lifecycle.Envelope!, exception);
        runtime.MessageTracking.MovedToErrorQueue(lifecycle.Envelope!, exception);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Coupon claim {ClaimId} delivered again after it was settled: nothing to do")]
    private static partial void Redelivered(ILogger logger, Guid claimId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Coupon claim {ClaimId} could not be issued after retries: marked failed and compensated")]
    private static partial void GaveUp(ILogger logger, Exception e, Guid claimId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Coupon claim {ClaimId}: the failure could not be recorded; the message comes back later")]
    private static partial void CompensationDeferred(ILogger logger, Exception e, Guid claimId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon claim {ClaimId} failed, but its Redis admission could not be given back; the reconciler will")]
    private static partial void ReleaseFailed(ILogger logger, Exception e, Guid claimId);
}
