using ExBuy.Infrastructure.Observability;
using Marten;
using Npgsql;
using ExBuy.Infrastructure.Resilience;

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
public sealed class AtomicStockStrategy(IDocumentStore store, RedisStock redisStock, AfterCommit afterCommit) : IStockStrategy
{
    public LockType Type => LockType.Atomic;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        // The gate first: it says when a key is absent (a product the gate has not seen yet, or Redis lost its data),
        // and only then are the keys set from the database and the gate asked again — one Redis round trip per order
        // when the keys are there.
        var gate = await redisStock.TryTakeAsync(demand);
        if (gate < 0)
        {
            var missing = await InitializeKeysAsync(demand, ct);
            if (missing.Count > 0)
            {
                return new StockOutcome.Missing(missing);
            }

            gate = await redisStock.TryTakeAsync(demand);
        }

        if (gate != 0)
        {
            var line = demand[Math.Abs(gate) - 1];
            return gate > 0
                ? new StockOutcome.Insufficient(line.ProductId, await redisStock.GetAsync(line.ProductId) ?? 0, line.Quantity)
                : new StockOutcome.Missing([line.ProductId]);
        }

        return await TakeInDatabaseAsync(demand, work, ct);
    }

    /// <summary>
    /// Takes the stock with a hold in one autocommitted statement (<see cref="StockHolds.TakeAsync"/>: the stock rows are
    /// locked for that statement alone), then commits the caller's writes together with the hold's consumption. Owns the
    /// gate decrement: gives it back unless the stock stays taken in the database (or someone else gave it back).
    /// </summary>
    private async Task<StockOutcome> TakeInDatabaseAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        var holdId = Guid.CreateVersion7();
        Dictionary<long, int>? taken;
        try
        {
            taken = await StockHolds.TakeAsync(store, holdId, demand, ct);
        }
        catch (HoldNotAttemptedException)
        {
            await GiveBackAsync(demand); // no take was sent: the database has nothing of this request
            throw;
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
            // Sold out (or deleted) between the read and the take: say so from the rows as they are now.
            await GiveBackAsync(demand);
            return await StockPrecheck.RefusalAsync(store, demand, ct) ?? new StockOutcome.Busy("The stock changed while the order was being placed.");
        }

        return await RecordSaleAsync(holdId, demand, taken, work);
    }

    private async Task<StockOutcome> RecordSaleAsync(Guid holdId, IReadOnlyList<StockLine> demand, Dictionary<long, int> taken, StockWork work)
    {
        try
        {
            await using var session = store.LightweightSession();
            work(session);
            ProductStock.EnsureWorkQueued(session); // before the consumption is queued, which would make any work look like some
            // Consumed in the same round trip as the sale's writes, so the hold rows are locked from there to the commit
            // only (a sweeper releasing the hold waits that long at most, then finds it consumed).
            StockHolds.QueueConsume(session, holdId, demand.Count);
            await ProductStock.CommitAsync(session);
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
            // (Marten throws an AggregateException when another operation of the unit of work failed too.)
            if (e is HoldGoneException || (e is AggregateException all && all.InnerExceptions.Any(i => i is HoldGoneException)))
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

    /// <summary>
    /// Gives the gate decrement back once the database settled that it keeps nothing, by the after-commit rule (the
    /// refusal stands whatever Redis does); if Redis fails too, the reconciler repairs the key.
    /// </summary>
    private Task GiveBackAsync(IReadOnlyList<StockLine> lines) => afterCommit.RunAsync("stock_give_back", () => redisStock.CompensateAsync(lines));

    private const int KeyInitializationAttempts = 3;

    /// <summary>
    /// A product's Redis stock starts from the database the first time the gate sees it (SET NX: first writer wins). The
    /// other strategies mirror their commits into the key only while it exists, so a commit that lands between the read
    /// and the SET would be missing from the key: the stock row's version is read again after the SET, and a key set from
    /// a row that has moved since is taken back (compare-and-set) and set again from a fresh read. A key still unsettled
    /// after a few attempts is left to the reconciler.
    /// </summary>
    private async Task<IReadOnlyList<long>> InitializeKeysAsync(IReadOnlyList<StockLine> demand, CancellationToken ct)
    {
        var uninitialized = await redisStock.UninitializedAsync(demand);
        if (uninitialized.Count == 0)
        {
            return [];
        }

        var levels = await ProductStock.ReadAsync(store, uninitialized, ct);
        var missing = uninitialized.Where(id => !levels.ContainsKey(id)).ToList();
        for (var attempt = 1; levels.Count > 0; attempt++)
        {
            var setHere = new List<StockLevel>(levels.Count);
            foreach (var level in levels.Values)
            {
                if (await redisStock.InitializeAsync(level.ProductId, level.Stock))
                {
                    setHere.Add(level);
                }
            }

            if (setHere.Count == 0 || attempt == KeyInitializationAttempts)
            {
                break;
            }

            var now = await ProductStock.ReadAsync(store, setHere.Select(l => l.ProductId).ToList(), ct);
            var moved = setHere.Where(l => now.TryGetValue(l.ProductId, out var current) && current.Version != l.Version).ToList();
            levels = [];
            foreach (var stale in moved)
            {
                if (await redisStock.CompareAndSetAsync(stale.ProductId, stale.Stock, null))
                {
                    levels[stale.ProductId] = now[stale.ProductId];
                }
            }
        }

        return missing;
    }
}
