namespace ExBuy.Features.Inventory;

/// <summary>What a strategy did. Only <see cref="Taken"/> committed anything.</summary>
public abstract record StockOutcome
{
    private StockOutcome()
    {
    }

    /// <summary>The stock was taken and the caller's writes committed with it; the stock each product was left with.</summary>
    public sealed record Taken(IReadOnlyDictionary<long, int> Remaining) : StockOutcome;

    public sealed record Missing(IReadOnlyList<long> ProductIds) : StockOutcome;

    public sealed record Insufficient(long ProductId, int Available, int Requested) : StockOutcome;

    /// <summary>The strategy could not get its lock or win its retries in time; nothing was taken.</summary>
    public sealed record Busy(string Reason) : StockOutcome;

    public static StockOutcome From(StockDecision decision) => decision switch
    {
        StockDecision.Missing m => new Missing(m.ProductIds),
        StockDecision.Insufficient i => new Insufficient(i.ProductId, i.Available, i.Requested),
        _ => throw new ArgumentOutOfRangeException(nameof(decision), decision, "only refusals convert"),
    };
}

/// <summary>
/// The caller's part of the transaction: queue the documents and events that record why the stock moved (the caller
/// loaded and decided them before). Runs inside the strategy's transaction, once per attempt; it must queue something.
/// </summary>
public delegate void StockWork(global::Marten.IDocumentSession session);

/// <summary>One concurrency-control strategy: take the stock for every line or none, committing the caller's work with it.</summary>
public interface IStockStrategy
{
    LockType Type { get; }

    Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct);
}
