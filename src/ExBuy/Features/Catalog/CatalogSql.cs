using Marten;

namespace ExBuy.Features.Catalog;

/// <summary>
/// Catalog's hand-written statements, each with why it is not Marten's API, and what Catalog exposes of its table to
/// the other modules' statements, so none of them names <c>mt_doc_product</c> or its columns: a fragment each embeds
/// in its own statement (no extra round trip per request).
/// </summary>
public static class CatalogSql
{
    /// <summary>
    /// A scalar subquery giving the name of the product whose id <paramref name="productIdSql"/> is (a parameter or a
    /// column of the embedding statement), null when there is no such product. Hand-written: Marten cannot compose a
    /// document lookup into another module's raw SQL, and a second query (or a LINQ join Marten parses per request)
    /// would cost a round trip on the review lists' hot path; a primary-key probe on the duplicated <c>name</c> column.
    /// </summary>
    public static string ProductNameOf(IDocumentStore store, string productIdSql) =>
        $"(select catalog_p.name from {store.Options.DatabaseSchemaName}.mt_doc_product catalog_p where catalog_p.id = {productIdSql})";

    // The product lists, search and details (ProductReads). Hand-written: Marten's LINQ cannot join the stock table
    // (Inventory's, not a document) and parses the query on every request; these read the duplicated columns.

    // A product's updated_at is its document's, or its stock's last change when that is later (greatest() skips nulls).
    public const string UpdatedAt = "greatest((p.data ->> 'UpdatedAt')::timestamptz, s.updated_at)";

    public const string SummaryColumns = $"p.id, p.name, p.price, s.stock, p.category, {UpdatedAt}";

    /// <summary>The products joined to their stock rows (<paramref name="stockTable"/>, Inventory's), aliased p and s.</summary>
    public static string ProductsWithStock(IDocumentStore store, string stockTable) =>
        $"{store.Options.DatabaseSchemaName}.mt_doc_product p join {stockTable} s on s.product_id = p.id";

    /// <summary>The count of the list's matches.</summary>
    public static string Count(string from, string where) => $"select count(*) from {from} {where}";

    /// <summary>One page of the list in the ordering's order.</summary>
    public static string Page(string from, string columns, string where, string? ordering, int pageSize, long offset) =>
        $"select {columns} from {from} {where} order by {OrderBy(ordering)} limit {pageSize} offset {offset}";

    /// <summary>Search: the first matches in id order.</summary>
    public static string Search(string from, string where, int limit) => $"select {SummaryColumns} from {from} {where} order by p.id limit {limit}";

    /// <summary>Products $1 (a bigint[]) with their stock, in id order.</summary>
    public static string ByIds(string from) => $"select p.data, s.stock from {from} where p.id = any($1) order by p.id";

    /// <summary>Product $1 with its stock and the time it last changed.</summary>
    public static string One(string from) => $"select p.data, s.stock, {UpdatedAt} from {from} where p.id = $1";

    /// <summary>Product $1 with its stock and its review figures (<paramref name="reviewFiguresTable"/>, given by their owner), in one statement.</summary>
    public static string Detail(string from, string reviewFiguresTable) => $"""
        select p.data, s.stock, {UpdatedAt},
               coalesce(r.review_count, 0), coalesce(r.rating_sum, 0)
        from {from} left join {reviewFiguresTable} r on r.product_id = p.id where p.id = $1
        """;

    /// <summary>The filters' where clause over <see cref="ProductsWithStock"/>, its values in <paramref name="parameters"/> ($1...).</summary>
    public static string Where(IProductFilter filter, bool inStockOnly, out List<object> parameters)
    {
        parameters = [];
        var clauses = new List<string>();
        if (!string.IsNullOrEmpty(filter.Category))
        {
            parameters.Add(filter.Category);
            clauses.Add($"p.category = ${parameters.Count}");
        }

        if (filter.MinPrice is { } min)
        {
            parameters.Add(min);
            clauses.Add($"p.price >= ${parameters.Count}");
        }

        if (filter.MaxPrice is { } max)
        {
            parameters.Add(max);
            clauses.Add($"p.price <= ${parameters.Count}");
        }

        if (!string.IsNullOrWhiteSpace(filter.Q))
        {
            parameters.Add($"%{ProductReads.EscapeLike(filter.Q.Trim())}%");
            clauses.Add($"(p.name ilike ${parameters.Count} or p.data ->> 'Description' ilike ${parameters.Count})");
        }

        if (inStockOnly)
        {
            clauses.Add("s.stock > 0");
        }

        return clauses.Count == 0 ? string.Empty : "where " + string.Join(" and ", clauses);
    }

    /// <summary>The ordering's SQL; the id breaks ties so that pages never overlap (<see cref="ListProducts.ProductOrdering"/>).</summary>
    public static string OrderBy(string? ordering) => (string.IsNullOrEmpty(ordering) ? ListProducts.ProductOrdering.Default : ordering) switch
    {
        "price" => "p.price, p.id",
        "-price" => "p.price desc, p.id desc",
        "created_at" => "p.created_at, p.id",
        "name" => "p.name, p.id",
        "-name" => "p.name desc, p.id desc",
        "stock" => "s.stock, p.id",
        "-stock" => "s.stock desc, p.id desc",
        _ => "p.created_at desc, p.id desc",
    };

