using ExBuy.Features.Inventory;
using Marten;
using Npgsql;

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

    /// <summary>A gate decrement whose request died before it reached the database.</summary>
    public static Task GateWithoutRequest(this RedisStock redisStock, long productId, int quantity) =>
        redisStock.TryTakeAsync([new StockLine(productId, quantity)]);
}
