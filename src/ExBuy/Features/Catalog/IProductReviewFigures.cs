using Marten;

namespace ExBuy.Features.Catalog;

/// <summary>
/// A product's review figures, which its detail shows, as Catalog asks for them without knowing who keeps them: the
/// Reviews module implements and registers this (so Reviews imports Catalog and Catalog imports nothing of Reviews).
/// The optimised reads join the table it names in their one statement; the unoptimised detail asks it to aggregate.
/// </summary>
public interface IProductReviewFigures
{
    /// <summary>The table <c>(product_id, review_count, rating_sum)</c> kept true in the writers' transactions; no row: no review.</summary>
    string Table(IDocumentStore store);

    /// <summary>The count and the rating sum of a product's reviews, aggregated from the reviews themselves.</summary>
    Task<(long Count, long RatingSum)> AggregateAsync(IQuerySession session, long productId, CancellationToken ct);
}
