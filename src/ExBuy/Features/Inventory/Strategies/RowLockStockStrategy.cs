using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Observability;
using ExBuy.Infrastructure.Resilience;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// PostgreSQL row locks: <c>SELECT … FOR UPDATE</c> on the stock rows, in id order, inside the Marten transaction that
/// then writes the stock and the caller's documents. The locks end with the commit. <c>lock_timeout</c> bounds the wait.
/// </summary>
public sealed class RowLockStockStrategy(IDocumentStore store, RedisStock redisStock, AfterCommit afterCommit, IOptions<ConcurrencyOptions> options)
    : IStockStrategy
{
    public LockType Type => LockType.Row;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        if (await StockPrecheck.RefusalAsync(store, demand, ct) is { } refusal)
        {
            return refusal;
        }

        StockOutcome outcome;
        try
        {
            outcome = await TakeLockedAsync(demand, work, ct);
        }
        catch (Exception e) when (PostgresErrors.IsLockTimeout(e))
        {
            return new StockOutcome.Busy($"row: a product row stayed locked for more than {options.Value.LockTimeoutMs} ms");
        }

        if (outcome is StockOutcome.Taken)
        {
            await afterCommit.RunAsync("stock_mirror", () => redisStock.MirrorTakenAsync(demand));
        }

        return outcome;
    }

    private async Task<StockOutcome> TakeLockedAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(ct);
        var waitStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        var phase = RequestPhases.Measure("lock-row");
        var acquired = false;
        Dictionary<long, StockLevel> levels;
        try
        {
            levels = await ProductStock.LockAsync(session, demand.Select(d => d.ProductId).ToList(), options.Value.LockTimeout, ct);
            acquired = true;
        }
        finally
        {
            phase.Dispose();
            ExBuyMetrics.LockWait
                .WithLabels("row", acquired ? "true" : "false")
                .Observe(System.Diagnostics.Stopwatch.GetElapsedTime(waitStarted).TotalSeconds);
        }

        var decision = StockDecider.Decide(demand, levels);
        if (decision is not StockDecision.Take take)
        {
            return StockOutcome.From(decision);
        }

        // Under the row lock nobody can move the version: the check cannot fail.
        await ProductStock.TakeAtVersionsAsync(session, demand, levels, ct);
        work(session);
        await ProductStock.CommitWorkAsync(session);
        return new StockOutcome.Taken(take.Remaining);
    }
}
