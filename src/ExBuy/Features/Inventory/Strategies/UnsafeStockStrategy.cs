using ExBuy.Infrastructure.Resilience;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// <c>lock_type=none</c>: read, decide, wait, write the stock computed from the read — with no lock, no
/// version check and no condition. Concurrent buyers read the same stock and all succeed: it oversells. It
/// exists so that a benchmark can show what the other strategies prevent, and is refused as a default.
/// </summary>
public sealed class UnsafeStockStrategy(IDocumentStore store, RedisStock redisStock, AfterCommit afterCommit, IOptions<ConcurrencyOptions> options)
    : IStockStrategy
{
    public LockType Type => LockType.None;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        var levels = await ProductStock.ReadAsync(store, demand.Select(d => d.ProductId).ToList(), ct);
        var decision = StockDecider.Decide(demand, levels);
        if (decision is not StockDecision.Take take)
        {
            return StockOutcome.From(decision);
        }

        await Task.Delay(options.Value.UnsafeWindowMs, ct);

        await using var session = store.LightweightSession();
        ProductStock.QueueOverwrite(session, take.Remaining);
        work(session);
        await ProductStock.CommitAsync(session);
        await afterCommit.RunAsync("stock_mirror", () => redisStock.MirrorTakenAsync(demand));
        return new StockOutcome.Taken(take.Remaining);
    }
}
