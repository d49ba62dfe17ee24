using ExBuy.Features.Users;
using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Observability;
using FastEndpoints;
using Marten;
using Npgsql;
using Wolverine.Marten;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Resilience;

namespace ExBuy.Features.Coupons;

public sealed record ClaimCouponResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("userId")] long UserId,
    [property: System.Text.Json.Serialization.JsonPropertyName("policyId")] long PolicyId,
    [property: System.Text.Json.Serialization.JsonPropertyName("status")] string Status);

/// <summary>
/// <c>POST /coupons?userId=&amp;policyId=</c>: the Redis gate filters (duplicates and sold-out answered at once), then
/// the claim's row commits in PostgreSQL before the 201, so an accepted claim survives a crash; its
/// <see cref="IssueCoupon"/> message is published once the row has committed (Wolverine's Marten outbox) to an
/// in-memory queue, and published again from the row by <see cref="CouponClaimRecovery"/> if its process dies first.
/// 409 sold out or already claimed; 400 unknown user, unknown or inactive policy (the scenario accepts only
/// 201/400/409); 503 when the claim could not be recorded (nothing was taken).
/// </summary>
public sealed partial class ClaimCouponEndpoint(
    IQuerySession session, CouponGate gate, CouponGateReconciler reconciler, CouponClaimRecovery recovery, IMartenOutbox outbox, AfterCommit afterCommit, TimeProvider clock, ILogger<ClaimCouponEndpoint> logger,
    BatchedClaims batchedClaims, Microsoft.Extensions.Options.IOptions<ExBuy.Features.Inventory.ConcurrencyOptions> concurrency)
    : EndpointWithoutRequest<ClaimCouponResponse>
{
    public override void Configure()
    {
        Post("/coupons");
        Tags("shop-flow");
    }

    // The scenario posts no body (and no content type): the ids come from the query string alone.
    public override async Task HandleAsync(CancellationToken ct)
    {
        var userId = PositiveId("userId");
        var policyId = PositiveId("policyId");
        var batched = Batched();
        if (ValidationFailed)
        {
            await Send.ErrorsAsync(cancellation: ct);
            return;
        }

        // Policy and user in one round trip.
        var batch = session.CreateBatchQuery();
        var policyLoad = batch.Load<CouponPolicy>(policyId);
        var userLoad = batch.Load<ShopUser>(userId);
        await batch.Execute(ct);
        var policy = await policyLoad;
        if (policy is null || !policy.IsActive(clock.GetUtcNow()))
        {
            await Refuse(StatusCodes.Status400BadRequest, policy is null ? $"Coupon policy {policyId} does not exist." : $"Coupon policy {policyId} is not active.");
            return;
        }

        if (await userLoad is null)
        {
            await Refuse(StatusCodes.Status400BadRequest, $"User {userId} does not exist.");
            return;
        }

        Admission? outcome;
        try
        {
            outcome = await gate.AdmitAsync(policyId, userId);
            if (outcome == Admission.Missing)
            {
                // Redis lost the gate: rebuild it from PostgreSQL's claims and coupons, then ask again.
                await reconciler.RebuildAsync(policyId, ct);
                outcome = await gate.AdmitAsync(policyId, userId);
            }
        }
        catch (Exception e) when (Failures.Classify(e) == FailureKind.RedisUnavailable)
        {
            // Redis away (or its answer lost: an admission without a claim is dropped by the reconciler later).
            outcome = null;
        }

        if (outcome == Admission.Admitted)
        {
            outcome = batched ? await RecordBatchedAsync(policyId, userId) : await RecordAsync(policyId, userId, ct);
        }

        ExBuyMetrics.Coupons.WithLabels(outcome switch
        {
            Admission.Admitted => "admitted", Admission.Duplicate => "duplicate", Admission.SoldOut => "sold_out", _ => "unavailable",
        }).Inc();
        switch (outcome)
        {
            case Admission.Admitted:
                await Send.ResponseAsync(new ClaimCouponResponse(userId, policyId, "accepted"), StatusCodes.Status201Created, ct);
                return;
            case Admission.Duplicate:
                await Refuse(StatusCodes.Status409Conflict, "This user already claimed a coupon of this policy.");
                return;
            case Admission.SoldOut:
                await Refuse(StatusCodes.Status409Conflict, "Sold out.");
                return;
            default:
                // Not recorded (Redis or PostgreSQL away, or the gate still missing): the user may try again; a claim
                // that did commit after all answers "already claimed" then. When the commit's fate is not known the
                // answer says so (the same marker as the exception handler's), so nobody counts it as "not stored".
                if (_outcomeUnknown)
                {
                    HttpContext.Response.Headers[UnhandledExceptionHandler.OutcomeHeader] = "unknown";
                }

                await Send.ResultAsync(TypedResults.Problem(
                    _outcomeUnknown
                        ? "The database connection broke while the claim was recorded: it may or may not have been. Trying again is safe (a recorded claim answers 409)."
                        : "The claim could not be recorded; try again.",
                    statusCode: StatusCodes.Status503ServiceUnavailable));
                return;
        }
    }

    /// <summary>
    /// The claim's row, durable before the answer; its message follows the commit. PostgreSQL refusing a second
    /// live claim of this user is a duplicate (the user rightly stays in the requested set). Any other refusal by the
    /// server rolled the transaction back, so the admission is given back; an outcome that is not known (connection
    /// lost around the commit) is left to the reconciler, which drops the admission later if no claim committed.
    /// </summary>
    /// <returns>Null when the claim was not recorded.</returns>
    private async Task<Admission?> RecordAsync(long policyId, long userId, CancellationToken ct)
    {
        var claimId = Guid.CreateVersion7();
        var claims = outbox.Session!;
        recovery.Publishing(claimId);
        var recorded = false;
        try
        {
            CouponClaims.QueueAccept(claims, claimId, policyId, userId, RequestIds.Current);
            await outbox.PublishAsync(new IssueCoupon(claimId, policyId, userId));
            await claims.SaveChangesAsync(ct);
            recorded = true;
            return Admission.Admitted;
        }
        catch (Exception e) when (PostgresErrors.IsUniqueViolation(e))
        {
            return Admission.Duplicate;
        }
        catch (Exception e) when (Inner<PostgresException>(e) is not null)
        {
            NotRecorded(logger, e, policyId, userId);
            // Best-effort, by the after-commit rule: if Redis fails, the reconciler drops the admission after the grace
            // period (no claim row will show up).
            await afterCommit.RunAsync("coupon_gate_release", () => gate.ReleaseAsync(policyId, userId));

            return null;
        }
        catch (Exception e) when (Inner<NpgsqlException>(e) is not null || Inner<TimeoutException>(e) is not null)
        {
            _outcomeUnknown = !Failures.NeverReachedPostgres(e);
            // The outcome is not known (connection lost around the commit): Redis keeps the admission, which the
            // reconciler drops after the grace period unless the claim's row shows up; a row that did commit has no
            // message (none is sent for a failed commit) and is issued by the recovery.
            NotRecorded(logger, e, policyId, userId);
            return null;
        }
        finally
        {
            // Not recorded, or its fate unknown (a refusal, a lost connection, the request cancelled): no message of
            // this process carries the claim, so a row that did commit is the recovery's.
            if (!recorded)
            {
                recovery.Done(claimId);
            }
        }
    }

    /// <summary>
    /// <c>lock_type=batched</c> (or no lock_type with <c>batched</c> the server default): the claim's row commits with the
    /// others that arrived meanwhile (<see cref="BatchedClaims"/>); other values record it alone, as before.
    /// </summary>
    private bool Batched()
    {
        var raw = HttpContext.Request.Query[ExBuy.Features.Inventory.LockTypeParameter.Name].ToString();
        if (raw.Length == 0)
        {
            return concurrency.Value.DefaultLockType == ExBuy.Features.Inventory.LockType.Batched;
        }

        if (!ExBuy.Features.Inventory.LockTypeParameter.IsValid(raw))
        {
            AddError(new FluentValidation.Results.ValidationFailure(ExBuy.Features.Inventory.LockTypeParameter.Name, ExBuy.Features.Inventory.LockTypeParameter.Message));
        }

        return ExBuy.Features.Inventory.LockTypeParameter.Parse(raw) == ExBuy.Features.Inventory.LockType.Batched;
    }

    /// <summary>The claim's row committed in a group (<see cref="BatchedClaims"/>), with the answers <see cref="RecordAsync"/> gives.</summary>
    private async Task<Admission?> RecordBatchedAsync(long policyId, long userId)
    {
        var claimId = Guid.CreateVersion7();
        recovery.Publishing(claimId);
        var recorded = false;
        try
        {
            switch (await batchedClaims.RecordAsync(new ClaimToRecord(claimId, policyId, userId, RequestIds.Current)))
            {
                case ClaimRecording.Recorded:
                    recorded = true;
                    return Admission.Admitted;
                case ClaimRecording.Duplicate:
                    return Admission.Duplicate;
                case ClaimRecording.Refused:
                    await afterCommit.RunAsync("coupon_gate_release", () => gate.ReleaseAsync(policyId, userId));
                    return null;
                default:
                    _outcomeUnknown = true;
                    return null;
            }
        }
        finally
        {
            if (!recorded)
            {
                recovery.Done(claimId);
            }
        }
    }

    /// <summary>Set when the claim's commit may or may not have happened (its connection broke mid-way).</summary>
    private bool _outcomeUnknown;

    /// <summary>The first exception of type <typeparamref name="T"/> in <paramref name="e"/>'s chain of inner exceptions.</summary>
    internal static T? Inner<T>(Exception? e)
        where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    private long PositiveId(string name)
    {
        var raw = HttpContext.Request.Query[name].ToString();
        if (long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id >= 1)
        {
            return id;
        }

        AddError(new FluentValidation.Results.ValidationFailure(name, $"{name} must be a positive integer."));
        return 0;
    }

    private async Task Refuse(int status, string message) =>
        await Send.ResultAsync(ErrorMessage.Result(status, message));

    [LoggerMessage(Level = LogLevel.Error, Message = "Coupon claim of user {UserId} on policy {PolicyId} could not be recorded (answered 503)")]
    private static partial void NotRecorded(ILogger logger, Exception e, long policyId, long userId);
}
