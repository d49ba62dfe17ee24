using Marten;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Catalog.ReadModel;

/// <summary>
/// The catalogue's generation, <c>catalog_generation</c>: one row whose number moves, in the writer's own transaction,
/// with every statement that inserts, updates or deletes a product document or inserts or deletes a stock row (stock
/// <em>changes</em> do not move it: they are read live). Triggers keep it, so every writer counts — the API on any
/// instance, the seeder, a test, <c>psql</c>. A node's in-memory catalogue (<see cref="CatalogSnapshot"/>) is valid while
/// its generation is the row's; every read that uses the snapshot reads the row in the same statement as its live
/// figures, so nothing committed before the request began is missed (read-your-writes on every instance).
/// </summary>
public static class CatalogGeneration
{
    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.catalog_generation";

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "catalog_generation", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<int>("id").AsPrimaryKey();
        table.AddColumn<long>("generation").NotNull();
        table.CheckConstraints.Add(new Weasel.Core.TableCheckConstraint("catalog_generation_one_row", "id = 1"));
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>The trigger function and the triggers (idempotent DDL), then the row created or moved on.</summary>
    internal static string InstallSql(string schema) => $$"""
        create or replace function {{schema}}.exbuy_catalog_changed() returns trigger language plpgsql as $fn$
        begin
          update {{schema}}.catalog_generation set generation = generation + 1 where id = 1;
          return null;
        end $fn$;

        create or replace trigger exbuy_catalog_products after insert or update or delete on {{schema}}.mt_doc_product
          for each statement execute function {{schema}}.exbuy_catalog_changed();
        create or replace trigger exbuy_catalog_products_truncate after truncate on {{schema}}.mt_doc_product
          for each statement execute function {{schema}}.exbuy_catalog_changed();
        create or replace trigger exbuy_catalog_stock_rows after insert or delete on {{schema}}.product_stock
          for each statement execute function {{schema}}.exbuy_catalog_changed();
        create or replace trigger exbuy_catalog_stock_rows_truncate after truncate on {{schema}}.product_stock
          for each statement execute function {{schema}}.exbuy_catalog_changed();

        insert into {{schema}}.catalog_generation (id, generation) values (1, 1)
        on conflict (id) do update set generation = {{schema}}.catalog_generation.generation + 1;
        """;
}
