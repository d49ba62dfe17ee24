using ExBuy.Features.Catalog;
using ExBuy.Infrastructure.Observability;
using Marten;
using Npgsql;
using StackExchange.Redis;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>
/// Three stages for stock: a Lua script checks and decrements every line in Redis at once (the fast
/// gate that turns most losers away without touching PostgreSQL), then a conditional UPDATE of all lines
/// (<c>where stock &gt;= quantity</c>) decides for real — autocommitted with a hold, so hot rows are locked for one
/// statement only — and the caller's writes commit with the hold's consumption (<see cref="StockHolds"/>).
/// <para>
/// The gate decrement is given back to Redis exactly when the database did not keep the stock, and by exactly one
/// party: this request when the database refused, when its take provably never happened, or when its own release
/// moved the hold back; the sweeper when it released the hold first. When the database cannot say (it is down),
/// nothing is given back and the <see cref="StockReconciler"/> repairs the key — Redis low for a while sells
/// nothing twice; Redis high would let buyers through the gate that the database then refuses.
/// </para>
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

        return await TakeInDatabaseAsync(demand, work, ct);
    }

    private const int PriceRaceAttempts = 3;

    /// <summary>
    /// Takes the stock with a hold in one autocommitted statement (<see cref="StockHolds.TakeAsync"/>: the product rows
    /// are locked for that statement alone), then commits the caller's writes together with the hold's consumption.
    /// A refusal re-reads, and a price that moved re-prices. Owns the gate decrement: gives it back unless the stock
    /// stays taken in the database (or someone else gave it back).
    /// </summary>
    private async Task<StockOutcome> TakeInDatabaseAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            Dictionary<long, Product> current;
            try
            {
                current = await StockPrecheck.CommittedAsync(store, demand, ct);
            }
            catch
            {
                await GiveBackAsync(demand); // no take was attempted: the database has nothing of this request
                throw;
            }

            var decision = StockDecider.Decide(demand, current);
            if (decision is not StockDecision.Take)
            {
                await GiveBackAsync(demand);
                return StockOutcome.From(decision);
            }

            var holdId = Guid.CreateVersion7();
            Dictionary<long, Product>? taken;
            try
            {
                taken = await StockHolds.TakeAsync(store, holdId, demand, current, clock.GetUtcNow(), ct);
            }
            catch
            {
                // The take may or may not have happened (a lost connection, a cancellation): settle it.
                switch (await TrySettleAsync(holdId, demand))
                {
                    case HoldFate.NeverTaken:
                        await GiveBackAsync(demand);
                        break;
                    case HoldFate.Released released:
                        await GiveBackAsync(released.Lines);
                        break;
                }

                throw;
            }

            if (taken is null)
            {
                if (attempt < PriceRaceAttempts)
                {
                    continue; // sold out meanwhile (the next read says so) or repriced (the next attempt prices it again)
                }

                await GiveBackAsync(demand);
                return new StockOutcome.Busy("The products kept changing while the order was being placed.");
            }

            return await RecordSaleAsync(holdId, demand, taken, work);
        }
    }

    private async Task<StockOutcome> RecordSaleAsync(Guid holdId, IReadOnlyList<StockLine> demand, Dictionary<long, Product> taken, StockWork work)
    {
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
            switch (await TrySettleAsync(holdId, demand))
            {
                case HoldFate.Consumed:
                    // The unit of work committed although the client saw an error (the connection was lost after
                    // COMMIT). The sale stands, and Redis with it.
                    return new StockOutcome.Taken(taken);
                case HoldFate.Released released:
                    await GiveBackAsync(released.Lines);
                    break;

                // ReleasedByOther: the sweeper released the hold and gave Redis its share. NeverTaken cannot happen once
                // the take committed (its rows outlive any request); null: the database cannot say, the hold is the sweeper's.
            }

            // The sweeper released the hold first (this request outlived the sweep window) and gave Redis its share;
            // the consume step refused, so nothing of the sale was written.
            if (StockHolds.IsHoldGone(e))
            {
                return new StockOutcome.Busy("The order took longer than its stock hold; nothing was taken.");
            }

            throw;
        }
    }

    /// <summary>What became of the hold, or null when the database cannot say (then the hold, if any, stays for the sweeper).</summary>
    private async Task<HoldFate?> TrySettleAsync(Guid holdId, IReadOnlyList<StockLine> demand)
    {
        try
        {
            return await StockHolds.SettleAsync(store, holdId, demand, CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Gives the gate decrement back; if Redis fails too, the reconciler repairs the key.</summary>
    private async Task GiveBackAsync(IReadOnlyList<StockLine> lines)
    {
        try
        {
            await redisStock.CompensateAsync(lines);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            ExBuyMetrics.StockRedisGiveBackFailed.Inc();
        }
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
