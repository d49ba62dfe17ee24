using ExBuy.Features.Inventory;
using Marten;
using Npgsql;

namespace ExBuy.Features.FlashSale.FlashSaleStock;

/// <summary>
/// One product's stock beside what its events say it should be — the same sums as <see cref="StockLedger"/>, read from
/// that product's events only (through <see cref="StockEventIndexes"/>), so the flash-sale check costs the same whatever
/// else the shop has sold. Each order event is found by its items containing the product (<c>@&gt;</c>, the GIN index),
/// each reservation or purchase by its product id (the partial index).
/// </summary>
public static class ProductLedger
{
    /// <summary>The parameters of <see cref="FlashSaleSql.ProductLedger"/> for <paramref name="productId"/>.</summary>
    public static NpgsqlParameter[] Parameters(long productId) =>
    [
        new NpgsqlParameter<long> { TypedValue = productId },
        new NpgsqlParameter<string> { TypedValue = $$"""[{"ProductId":{{productId}}}]""", NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb },
    ];

    public static async Task<StockLedgerRow?> ReadAsync(NpgsqlDataSource db, IDocumentStore store, long productId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(FlashSaleSql.ProductLedger(store), connection);
        command.Parameters.AddRange(Parameters(productId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new StockLedgerRow(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5))
            : null;
    }
}
