using Marten;

namespace ExBuy.Features.Inventory;

/// <summary>
/// The lock-based strategies read the stock without a lock first: a product that is already sold out (or does not
/// exist) is refused at once instead of queueing for the lock only to find that out. Once a flash sale has sold out,
/// every later buyer used to wait in the lock queue (pessimistic and redlock p99 ≈ 5 s, the lock timeout, in the
/// v1_stress matrix). The check under the lock stays the authority; this one can only say no to what the committed
/// data already refuses.
/// </summary>
public static class StockPrecheck
{
    public static async Task<StockOutcome?> RefusalAsync(IDocumentStore store, IReadOnlyList<StockLine> demand, CancellationToken ct)
    {
        var decision = StockDecider.Decide(demand, await ProductStock.ReadAsync(store, demand.Select(l => l.ProductId).ToList(), ct));
        return decision is StockDecision.Take ? null : StockOutcome.From(decision);
    }
}
