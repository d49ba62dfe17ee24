using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Inventory;

/// <summary>Inventory's tables in a full reset: the holds, the Redis gates' ledger (<c>stock_gates</c>) and the stock rows.</summary>
internal sealed class InventoryReset : IModuleReset
{
    public async Task ResetAsync(IDocumentStore store, CancellationToken ct)
    {
        await StockHolds.ClearAsync(store, ct);
        await ProductStock.ClearAsync(store, ct);
    }
}
