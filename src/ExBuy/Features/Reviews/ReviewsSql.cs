using ExBuy.Features.Catalog;
using Marten;

namespace ExBuy.Features.Reviews;

/// <summary>
/// Every hand-written statement of the Reviews module, each with why it is not Marten's API. Reviews names only its
/// own tables (<c>mt_doc_review</c>, <c>product_review_stats</c>); a product's name comes from
/// <see cref="CatalogSql.ProductNameOf"/>, embedded in the same statement.
/// </summary>
internal static class ReviewsSql
{
    public static string Reviews(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.mt_doc_review";

    public static string Stats(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.product_review_stats";

    /// <summary>
    /// A product's newest reviews ($2 of them) with its name; one row with a null name when there is no such product.
    /// Hand-written: one statement for "no product" and the page in one snapshot, where LINQ would be two queries
    /// (and a parse per request).
    /// </summary>
    public static string ForProduct(IDocumentStore store) => $"""
        select {CatalogSql.ProductNameOf(store, "$1")}, r.data
        from (select 1) one
        left join lateral (
          select d.data from {Reviews(store)} d where d.product_id = $1 order by d.created_at desc, d.id desc limit $2) r on true
        """;

    /// <summary>
    /// One page of reviews with each product's name and the count of all that match (a window count). Hand-written:
    /// the page, the names and the count in one statement, where Marten's paging is a query plus a count.
    /// </summary>
    public static string Page(IDocumentStore store, string where, int pageSize, long offset) => $"""
        select d.data, coalesce({CatalogSql.ProductNameOf(store, "d.product_id")}, ''), count(*) over()
        from {Reviews(store)} d
        {where} order by d.created_at desc, d.id desc limit {pageSize} offset {offset}
        """;

    /// <summary>The count alone, past the last page (no row for the window count to ride on). Hand-written: same filters as <see cref="Page"/>, as text.</summary>
    public static string Count(IDocumentStore store, string where) => $"select count(*) from {Reviews(store)} d {where}";

    /// <summary>Forgets every product's figures (a reset that deletes the reviews). Hand-written: a table Marten does not model.</summary>
    public static string ClearStats(IDocumentStore store) => $"delete from {Stats(store)}";

    /// <summary>The version of <see cref="InstallStats"/>; <see cref="ExBuy.Infrastructure.Marten.ModuleInstallSetup"/> installs when the database has another.</summary>
    public const string StatsVersion = "exbuy-review-stats-2";

    /// <summary>
    /// The trigger functions and triggers, then the table recomputed from the reviews (only when installing: from then on
    /// the triggers keep it). Every change is one upsert of per-product deltas in product order (rows locked in one
    /// order, like the stock rows), then the products it touched that have no review left are deleted. Hand-written:
    /// Marten has no triggers; kept in the writers' transaction, every writer (COPY, cascade, psql) keeps the figures true.
    /// </summary>
    public static string InstallStats(string schema) => $$"""
        create or replace function {{schema}}.exbuy_review_stats_apply(p_ids bigint[], p_counts bigint[], p_sums bigint[]) returns void language sql as $fn$
          insert into {{schema}}.product_review_stats as s (product_id, review_count, rating_sum)
          select id, n, r from unnest(p_ids, p_counts, p_sums) as d(id, n, r) order by id
          on conflict (product_id) do update
            set review_count = s.review_count + excluded.review_count, rating_sum = s.rating_sum + excluded.rating_sum;
          delete from {{schema}}.product_review_stats where product_id = any(p_ids) and review_count <= 0;
        $fn$;
        comment on function {{schema}}.exbuy_review_stats_apply(bigint[], bigint[], bigint[]) is '{{StatsVersion}}';

        create or replace function {{schema}}.exbuy_review_stats_added() returns trigger language plpgsql as $fn$
        begin
          perform {{schema}}.exbuy_review_stats_apply(array_agg(product_id), array_agg(n), array_agg(r))
          from (select product_id, count(*) as n, coalesce(sum((data ->> 'Rating')::int), 0) as r from added group by product_id) d;
          return null;
        end $fn$;

        create or replace function {{schema}}.exbuy_review_stats_removed() returns trigger language plpgsql as $fn$
        begin
          perform {{schema}}.exbuy_review_stats_apply(array_agg(product_id), array_agg(n), array_agg(r))
          from (select product_id, -count(*) as n, -coalesce(sum((data ->> 'Rating')::int), 0) as r from removed group by product_id) d;
          return null;
        end $fn$;

        create or replace function {{schema}}.exbuy_review_stats_changed() returns trigger language plpgsql as $fn$
        begin
          perform {{schema}}.exbuy_review_stats_apply(array_agg(product_id), array_agg(n), array_agg(r))
          from (select product_id, sum(n)::bigint as n, sum(r)::bigint as r from (
                  select product_id, -1 as n, -coalesce((data ->> 'Rating')::int, 0) as r from removed
                  union all
                  select product_id, 1, coalesce((data ->> 'Rating')::int, 0) from added) x
                group by product_id) d;
          return null;
        end $fn$;

        create or replace function {{schema}}.exbuy_review_stats_truncated() returns trigger language plpgsql as $fn$
        begin
          delete from {{schema}}.product_review_stats;
          return null;
        end $fn$;

        create or replace trigger exbuy_review_stats_insert after insert on {{schema}}.mt_doc_review
          referencing new table as added for each statement execute function {{schema}}.exbuy_review_stats_added();
        create or replace trigger exbuy_review_stats_delete after delete on {{schema}}.mt_doc_review
          referencing old table as removed for each statement execute function {{schema}}.exbuy_review_stats_removed();
        create or replace trigger exbuy_review_stats_update after update on {{schema}}.mt_doc_review
          referencing old table as removed new table as added for each statement execute function {{schema}}.exbuy_review_stats_changed();
        create or replace trigger exbuy_review_stats_truncate after truncate on {{schema}}.mt_doc_review
          for each statement execute function {{schema}}.exbuy_review_stats_truncated();

        lock table {{schema}}.mt_doc_review in share mode;
        delete from {{schema}}.product_review_stats;
        insert into {{schema}}.product_review_stats (product_id, review_count, rating_sum)
        select product_id, count(*), coalesce(sum((data ->> 'Rating')::int), 0) from {{schema}}.mt_doc_review group by product_id;
        """;

    /// <summary>Whether this database has <see cref="StatsVersion"/>'s triggers (then the table is kept by them). Hand-written: a catalog query Marten has no API for.</summary>
    public static string StatsInstalled(string schema) => $"""
        select coalesce(obj_description(to_regprocedure('{schema}.exbuy_review_stats_apply(bigint[], bigint[], bigint[])'), 'pg_proc'), '') = '{StatsVersion}'
           and (select count(*) from pg_trigger t where t.tgname like 'exbuy_review_stats_%' and not t.tgisinternal
                and t.tgrelid = to_regclass('{schema}.mt_doc_review')) = 4
        """;
}
