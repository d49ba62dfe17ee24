using System.Data.Common;
using Marten;
using Weasel.Core;
using Weasel.Core.Migrations;
using Weasel.Postgresql;

namespace ExBuy.Features.FlashSale.FlashSaleStock;

/// <summary>
/// Indexes on the event data that let one product's stock moves be found without reading every event
/// (<see cref="ProductLedger"/>): the order events' items by product (a GIN index, <c>@&gt;</c>), and the reservations'
/// and flash-sale purchases' product id. Marten owns <c>mt_events</c> and has no option for an index on its data, so
/// they are a schema feature of their own, created with the rest of the schema at start.
/// </summary>
public static class StockEventIndexes
{
    public const string ItemsIndex = "ix_mt_events_order_items_product";
    public const string ReservedIndex = "ix_mt_events_reserved_product";

    public static StoreOptions ConfigureFlashSale(this StoreOptions opts)
    {
        // A feature of its own: Marten creates custom features after the event store, so on a fresh schema the table is
        // there first. The event store's own migration is told to leave these indexes alone (not its to drop).
        opts.Storage.Add(new Feature(opts));
        opts.Events.IgnoreIndex(ItemsIndex);
        opts.Events.IgnoreIndex(ReservedIndex);
        return opts;
    }

    private sealed class Feature(StoreOptions opts) : FeatureSchemaBase("exbuy_stock_event_indexes", opts.Advanced.Migrator)
    {
        public override Type StorageType => typeof(Feature);

        protected override IEnumerable<ISchemaObject> schemaObjects()
        {
            var events = opts.Events.DatabaseSchemaName;
            // Partial: only the order events carry items, so no other event (balances, coupons, reservations) pays for it.
            yield return new EventIndex(events, ItemsIndex, "using gin ((data -> 'Items') jsonb_path_ops) where type in ('order_placed', 'order_revived', 'order_cancelled')");
            yield return new EventIndex(events, ReservedIndex, "((data ->> 'ProductId')) where type = 'stock_reserved'");
        }
    }

    /// <summary>
    /// One index on <c>mt_events</c>, created when missing (its definition is fixed, so there is nothing to update), after
    /// the events table in a migration that creates both (a fresh schema).
    /// </summary>
    private sealed class EventIndex(string schema, string name, string definition) : ISchemaObject, ISchemaObjectWithDependencies
    {
        public DbObjectName Identifier { get; } = new PostgresqlObjectName(schema, name, Weasel.Postgresql.SchemaUtils.IdentifierUsage.General);

        public IEnumerable<DbObjectName> DependsOn { get; } = [new PostgresqlObjectName(schema, "mt_events", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General)];

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
