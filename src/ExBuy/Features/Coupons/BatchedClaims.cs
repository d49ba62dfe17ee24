using ExBuy.Infrastructure.Batching;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Observability;
using Marten;
using Npgsql;
using Wolverine;

namespace ExBuy.Features.Coupons;

/// <summary>A claim the gate admitted, to be recorded with whichever others arrive meanwhile.</summary>
public sealed record ClaimToRecord(Guid ClaimId, long PolicyId, long UserId, string? RequestId);

/// <summary>What became of a claim handed to <see cref="BatchedClaims"/>.</summary>
public enum ClaimRecording
{
    /// <summary>Its row committed (and its <see cref="IssueCoupon"/> was published after the commit).</summary>
    Recorded,

    /// <summary>PostgreSQL already has a live claim of this user on this policy.</summary>
    Duplicate,

    /// <summary>PostgreSQL refused the row for another reason; nothing was written.</summary>
    Refused,

    /// <summary>The commit may or may not have landed and the database could not say.</summary>
    Unknown,
}

/// <summary>
/// Group commit of claim rows (claims with <c>lock_type=batched</c>, or the server default <c>batched</c>): the rows of
/// every claim that arrived while a batch committed are inserted in one transaction, committed once, and only then
/// answered and their <see cref="IssueCoupon"/> messages published — exactly as durable as a claim committed alone. A
/// batch that fails is split in halves down to the one claim whose row PostgreSQL refuses (a duplicate), which alone
/// gets that answer; a commit whose fate is unknown is settled with <see cref="TransactionFate"/> first.
/// </summary>
public sealed class BatchedClaims : IAsyncDisposable
{
    private readonly IDocumentStore _store;
    private readonly IServiceScopeFactory _scopes;
    private readonly CouponClaimRecovery _recovery;
    private readonly GroupCommitter<ClaimToRecord, ClaimRecording> _committer;

    public BatchedClaims(IDocumentStore store, IServiceScopeFactory scopes, CouponClaimRecovery recovery, Microsoft.Extensions.Options.IOptions<ExBuy.Features.Inventory.ConcurrencyOptions> options, ILogger<BatchedClaims> logger)
    {
        _store = store;
        _scopes = scopes;
        _recovery = recovery;
        _committer = new GroupCommitter<ClaimToRecord, ClaimRecording>("claims", options.Value.BatchMaxSize, batch => RunAsync(batch), logger);
    }

    /// <summary>Commits that batches tried (splits included); for tests and diagnostics.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    private long _attempts;

    /// <summary>Records the claim with the others waiting; answered once its batch committed (or refused it).</summary>
    public async Task<ClaimRecording> RecordAsync(ClaimToRecord claim)
    {
        var pending = _committer.Enqueue(claim, CancellationToken.None);
        // The request's `batch` phase: waiting for its batch and for that batch's one commit.
        using (RequestPhases.Measure(RequestPhases.Batch))
        {
            return await pending.Answer;
        }
    }

    private async Task RunAsync(IReadOnlyList<Pending<ClaimToRecord, ClaimRecording>> batch)
    {
        List<Pending<ClaimToRecord, ClaimRecording>> committed;
        try
        {
            if (!await AttemptAsync(batch))
            {
                foreach (var pending in batch)
                {
                    pending.Complete(ClaimRecording.Unknown);
                }

                return;
            }

            committed = batch.ToList();
        }
        catch (Exception e) when (batch.Count == 1)
        {
            batch[0].Complete(PostgresErrors.IsUniqueViolation(e) ? ClaimRecording.Duplicate
                : ClaimCouponEndpoint.Inner<PostgresException>(e) is not null ? ClaimRecording.Refused
                : ClaimRecording.Unknown);
            return;
        }
        catch (Exception)
        {
            var half = batch.Count / 2;
            await RunAsync(batch.Take(half).ToList());
            await RunAsync(batch.Skip(half).ToList());
            return;
        }

        await PublishAsync(committed);
        foreach (var pending in committed)
        {
            pending.Complete(ClaimRecording.Recorded);
        }
    }

    /// <summary>True when the batch committed, false when its fate is unknown; throws when it certainly did not commit.</summary>
    private async Task<bool> AttemptAsync(IReadOnlyList<Pending<ClaimToRecord, ClaimRecording>> batch)
    {
        Interlocked.Increment(ref _attempts);
        await using var session = _store.LightweightSession();
        await session.BeginTransactionAsync(CancellationToken.None);
        var transactionId = await TransactionFate.CurrentIdAsync(session);
        if (batch.Count == 1)
        {
            var claim = batch[0].Request;
            CouponClaims.QueueAccept(session, claim.ClaimId, claim.PolicyId, claim.UserId, claim.RequestId);
        }
        else
        {
            // Every row of the batch in one multi-row insert.
            var claims = batch.Select(p => p.Request).ToList();
            session.QueueSqlCommand(
                CouponsSql.QueueAcceptClaims(_store),
                claims.Select(c => c.ClaimId).ToArray(), claims.Select(c => c.PolicyId).ToArray(), claims.Select(c => c.UserId).ToArray(),
                claims.Select(c => c.RequestId).ToArray());
        }

        try
        {
            await session.SaveChangesAsync(CancellationToken.None);
            return true;
        }
        catch (Exception)
        {
            switch (await TransactionFate.OfAsync(_store, transactionId))
            {
                case TransactionFate.Committed:
                    return true;
                case TransactionFate.Aborted:
                    throw;
                default:
                    return false;
            }
        }
    }

    /// <summary>
    /// The issuance messages, after the commit (as the outbox publishes them). A message that cannot be published is
    /// left to <see cref="CouponClaimRecovery"/>, which publishes it again from the committed row.
    /// </summary>
    private async Task PublishAsync(List<Pending<ClaimToRecord, ClaimRecording>> committed)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
        foreach (var pending in committed)
        {
            var claim = pending.Request;
            try
            {
                await bus.PublishAsync(new IssueCoupon(claim.ClaimId, claim.PolicyId, claim.UserId));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _recovery.Done(claim.ClaimId);
            }
        }
    }

    public ValueTask DisposeAsync() => _committer.DisposeAsync();
}