    public static string GenerationTable(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.catalog_generation";

    /// <summary>Moves the generation by hand (a reset). Hand-written: a one-row table Marten does not model.</summary>
    public static string MoveGeneration(IDocumentStore store) => $"update {GenerationTable(store)} set generation = generation + 1 where id = 1";

    /// <summary>The generation now. Hand-written: a one-row table Marten does not model.</summary>
    public static string Generation(IDocumentStore store) => $"select generation from {GenerationTable(store)} where id = 1";

    /// <summary>
    /// The generation, product $1's stock row and its review figures, by primary key in one statement (the read model's
    /// detail). Hand-written: three tables, two of them not Marten's, in one round trip and one snapshot.
    /// </summary>
    public static string LiveDetail(IDocumentStore store, string stockTable, string reviewFiguresTable) => $"""
        select g.generation, s.stock, s.updated_at, r.review_count, r.rating_sum
        from {GenerationTable(store)} g
        left join {stockTable} s on s.product_id = $1
        left join {reviewFiguresTable} r on r.product_id = $1
        """;

    /// <summary>
    /// The generation and the stock rows of the products $1 (a bigint[]), in one statement. Hand-written: Marten does
    /// not model the stock table; the ids are joined as a set (a hash join), which LINQ's <c>= any</c> is not.
    /// </summary>
    public static string LiveStock(IDocumentStore store, string stockTable) => $"""
        select g.generation, s.product_id, s.stock, s.updated_at
        from {GenerationTable(store)} g
        left join ({stockTable} s join unnest($1::bigint[]) as w(id) on s.product_id = w.id) on true
        """;

    /// <summary>
    /// The snapshot: the generation with the first $1 products that have stock, with PostgreSQL's own ranks for the
    /// orderings. Hand-written: window functions and the generation read in the same statement, which Marten's LINQ cannot express.
    /// </summary>
    public static string Snapshot(IDocumentStore store, string stockTable) => $"""
        select g.generation, p.data, lower(p.name), lower(coalesce(p.data ->> 'Description', '')),
        row_number() over (order by p.price, p.id), row_number() over (order by p.created_at, p.id), row_number() over (order by p.name, p.id)
        from {GenerationTable(store)} g
        left join (select p.* from {store.Options.DatabaseSchemaName}.mt_doc_product p join {stockTable} s on s.product_id = p.id order by p.id limit $1) p on true
        """;

    /// <summary>The version of <see cref="InstallGeneration"/>; <see cref="Infrastructure.Marten.ModuleInstallSetup"/> installs when the database has another.</summary>
    public const string GenerationVersion = "exbuy-catalog-generation-2";

    /// <summary>
    /// The trigger functions and the triggers, then the row created if missing. The row is moved at <b>commit</b>, by
    /// deferred constraint triggers, once per transaction (a transaction-local flag): the generation's row lock is the
    /// last lock a writer takes, so it cannot close a deadlock with the product or stock rows another writer holds
    /// (an immediate statement trigger took it at the first product statement and held it to the commit). A
    /// <c>TRUNCATE</c> cannot be deferred; it takes an exclusive table lock anyway. A new row starts at the clock in
    /// microseconds, so a recreated row never repeats a number a process may still hold. Hand-written: Marten has no
    /// triggers, and every writer (COPY, psql, another node) must move the generation in its own transaction.
    /// </summary>
    public static string InstallGeneration(string schema) => $$"""
        create or replace function {{schema}}.exbuy_catalog_changed() returns trigger language plpgsql as $fn$
        begin
          if current_setting('exbuy.catalog_generation_moved', true) is distinct from txid_current()::text then
            update {{schema}}.catalog_generation set generation = generation + 1 where id = 1;
            perform set_config('exbuy.catalog_generation_moved', txid_current()::text, true);
          end if;
          return null;
        end $fn$;
        comment on function {{schema}}.exbuy_catalog_changed() is '{{GenerationVersion}}';

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

    /// <summary>Whether this database has <see cref="GenerationVersion"/>'s triggers and the generation row. Hand-written: a catalog query Marten has no API for.</summary>
    public static string GenerationInstalled(string schema) => $"""
        select coalesce(obj_description(to_regprocedure('{schema}.exbuy_catalog_changed()'), 'pg_proc'), '') = '{GenerationVersion}'
           and (select count(*) from pg_trigger t where t.tgname in ('exbuy_catalog_products', 'exbuy_catalog_stock_rows',
                'exbuy_catalog_products_truncate', 'exbuy_catalog_stock_rows_truncate') and not t.tgisinternal
                and t.tgrelid in (to_regclass('{schema}.mt_doc_product'), to_regclass('{schema}.product_stock'))) = 4
           and exists (select 1 from {schema}.catalog_generation where id = 1)
        """;
}
