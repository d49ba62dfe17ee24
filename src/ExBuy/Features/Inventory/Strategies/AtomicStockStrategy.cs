using ExBuy.Features.Catalog;
using Marten;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// Seed 003's three stages for stock: a Lua script checks and decrements every line in Redis at once (the fast
/// gate that turns most losers away without touching PostgreSQL), then a conditional UPDATE per product
/// (<c>where stock &gt;= quantity</c>) decides for real inside one transaction with the caller's writes. When the
/// database refuses or anything fails after the gate, the Redis decrement is given back.
/// </summary>
public sealed class AtomicStockStrategy(IDocumentStore store, RedisStock redisStock, TimeProvider clock) : IStockStrategy
{
    public LockType Type => LockType.Atomic;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        var missing = await InitializeKeysAsync(demand, ct);
        if (missing.Count > 0)
        {
            return new StockOutcome.Missing(missing);
        }

        var gate = await redisStock.TryTakeAsync(demand);
        if (gate != 0)
        {
            var line = demand[Math.Abs(gate) - 1];
            return gate > 0
                ? new StockOutcome.Insufficient(line.ProductId, await redisStock.GetAsync(line.ProductId) ?? 0, line.Quantity)
                : new StockOutcome.Missing([line.ProductId]);
        }

        var committed = false;
        try
        {
            var outcome = await TakeInDatabaseAsync(demand, work, ct);
            committed = outcome is StockOutcome.Taken;
            return outcome;
        }
        finally
        {
            if (!committed)
            {
                await redisStock.CompensateAsync(demand);
            }
        }
    }

    private async Task<StockOutcome> TakeInDatabaseAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        var products = new Dictionary<long, Product>(demand.Count);
        foreach (var line in demand)
        {
            var product = await ProductStockSql.TryTakeAsync(session, line.ProductId, line.Quantity, now, ct);
            if (product is null)
            {
                // Disposing the session rolls back the lines already taken.
                var current = await session.LoadAsync<Product>(line.ProductId, ct);
                return current is null
                    ? new StockOutcome.Missing([line.ProductId])
                    : new StockOutcome.Insufficient(line.ProductId, current.Stock, line.Quantity);
            }

            products[line.ProductId] = product;
        }

        work(session, products);
        ProductStockSql.EnsureCommit(session);
        await session.SaveChangesAsync(ct);
        return new StockOutcome.Taken(products);
    }

    // A product's Redis stock starts from the database the first time the gate sees it (SET NX: first writer wins).
    private async Task<IReadOnlyList<long>> InitializeKeysAsync(IReadOnlyList<StockLine> demand, CancellationToken ct)
    {
        var uninitialized = await redisStock.UninitializedAsync(demand);
        if (uninitialized.Count == 0)
        {
            return [];
        }

        await using var session = store.QuerySession();
        var products = (await session.LoadManyAsync<Product>(ct, uninitialized)).ToDictionary(p => p.Id);
        foreach (var product in products.Values)
        {
            await redisStock.InitializeAsync(product.Id, product.Stock);
        }

        return uninitialized.Where(id => !products.ContainsKey(id)).ToList();
    }
}
