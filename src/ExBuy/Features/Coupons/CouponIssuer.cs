using Marten;
using Prometheus;

namespace ExBuy.Features.Coupons;

/// <summary>
/// Group commit for issuance. Each <see cref="IssueCoupon"/> handler hands its claim here and waits for its own
/// outcome; claims are issued by <see cref="CouponIssuance"/> in batches, one batch in flight per process at a time:
/// every claim that arrives while a batch runs joins the next one. Nothing waits on a timer — a lone claim is issued
/// at once, and batches form only where claims were already queueing behind a transaction — so a rush costs one
/// counter update, one round trip of inserts and one commit per batch instead of per claim, and the hot counter row
/// is locked by one transaction of this process at a time.
/// <para>
/// Every message keeps its own Wolverine delivery: retries, compensation, redelivery and tracking are per claim, as
/// before. If a batch fails, its claims are issued one by one, so that a claim that cannot be issued fails alone (its
/// handler sees its exception) and the others are not held back by it.
/// </para>
/// </summary>
public sealed partial class CouponIssuer(IDocumentStore store, TimeProvider clock, ILogger<CouponIssuer> logger)
{
    /// <summary>The most claims one transaction issues. Also the coupon queue's parallelism, which bounds how many wait.</summary>
    public const int MaxBatch = 100;

    private static readonly Histogram BatchSize = Metrics.CreateHistogram(
        "exbuy_coupon_issue_batch_size",
        "Claims issued per transaction by the coupon issuer (group commit).",
        new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 100] });

    private readonly Lock _lock = new();
    private readonly Queue<Waiting> _waiting = new();
    private bool _flushing;

    /// <summary>Issues the claim (with whichever others are waiting) and answers what became of it.</summary>
    public Task<ClaimOutcome> IssueAsync(Guid claimId, CancellationToken ct)
    {
        var waiting = new Waiting(claimId, new TaskCompletionSource<ClaimOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (_lock)
        {
            _waiting.Enqueue(waiting);
            start = !_flushing;
            _flushing = true;
        }

        if (start)
        {
            _ = Task.Run(FlushAsync, CancellationToken.None);
        }

        return waiting.Outcome.Task.WaitAsync(ct);
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            List<Waiting> batch;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _flushing = false;
                    return;
                }

                batch = new List<Waiting>(Math.Min(_waiting.Count, MaxBatch));
                while (batch.Count < MaxBatch && _waiting.TryDequeue(out var next))
                {
                    batch.Add(next);
                }
            }

            await IssueBatchAsync(batch);
        }
    }

    // Never throws: every waiting claim gets its outcome or its own exception.
    private async Task IssueBatchAsync(List<Waiting> batch)
    {
        try
        {
            // A claim handed in twice (a redelivery racing its first delivery) is issued once; both learn the outcome.
            var outcomes = await CouponIssuance.IssueAsync(store, batch.Select(w => w.ClaimId).Distinct().ToList(), clock.GetUtcNow(), CancellationToken.None);
            BatchSize.Observe(batch.Count);
            var answered = new HashSet<Guid>(batch.Count);
            foreach (var waiting in batch)
            {
                waiting.Outcome.TrySetResult(answered.Add(waiting.ClaimId) ? outcomes[waiting.ClaimId] : ClaimOutcome.AlreadySettled);
            }
        }
        catch (Exception e) when (batch.Count > 1)
        {
            BatchFailed(logger, e, batch.Count);
            foreach (var waiting in batch)
            {
                await IssueBatchAsync([waiting]);
            }
        }
        catch (Exception e)
        {
            batch[0].Outcome.TrySetException(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} coupon claims could not be issued together; issuing them one by one")]
    private static partial void BatchFailed(ILogger logger, Exception e, int count);

    private sealed record Waiting(Guid ClaimId, TaskCompletionSource<ClaimOutcome> Outcome);
}
