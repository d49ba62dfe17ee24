using ExBuy.Infrastructure.Http;
using FastEndpoints;
using FluentValidation;
using Marten;
using Marten.Pagination;

namespace ExBuy.Features.Reviews.ListReviews;

public sealed class ListReviewsRequest
{
    public long? ProductId { get; init; }
    public long? UserId { get; init; }
    public int? Page { get; init; }
    public bool? Optimize { get; init; }

    public sealed class Validator : Validator<ListReviewsRequest>
    {
        public Validator()
        {
            RuleFor(x => x.ProductId).GreaterThanOrEqualTo(1).When(x => x.ProductId is not null);
            RuleFor(x => x.UserId).GreaterThanOrEqualTo(1).When(x => x.UserId is not null);
            RuleFor(x => x.Page).GreaterThanOrEqualTo(1).When(x => x.Page is not null);
        }
    }
}

/// <summary>
/// <c>GET /api/reviews</c>: paged, newest first, filtered by product and/or user. Optimised: the page with its product
/// names and the count in one statement (<see cref="ReviewReads.PageAsync"/>); naive: the ORM's paged list and name lookups.
/// </summary>
public sealed class ListReviewsEndpoint(IQuerySession session, ReviewReads reads) : Endpoint<ListReviewsRequest, Paged<ReviewResponse>>
{
    public override void Configure()
    {
        Get("/api/reviews");
        Tags("reviews");
    }

    public override async Task HandleAsync(ListReviewsRequest req, CancellationToken ct)
    {
        var page = req.Page ?? 1;
        if (PageNumberPagination.PastEveryList(page))
        {
            await Send.ResultAsync(PageNumberPagination.InvalidPage());
            return;
        }

        if (req.Optimize == true)
        {
            var (count, found) = await reads.PageAsync(req.ProductId, req.UserId, page, PageNumberPagination.PageSize, ct);
            if (!PageNumberPagination.PageExists(page, count))
            {
                await Send.ResultAsync(PageNumberPagination.InvalidPage());
                return;
            }

            await Send.OkAsync(PageNumberPagination.Envelope(HttpContext.Request, page, count, found), ct);
            return;
        }

        IQueryable<Review> query = session.Query<Review>();
        if (req.ProductId is { } productId)
        {
            query = query.Where(r => r.ProductId == productId);
        }

        if (req.UserId is { } userId)
        {
            query = query.Where(r => r.UserId == userId);
        }

        var reviews = await query
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .ToPagedListAsync(page, PageNumberPagination.PageSize, ct);

        if (!PageNumberPagination.PageExists(page, reviews.TotalItemCount))
        {
            await Send.ResultAsync(PageNumberPagination.InvalidPage());
            return;
        }

        var results = await ReviewResponse.WithProductNames(session, reviews.ToList(), req.Optimize == true, ct);
        await Send.OkAsync(PageNumberPagination.Envelope(HttpContext.Request, page, reviews.TotalItemCount, results), ct);
    }
}
