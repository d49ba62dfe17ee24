using Marten;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Inventory;

/// <summary>
/// The products whose stock has a Redis copy (<see cref="RedisStock"/>): recorded when a key is first set, so that a
/// key Redis lost (a restart without its data) is known to be missing — by the reconciler, which sets it again,
/// and by the audit, which reports it until then.
/// </summary>
public static class RedisStockGates
{
    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.stock_gates";

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "stock_gates", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("product_id").AsPrimaryKey();
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    public static async Task AddAsync(IDocumentStore store, IReadOnlyCollection<long> productIds, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(InventorySql.RecordGates(store), connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = productIds.ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }
}
