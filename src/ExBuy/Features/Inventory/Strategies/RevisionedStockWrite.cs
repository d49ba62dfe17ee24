using ExBuy.Features.Catalog;
using Marten;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// Load, decide, write with Marten's revision check, commit. The optimistic strategy retries it; the Redis-lock
/// strategies run it under their lock, where the revision check still guards against writers that took no lock.
/// </summary>
internal static class RevisionedStockWrite
{
    /// <exception cref="JasperFx.ConcurrencyException">Another writer changed a product since it was loaded.</exception>
    public static async Task<StockOutcome> RunAsync(
        IDocumentStore store, IReadOnlyList<StockLine> demand, StockWork work, DateTimeOffset now, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var products = (await session.LoadManyAsync<Product>(ct, demand.Select(d => d.ProductId))).ToDictionary(p => p.Id);
        if (StockDecider.Decide(demand, products) is not StockDecision.Take take)
        {
            return StockOutcome.From(StockDecider.Decide(demand, products));
        }

        QueueStockChanges(session, products, take, now);
        work(session, products);
        // Not the request's token: a commit cut off by a client that went away may still land, and the Redis copy
        // must then follow it. Once the locks are held, the unit of work is finished.
        await session.SaveChangesAsync(CancellationToken.None);
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
