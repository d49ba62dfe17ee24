using System.Data.Common;
using Marten;
using Weasel.Core;
using Weasel.Postgresql;

namespace ExBuy.Features.FlashSale.FlashSaleStock;

/// <summary>
/// Indexes on the event data that let one product's stock moves be found without reading every event
/// (<see cref="ProductLedger"/>): the order events' items by product (a GIN index, <c>@&gt;</c>), and the reservations'
/// and flash-sale purchases' product id. Marten owns <c>mt_events</c> and has no option for an index on its data, so
/// each index is a schema object of its own, created with the rest of the schema at start.
/// </summary>
public static class StockEventIndexes
{
    public const string ItemsIndex = "ix_mt_events_items_product";
    public const string ReservedIndex = "ix_mt_events_reserved_product";

    public static StoreOptions ConfigureFlashSale(this StoreOptions opts)
    {
        var events = opts.Events.DatabaseSchemaName;
        opts.Storage.ExtendedSchemaObjects.Add(new EventIndex(events, ItemsIndex, "using gin ((data -> 'Items') jsonb_path_ops)"));
        opts.Storage.ExtendedSchemaObjects.Add(new EventIndex(events, ReservedIndex, "((data ->> 'ProductId')) where type = 'stock_reserved'"));
        return opts;
    }

    /// <summary>One index on <c>mt_events</c>, created when missing (its definition is fixed, so there is nothing to update).</summary>
    private sealed class EventIndex(string schema, string name, string definition) : ISchemaObject
    {
        public DbObjectName Identifier { get; } = new PostgresqlObjectName(schema, name, Weasel.Postgresql.SchemaUtils.IdentifierUsage.General);

        public void WriteCreateStatement(Migrator migrator, TextWriter writer) =>
            writer.WriteLine($"create index if not exists {name} on {schema}.mt_events {definition};");

        public void WriteDropStatement(Migrator rules, TextWriter writer) => writer.WriteLine($"drop index if exists {schema}.{name};");

        public void ConfigureQueryCommand(Weasel.Core.DbCommandBuilder builder) =>
            builder.Append($"select count(*) from pg_indexes where schemaname = '{schema}' and indexname = '{name}';");

        public async Task<ISchemaObjectDelta> CreateDeltaAsync(DbDataReader resultSet, CancellationToken ct)
        {
            var exists = await resultSet.ReadAsync(ct) && resultSet.GetInt64(0) > 0;
            return new Delta(this, exists ? SchemaPatchDifference.None : SchemaPatchDifference.Create);
        }

        public IEnumerable<DbObjectName> AllNames() => [Identifier];
    }

    private sealed class Delta(ISchemaObject index, SchemaPatchDifference difference) : ISchemaObjectDelta
    {
        public ISchemaObject SchemaObject => index;

        public SchemaPatchDifference Difference => difference;

        public void WriteUpdate(Migrator rules, TextWriter writer) => index.WriteCreateStatement(rules, writer);

        public void WriteRollback(Migrator rules, TextWriter writer) => index.WriteDropStatement(rules, writer);

        public void WriteRestorationOfPreviousState(Migrator rules, TextWriter writer)
        {
            // Nothing to restore: the index either was there (no change) or was not (dropped by the rollback).
        }
    }
}
