using ExBuy.Features.Catalog;
using Marten;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// Load, decide, write with Marten's revision check, commit: the optimistic strategy's attempt, which it retries.
/// (The row strategy queues its stock changes the same way, under its row locks.)
/// </summary>
internal static class RevisionedStockWrite
{
    /// <exception cref="JasperFx.ConcurrencyException">Another writer changed a product since it was loaded.</exception>
    public static async Task<StockOutcome> RunAsync(
        IDocumentStore store, IReadOnlyList<StockLine> demand, StockWork work, DateTimeOffset now, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var products = (await session.LoadManyAsync<Product>(ct, demand.Select(d => d.ProductId))).ToDictionary(p => p.Id);
        var decision = StockDecider.Decide(demand, products);
        if (decision is not StockDecision.Take take)
        {
            return StockOutcome.From(decision);
        }

        QueueStockChanges(session, products, take, now);
        work(session, products);
        await ProductStockSql.CommitAsync(session);
        return new StockOutcome.Taken(products);
    }

    /// <summary>Sets each product's new stock and queues it with the next revision (checked at commit).</summary>
    public static void QueueStockChanges(IDocumentSession session, Dictionary<long, Product> products, StockDecision.Take take, DateTimeOffset now)
    {
        foreach (var (id, remaining) in take.Remaining)
        {
            var product = products[id];
            product.Stock = remaining;
            product.UpdatedAt = now;
            session.UpdateRevision(product, product.Version + 1);
        }
    }
}
