using ExBuy.Infrastructure.Locking;
using ExBuy.Infrastructure.Resilience;
using Marten;
using Medallion.Threading;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// Medallion <c>RedisDistributedLock</c> per product — one Redis node (<c>pessimistic</c>) or a RedLock quorum
/// (<c>redlock</c>). Locks are taken in ascending product id, so two orders sharing products cannot deadlock, and
/// held only around the stock transaction (a lock around the whole request serialises every other step too); they are released after the commit, by disposal,
/// whatever happens. A lock not had within the timeout is a fast refusal, never a hang. Inside, the stock change is a
/// conditional UPDATE, so writers of other strategies that took no lock cannot be overwritten.
/// </summary>
public sealed class RedisLockStockStrategy(
    LockType type,
    IDistributedLockProvider? provider,
    IDocumentStore store,
    RedisStock redisStock,
    AfterCommit afterCommit,
    IOptions<ConcurrencyOptions> options) : IStockStrategy
{
    public LockType Type => type;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        if (provider is null)
        {
            return new StockOutcome.Busy($"{type.ToWire()}: no Redis nodes are configured for it");
        }

        if (await StockPrecheck.RefusalAsync(store, demand, ct) is { } refusal)
        {
            return refusal;
        }

        var handles = new List<IDistributedSynchronizationHandle>(demand.Count);
        try
        {
            foreach (var line in demand)
            {
                var handle = await TryAcquireAsync(provider.CreateLock(LockName(line.ProductId)), ct);
                if (handle is null)
                {
                    return new StockOutcome.Busy($"{type.ToWire()}: the lock on product {line.ProductId} was not free within {options.Value.LockTimeoutMs} ms");
                }

                handles.Add(handle);
            }

            var outcome = await TakeUnderLockAsync(demand, work, ct);
            if (outcome is StockOutcome.Taken)
            {
                await afterCommit.RunAsync("stock_mirror", () => redisStock.MirrorTakenAsync(demand));
            }

            return outcome;
        }
        finally
        {
            for (var i = handles.Count - 1; i >= 0; i--)
            {
                await ReleaseAsync(handles[i]);
            }
        }
    }

    /// <summary>
    /// Releasing runs after the commit, by the after-commit rule: a failure here must not turn a sale that committed
    /// into an error. With two of five RedLock nodes down, Medallion's release throws as soon as one live node is slow
    /// to answer (three of five "faults"); what it could not delete expires by itself (the lock's expiry).
    /// </summary>
    private Task ReleaseAsync(IDistributedSynchronizationHandle handle) => afterCommit.ReleaseAsync(handle);

    /// <summary>
    /// Under the lock, all lines are one conditional take (<see cref="ProductStock.TryTakeAsync"/>: the check constraint
    /// refuses a line that would go below zero) in one transaction with the caller's writes. The lock serialises the
    /// writers that take it; the constraint keeps a writer that took none (another strategy on the same product) from
    /// ever being overwritten — it only makes this one wait on the row for a moment. (A load-and-version-check write
    /// lost to such writers again and again under load: at 500 VUs write-heavy 321 reservations answered 409.)
    /// </summary>
    private async Task<StockOutcome> TakeUnderLockAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        Dictionary<long, int>? remaining;
        await using (var session = store.LightweightSession())
        {
            await session.BeginTransactionAsync(ct);
            remaining = await ProductStock.TryTakeAsync(session, demand, ct);
            if (remaining is not null && remaining.Count == demand.Count)
            {
                work(session);
                await ProductStock.CommitWorkAsync(session);
                return new StockOutcome.Taken(remaining);
            }
        }

        // Refused (or a product is gone): nothing committed. Say why from the committed rows.
        return await StockPrecheck.RefusalAsync(store, demand, ct) ?? new StockOutcome.Busy($"{type.ToWire()}: the stock changed under the lock");
    }

    private async Task<IDistributedSynchronizationHandle?> TryAcquireAsync(IDistributedLock distributedLock, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        IDistributedSynchronizationHandle? handle = null;
        var phase = ExBuy.Infrastructure.Observability.RequestPhases.Measure("lock-" + type.ToWire());
        try
        {
            handle = await distributedLock.TryAcquireAsync(options.Value.LockTimeout, ct);
            return handle;
        }
        catch (Exception e) when (Failures.Classify(e) == FailureKind.RedisUnavailable)
        {
            // No quorum reachable (or the single node is down): refuse rather than go ahead unprotected.
            return null;
        }
        finally
        {
            phase.Dispose();
            ExBuy.Infrastructure.Observability.ExBuyMetrics.LockWait
                .WithLabels(type.ToWire(), handle is null ? "false" : "true")
                .Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>The Redis key of a product's lock, shared by <c>pessimistic</c> and <c>redlock</c>.</summary>
    public static string LockName(long productId) => $"exbuy:lock:product:{productId}";
}
