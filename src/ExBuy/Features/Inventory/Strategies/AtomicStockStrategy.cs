using ExBuy.Features.Catalog;
using Marten;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// Three stages for stock: a Lua script checks and decrements every line in Redis at once (the fast
/// gate that turns most losers away without touching PostgreSQL), then a conditional UPDATE of all lines
/// (<c>where stock &gt;= quantity</c>) decides for real — autocommitted with a hold, so hot rows are locked for one
/// statement only — and the caller's writes commit with the hold's consumption (<see cref="StockHolds"/>). When the
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

    private const int PriceRaceAttempts = 3;

    /// <summary>
    /// Takes the stock with a hold in one autocommitted statement (<see cref="StockHolds.TakeAsync"/>: the product rows
    /// are locked for that statement alone), then commits the caller's writes together with the hold's consumption.
    /// If that transaction fails, the hold is released; a refusal re-reads, and a price that moved re-prices.
    /// </summary>
    private async Task<StockOutcome> TakeInDatabaseAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await StockPrecheck.CommittedAsync(store, demand, ct);
            var decision = StockDecider.Decide(demand, current);
            if (decision is not StockDecision.Take)
            {
                return StockOutcome.From(decision);
            }

            var holdId = Guid.CreateVersion7();
            var taken = await StockHolds.TakeAsync(store, holdId, demand, current, clock.GetUtcNow(), ct);
            if (taken is null)
            {
                if (attempt < PriceRaceAttempts)
                {
                    continue; // sold out meanwhile (the next read says so) or repriced (the next attempt prices it again)
                }

                return new StockOutcome.Busy("The products kept changing while the order was being placed.");
            }

            try
            {
                await using var session = store.LightweightSession();
                work(session, taken);
                session.QueueOperation(new ConsumeStockHoldOperation(store, holdId, demand.Count));
                await ProductStockSql.CommitAsync(session);
                return new StockOutcome.Taken(taken);
            }
            catch (Exception e)
            {
                // Rolled back (the hold is still there and goes back now) — or the hold was gone already: swept as
                // abandoned (this request took minutes), which the consume operation reports and which fails the sale.
                if (e is StockHoldGoneException || (e is AggregateException a && a.InnerExceptions.Any(i => i is StockHoldGoneException))
                    || await ReleasedAsync(holdId))
                {
                    throw;
                }

                // Nothing to give back because the sale consumed the hold: the unit of work committed although the
                // client saw an error (the connection was lost after COMMIT). The sale stands, and Redis with it.
                return new StockOutcome.Taken(taken);
            }
        }
    }

    /// <summary>Gives the hold back; false when there was nothing to give back because the sale consumed it.</summary>
    private async Task<bool> ReleasedAsync(Guid holdId) =>
        (await StockHolds.ReleaseAsync(store, holdId, CancellationToken.None)).Count > 0;

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
