using Marten;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Reviews;

/// <summary>
/// Each product's review count and rating sum, <c>product_review_stats</c>, kept by triggers on the review table in the
/// transaction that writes the reviews — every writer (the API, the seeder's bulk copy, a cascade from a deleted
/// product, <c>psql</c>) keeps it true, so a product's detail reads one row instead of aggregating its reviews. The
/// triggers are statement-level with transition tables: a bulk insert of 100,000 reviews is one grouped upsert.
/// Catalog's read-model setup installs them (through <see cref="Figures"/>) and recomputes the table at start.
/// </summary>
public static class ReviewStats
{
    /// <summary>The figures as Catalog asks for them (registered by <see cref="ReviewsRegistration"/>).</summary>
    internal sealed class Figures : Catalog.IProductReviewFigures
    {
        public string Table(IDocumentStore store) => ReviewStats.Table(store);

        public string InstalledSql(string schema) => ReviewStats.InstalledSql(schema);

        public string InstallSql(string schema) => ReviewStats.InstallSql(schema);

        public async Task<(long Count, long RatingSum)> AggregateAsync(IQuerySession session, long productId, CancellationToken ct)
        {
            var reviews = session.Query<Review>().Where(r => r.ProductId == productId);
            var count = await reviews.CountAsync(ct);
            var sum = count == 0 ? 0 : await reviews.SumAsync(r => r.Rating, ct);
            return (count, sum);
        }
    }

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.product_review_stats";

    /// <summary>Forgets every product's figures (a reset that deletes the reviews): hand-written, a table Marten does not model.</summary>
    internal static string ClearSql(IDocumentStore store) => $"delete from {Table(store)}";

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "product_review_stats", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("product_id").AsPrimaryKey();
        table.AddColumn<long>("review_count").NotNull();
        table.AddColumn<long>("rating_sum").NotNull();
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>The version of <see cref="InstallSql"/>; Catalog's read-model setup installs when the database has another.</summary>
    internal const string Version = "exbuy-review-stats-2";

    /// <summary>
    /// The trigger functions and triggers, then the table recomputed from the reviews (only when installing: from then on
    /// the triggers keep it). Every change is one upsert of per-product deltas in product order (rows locked in one
    /// order, like the stock rows), then the products it touched that have no review left are deleted.
    /// </summary>
    internal static string InstallSql(string schema) => $$"""
        create or replace function {{schema}}.exbuy_review_stats_apply(p_ids bigint[], p_counts bigint[], p_sums bigint[]) returns void language sql as $fn$
          insert into {{schema}}.product_review_stats as s (product_id, review_count, rating_sum)
          select id, n, r from unnest(p_ids, p_counts, p_sums) as d(id, n, r) order by id
          on conflict (product_id) do update
            set review_count = s.review_count + excluded.review_count, rating_sum = s.rating_sum + excluded.rating_sum;
          delete from {{schema}}.product_review_stats where product_id = any(p_ids) and review_count <= 0;
        $fn$;
        comment on function {{schema}}.exbuy_review_stats_apply(bigint[], bigint[], bigint[]) is '{{Version}}';

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

    /// <summary>Whether this database has <see cref="Version"/>'s triggers (then the table is kept by them and nothing needs installing).</summary>
    internal static string InstalledSql(string schema) => $"""
        select coalesce(obj_description(to_regprocedure('{schema}.exbuy_review_stats_apply(bigint[], bigint[], bigint[])'), 'pg_proc'), '') = '{Version}'
           and (select count(*) from pg_trigger t where t.tgname like 'exbuy_review_stats_%' and not t.tgisinternal
                and t.tgrelid = to_regclass('{schema}.mt_doc_review')) = 4
        """;
}
