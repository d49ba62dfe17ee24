using ExBuy.Features.Inventory;
using Marten;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Infrastructure;

/// <summary>Damage done behind the API's back to the atomic strategy's bookkeeping.</summary>
public static class StockScenarios
{
    /// <summary>Makes every hold an hour older: what a request that died (or stalled) long ago leaves behind.</summary>
    public static async Task AgeHolds(this IDocumentStore store, Guid? holdId = null)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"update {StockHolds.Table(store)} set created_at = created_at - interval '1 hour' where $1::uuid is null or hold_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid?> { TypedValue = holdId, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Sets a product's stock in PostgreSQL as a stray writer would: no event, the version bumped.</summary>
    public static async Task SetDatabaseStock(this IDocumentStore store, long productId, int stock)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"update {ProductStock.Table(store)} set stock = $2, version = version + 1 where product_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = productId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = stock });
        (await command.ExecuteNonQueryAsync()).ShouldBe(1, $"product {productId} has a stock row");
    }

    /// <summary>How many lines of a hold are held now.</summary>
    public static async Task<long> HeldLines(this IDocumentStore store, Guid holdId)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select count(*) from {StockHolds.Table(store)} where hold_id = $1 and state = 'held'", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Deletes a product's stock row as a stray writer would, leaving its document.</summary>
    public static async Task DropStockRow(this IDocumentStore store, long productId)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"delete from {ProductStock.Table(store)} where product_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = productId });
        (await command.ExecuteNonQueryAsync()).ShouldBe(1, $"product {productId} had a stock row");
    }

    /// <summary>A gate decrement whose request died before it reached the database.</summary>
    public static Task GateWithoutRequest(this RedisStock redisStock, long productId, int quantity) =>
        redisStock.TryTakeAsync([new StockLine(productId, quantity)]);
}
