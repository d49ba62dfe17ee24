using ExBuy.Infrastructure.Marten;
using Marten;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Reviews;

/// <summary>
/// Each product's review count and rating sum, <c>product_review_stats</c>, kept by triggers on the review table in the
/// transaction that writes the reviews — every writer (the API, the seeder's bulk copy, a cascade from a deleted
/// product, <c>psql</c>) keeps it true, so a product's detail reads one row instead of aggregating its reviews. The
/// triggers are statement-level with transition tables: a bulk insert of 100,000 reviews is one grouped upsert.
/// Reviews installs them itself (<see cref="Install"/>, run by <see cref="ModuleInstallSetup"/>) and recomputes the table at start.
/// </summary>
public static class ReviewStats
{
    /// <summary>The figures as Catalog asks for them (registered by <see cref="ReviewsRegistration"/>).</summary>
    internal sealed class Figures : Catalog.IProductReviewFigures
    {
        public string Table(IDocumentStore store) => ReviewStats.Table(store);

        public async Task<(long Count, long RatingSum)> AggregateAsync(IQuerySession session, long productId, CancellationToken ct)
        {
            var reviews = session.Query<Review>().Where(r => r.ProductId == productId);
            var count = await reviews.CountAsync(ct);
            var sum = count == 0 ? 0 : await reviews.SumAsync(r => r.Rating, ct);
            return (count, sum);
        }
    }

    /// <summary>The triggers, installed at start by <see cref="ModuleInstallSetup"/> (registered by <see cref="ReviewsRegistration"/>).</summary>
    internal sealed class Install : IModuleInstall
    {
        public string InstalledSql(string schema) => ReviewsSql.StatsInstalled(schema);

        public string InstallSql(string schema) => ReviewsSql.InstallStats(schema);
    }

    public static string Table(IDocumentStore store) => ReviewsSql.Stats(store);

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "product_review_stats", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("product_id").AsPrimaryKey();
        table.AddColumn<long>("review_count").NotNull();
        table.AddColumn<long>("rating_sum").NotNull();
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }
}
