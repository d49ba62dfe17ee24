using ExBuy.Features.Catalog;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// <c>lock_type=none</c>: read, decide, wait, write the stock computed from the read — with no lock, no
/// revision check and no condition. Concurrent buyers read the same stock and all succeed: it oversells. It
/// exists so that a benchmark can show what the other strategies prevent, and is refused as a default.
/// </summary>
public sealed class UnsafeStockStrategy(IDocumentStore store, RedisStock redisStock, IOptions<ConcurrencyOptions> options, TimeProvider clock)
    : IStockStrategy
{
    public LockType Type => LockType.None;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var products = (await session.LoadManyAsync<Product>(ct, demand.Select(d => d.ProductId))).ToDictionary(p => p.Id);
        var decision = StockDecider.Decide(demand, products);
        if (decision is not StockDecision.Take take)
        {
            return StockOutcome.From(decision);
        }

        await Task.Delay(options.Value.UnsafeWindowMs, ct);

        await session.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        foreach (var (id, remaining) in take.Remaining)
        {
            await ProductStockSql.OverwriteAsync(session, id, remaining, now, ct);
            products[id].Stock = remaining;
            products[id].UpdatedAt = now;
        }

        work(session, products);
        ProductStockSql.EnsureCommit(session);
        await ProductStockSql.CommitAsync(session);
        await redisStock.MirrorTakenAsync(demand);
        return new StockOutcome.Taken(products);
    }
}
