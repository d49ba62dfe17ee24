using ExBuy.Infrastructure.Locking;
using Marten;
using Medallion.Threading;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// Medallion <c>RedisDistributedLock</c> per product — one Redis node (<c>pessimistic</c>) or a RedLock quorum
/// (<c>redlock</c>). Locks are taken in ascending product id, so two orders sharing products cannot deadlock, and
/// held only around the stock transaction (seed 001's lesson); they are released after the commit, by disposal,
/// whatever happens. A lock not had within the timeout is a fast refusal, never a hang.
/// </summary>
public sealed class RedisLockStockStrategy(
    LockType type,
    IDistributedLockProvider? provider,
    IDocumentStore store,
    RedisStock redisStock,
    IOptions<ConcurrencyOptions> options,
    TimeProvider clock) : IStockStrategy
{
    // Inside the lock the only possible conflict is a writer that took no lock (another strategy); re-reading settles it.
    private const int AttemptsUnderLock = 3;

    public LockType Type => type;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        if (provider is null)
        {
            return new StockOutcome.Busy($"{type.ToWire()}: no Redis nodes are configured for it");
        }

        var handles = new List<IDistributedSynchronizationHandle>(demand.Count);
        try
        {
            foreach (var line in demand)
            {
                var handle = await TryAcquireAsync(provider.CreateLock(LockingSetup.ProductLockName(line.ProductId)), ct);
                if (handle is null)
                {
                    return new StockOutcome.Busy($"{type.ToWire()}: the lock on product {line.ProductId} was not free within {options.Value.LockTimeoutMs} ms");
                }

                handles.Add(handle);
            }

            for (var attempt = 1; ; attempt++)
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
                catch (Exception e) when (ConcurrencyConflicts.IsConflict(e) && attempt < AttemptsUnderLock)
                {
                }
                catch (Exception e) when (ConcurrencyConflicts.IsConflict(e))
                {
                    return new StockOutcome.Busy($"{type.ToWire()}: writers without the lock kept changing the products");
                }
            }
        }
        finally
        {
            for (var i = handles.Count - 1; i >= 0; i--)
            {
                await handles[i].DisposeAsync();
            }
        }
    }

    private static bool IsRedisUnavailable(Exception e) => e switch
    {
        StackExchange.Redis.RedisException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsRedisUnavailable),
        _ => false,
    };

    private async Task<IDistributedSynchronizationHandle?> TryAcquireAsync(IDistributedLock distributedLock, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        IDistributedSynchronizationHandle? handle = null;
        try
        {
            handle = await distributedLock.TryAcquireAsync(options.Value.LockTimeout, ct);
            return handle;
        }
        catch (Exception e) when (IsRedisUnavailable(e))
        {
            // No quorum reachable (or the single node is down): refuse rather than go ahead unprotected.
            return null;
        }
        finally
        {
            ExBuy.Infrastructure.Observability.ExBuyMetrics.LockWait
                .WithLabels(type.ToWire(), handle is null ? "false" : "true")
                .Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}
