using ExBuy.Infrastructure.Observability;
using ExBuy.Infrastructure.Resilience;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// No lock at all: every attempt reads the stock rows with their versions, decides, and commits the caller's writes
/// together with a compare-and-set of every line (<see cref="ProductStock.TakeAtVersionsAsync"/>), which takes nothing
/// if any version moved. A lost race retries after a short random back-off until it has made
/// <c>OptimisticMaxAttempts</c> attempts and spent <c>LockTimeoutMs</c> (the budget the lock strategies wait), whichever
/// ends later. Only stock-row conflicts are retried here; a conflict on the caller's own documents is the caller's.
/// </summary>
public sealed class OptimisticStockStrategy(IDocumentStore store, RedisStock redisStock, AfterCommit afterCommit, IOptions<ConcurrencyOptions> options)
    : IStockStrategy
{
    public LockType Type => LockType.Optimistic;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        var settings = options.Value;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var attempt = 1; attempt <= settings.OptimisticMaxAttempts || System.Diagnostics.Stopwatch.GetElapsedTime(started) < settings.LockTimeout; attempt++)
        {
            try
            {
                var outcome = await AttemptAsync(demand, work, ct);
                if (outcome is StockOutcome.Taken)
                {
                    await afterCommit.RunAsync("stock_mirror", () => redisStock.MirrorTakenAsync(demand));
                }

                return outcome;
            }
            catch (StaleStockException)
            {
                ExBuyMetrics.OptimisticRetries.Inc();
                // A stock row changed since it was read: safe to retry, the failed attempt committed nothing and the next
                // one re-reads. Any other conflict (the caller's balance, coupon or order) escapes to the caller, whose
                // WriteRetry loads and decides again rather than retrying unchanged. Full jitter over an exponentially
                // growing window spreads the losers out instead of sending them back in lockstep.
                var window = Math.Min(settings.OptimisticMaxBackoffMs, 1 << Math.Min(attempt, 10));
                await Task.Delay(Random.Shared.Next(1, window + 1), ct);
            }
        }

        return new StockOutcome.Busy($"optimistic: still conflicting after {settings.OptimisticMaxAttempts} attempts and {settings.LockTimeoutMs} ms");
    }

    /// <summary>Read, decide, commit with the version check: one attempt.</summary>
    /// <exception cref="StaleStockException">Another writer changed a stock row since it was read.</exception>
    private async Task<StockOutcome> AttemptAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        var levels = await ProductStock.ReadAsync(store, demand.Select(l => l.ProductId).ToList(), ct);
        var decision = StockDecider.Decide(demand, levels);
        if (decision is not StockDecision.Take take)
        {
            return StockOutcome.From(decision);
        }

        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(ct);
        await ProductStock.TakeAtVersionsAsync(session, demand, levels, ct);
        work(session);
        await ProductStock.CommitWorkAsync(session);
        return new StockOutcome.Taken(take.Remaining);
    }
}
