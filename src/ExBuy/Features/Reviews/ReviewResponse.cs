using ExBuy.Features.Catalog;
using Marten;

namespace ExBuy.Features.Reviews;

public sealed record ReviewResponse(
    long Id, long Product, string ProductName, long UserId, int Rating, string Body, DateTimeOffset CreatedAt)
{
    public static ReviewResponse From(Review r, string productName) =>
        new(r.Id, r.ProductId, productName, r.UserId, r.Rating, r.Body, r.CreatedAt);

    /// <summary>
    /// The unoptimised path looks the product up once per review (the N+1 the DRF original shows without
    /// <c>select_related</c>); the optimised path loads every product on the page in one query.
    /// </summary>
    public static async Task<List<ReviewResponse>> WithProductNames(
        IQuerySession session, IReadOnlyList<Review> reviews, bool optimize, CancellationToken ct)
    {
        if (optimize)
        {
            var ids = reviews.Select(r => r.ProductId).Distinct().ToArray();
            var names = (await session.LoadManyAsync<Product>(ct, ids)).ToDictionary(p => p.Id, p => p.Name);
            return reviews.Select(r => From(r, names.GetValueOrDefault(r.ProductId, string.Empty))).ToList();
        }

        var responses = new List<ReviewResponse>(reviews.Count);
        foreach (var review in reviews)
        {
            var product = await session.LoadAsync<Product>(review.ProductId, ct);
            responses.Add(From(review, product?.Name ?? string.Empty));
        }

        return responses;
    }
}
