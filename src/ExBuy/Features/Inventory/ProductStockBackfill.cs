using Marten;
using Npgsql;

namespace ExBuy.Features.Inventory;

/// <summary>
/// Upgrades a database written before stock had its own table: products whose stock still lives only in their document
/// get their <c>product_stock</c> row, with the figures the document held. Runs once at start (after Marten has created
/// the table); a product that already has its row is never touched, so running it again changes nothing.
/// </summary>
public sealed partial class ProductStockBackfill(IDocumentStore store, ILogger<ProductStockBackfill> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        // Reads the old document fields; writes only the Inventory slice's own table.
        await using var command = new NpgsqlCommand(
            $"""
             insert into {ProductStock.Table(store)} (product_id, stock, initial_stock)
             select p.id, coalesce((p.data ->> 'Stock')::int, 0), coalesce((p.data ->> 'InitialStock')::int, (p.data ->> 'Stock')::int, 0)
             from {store.Options.DatabaseSchemaName}.mt_doc_product p
             where not exists (select 1 from {ProductStock.Table(store)} s where s.product_id = p.id)
             on conflict (product_id) do nothing
             """,
            connection);
        var added = await command.ExecuteNonQueryAsync(cancellationToken);
        if (added > 0)
        {
            Backfilled(logger, added);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Gave {Count} products written before the stock table their product_stock rows")]
    private static partial void Backfilled(ILogger logger, int count);
}
