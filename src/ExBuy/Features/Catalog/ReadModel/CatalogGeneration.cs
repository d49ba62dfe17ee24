using ExBuy.Infrastructure.Marten;
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
    /// <summary>The generation triggers, installed at start by <see cref="ModuleInstallSetup"/> (registered by <see cref="CatalogRegistration"/>).</summary>
    internal sealed class Install : IModuleInstall
    {
        public string InstalledSql(string schema) => CatalogGeneration.InstalledSql(schema);

        public string InstallSql(string schema) => CatalogGeneration.InstallSql(schema);
    }

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.catalog_generation";

    /// <summary>Moves the generation by hand (a reset): hand-written, a one-row table Marten does not model.</summary>
    internal static string MoveSql(IDocumentStore store) => $"update {Table(store)} set generation = generation + 1 where id = 1";

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "catalog_generation", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<int>("id").AsPrimaryKey();
        table.AddColumn<long>("generation").NotNull();
        table.CheckConstraints.Add(new Weasel.Core.TableCheckConstraint("catalog_generation_one_row", "id = 1"));
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>The version of <see cref="InstallSql"/>; <see cref="ModuleInstallSetup"/> installs when the database has another.</summary>
    internal const string Version = "exbuy-catalog-generation-2";

    /// <summary>
    /// The trigger functions and the triggers, then the row created if missing. The row is moved at <b>commit</b>, by
    /// deferred constraint triggers, once per transaction (a transaction-local flag): the generation's row lock is the
    /// last lock a writer takes, so it cannot close a deadlock with the product or stock rows another writer holds
    /// (an immediate statement trigger took it at the first product statement and held it to the commit). A
    /// <c>TRUNCATE</c> cannot be deferred; it takes an exclusive table lock anyway. A new row starts at the clock in
    /// microseconds, so a recreated row never repeats a number a process may still hold.
    /// </summary>
    internal static string InstallSql(string schema) => $$"""
        create or replace function {{schema}}.exbuy_catalog_changed() returns trigger language plpgsql as $fn$
        begin
          if current_setting('exbuy.catalog_generation_moved', true) is distinct from txid_current()::text then
            update {{schema}}.catalog_generation set generation = generation + 1 where id = 1;
            perform set_config('exbuy.catalog_generation_moved', txid_current()::text, true);
          end if;
          return null;
        end $fn$;
        comment on function {{schema}}.exbuy_catalog_changed() is '{{Version}}';

        drop trigger if exists exbuy_catalog_products on {{schema}}.mt_doc_product;
        drop trigger if exists exbuy_catalog_stock_rows on {{schema}}.product_stock;
        create constraint trigger exbuy_catalog_products after insert or update or delete on {{schema}}.mt_doc_product
          deferrable initially deferred for each row execute function {{schema}}.exbuy_catalog_changed();
        create constraint trigger exbuy_catalog_stock_rows after insert or delete or update of product_id on {{schema}}.product_stock
          deferrable initially deferred for each row execute function {{schema}}.exbuy_catalog_changed();
        create or replace trigger exbuy_catalog_products_truncate after truncate on {{schema}}.mt_doc_product
          for each statement execute function {{schema}}.exbuy_catalog_changed();
        create or replace trigger exbuy_catalog_stock_rows_truncate after truncate on {{schema}}.product_stock
          for each statement execute function {{schema}}.exbuy_catalog_changed();

        insert into {{schema}}.catalog_generation (id, generation)
        values (1, (extract(epoch from clock_timestamp()) * 1000000)::bigint)
        on conflict (id) do nothing;
        """;

    /// <summary>Whether this database has <see cref="Version"/>'s triggers and the generation row (then nothing needs installing).</summary>
    internal static string InstalledSql(string schema) => $"""
        select coalesce(obj_description(to_regprocedure('{schema}.exbuy_catalog_changed()'), 'pg_proc'), '') = '{Version}'
           and (select count(*) from pg_trigger t where t.tgname in ('exbuy_catalog_products', 'exbuy_catalog_stock_rows',
                'exbuy_catalog_products_truncate', 'exbuy_catalog_stock_rows_truncate') and not t.tgisinternal
                and t.tgrelid in (to_regclass('{schema}.mt_doc_product'), to_regclass('{schema}.product_stock'))) = 4
           and exists (select 1 from {schema}.catalog_generation where id = 1)
        """;
}
