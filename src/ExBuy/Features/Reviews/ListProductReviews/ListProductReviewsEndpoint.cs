using ExBuy.Features.Catalog;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using FluentValidation;
using Marten;

namespace ExBuy.Features.Reviews.ListProductReviews;

public sealed class ListProductReviewsRequest
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public long Id { get; init; }
    public bool? Optimize { get; init; }

    /// <summary>Newest first, at most this many (the original returns every review; a bound keeps a hot product's page sane).</summary>
    public int? Limit { get; init; }

    public sealed class Validator : Validator<ListProductReviewsRequest>
    {
        public Validator() => RuleFor(x => x.Limit).InclusiveBetween(1, MaxLimit).When(x => x.Limit is not null);
    }
}

/// <summary>
/// <c>GET /api/products/{id}/reviews</c>: a plain array of the product's reviews, newest first. Optimised: one statement
/// (<see cref="ReviewReads.ForProductAsync"/>); naive: the ORM's existence check, list and name lookups.
/// </summary>
public sealed class ListProductReviewsEndpoint(IQuerySession session, ReviewReads reads) : Endpoint<ListProductReviewsRequest, List<ReviewResponse>>
{
    public override void Configure()
    {
        Get("/api/products/{id:long}/reviews");
        Tags("reviews");
    }

    public override async Task HandleAsync(ListProductReviewsRequest req, CancellationToken ct)
    {
        if (req.Optimize == true)
        {
            var (exists, found) = await reads.ForProductAsync(req.Id, req.Limit ?? ListProductReviewsRequest.DefaultLimit, ct);
            if (!exists)
            {
                await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
                return;
            }

            await Send.OkAsync(found, ct);
            return;
        }

        if (!await session.Query<Product>().AnyAsync(p => p.Id == req.Id, ct))
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        var reviews = await session.Query<Review>()
            .Where(r => r.ProductId == req.Id)
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Take(req.Limit ?? ListProductReviewsRequest.DefaultLimit)
            .ToListAsync(ct);

        await Send.OkAsync(await ReviewResponse.WithProductNames(session, reviews, req.Optimize == true, ct), ct);
    }
}
