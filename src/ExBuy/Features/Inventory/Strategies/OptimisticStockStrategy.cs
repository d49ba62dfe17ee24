using ExBuy.Features.Catalog;
using ExBuy.Infrastructure.Marten;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// No lock at all: every attempt reads the products with their revision and writes only if nobody else did
/// in between. A lost race retries after a short random back-off until it has made <c>OptimisticMaxAttempts</c>
/// attempts and spent <c>LockTimeoutMs</c> (the budget the lock strategies wait), whichever ends later. Only
/// conflicts on product rows are retried here; a conflict on the caller's own documents is the caller's.
/// </summary>
public sealed class OptimisticStockStrategy(IDocumentStore store, RedisStock redisStock, IOptions<ConcurrencyOptions> options, TimeProvider clock)
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
                var outcome = await RevisionedStockWrite.RunAsync(store, demand, work, clock.GetUtcNow(), ct);
                if (outcome is StockOutcome.Taken)
                {
                    await redisStock.MirrorTakenAsync(demand);
                }

                return outcome;
            }
            catch (Exception e) when (ConcurrencyConflicts.IsConflictOn<Product>(e))
            {
                ExBuy.Infrastructure.Observability.ExBuyMetrics.OptimisticRetries.Inc();
                // A product row changed since it was read: safe to retry, the failed attempt committed nothing and
                // the next one re-reads the products. Any other conflict (the caller's balance, coupon or order)
                // escapes to the caller, whose WriteRetry loads and decides again rather than retrying unchanged.
                // Full jitter over an exponentially growing window spreads the losers out instead of
                // sending them back in lockstep.
                var window = Math.Min(settings.OptimisticMaxBackoffMs, 1 << Math.Min(attempt, 10));
                await Task.Delay(Random.Shared.Next(1, window + 1), ct);
            }
        }

        return new StockOutcome.Busy($"optimistic: still conflicting after {settings.OptimisticMaxAttempts} attempts and {settings.LockTimeoutMs} ms");
    }
}
