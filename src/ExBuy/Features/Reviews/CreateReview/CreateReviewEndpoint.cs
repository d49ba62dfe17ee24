using ExBuy.Features.Catalog;
using ExBuy.Infrastructure.Marten;
using FastEndpoints;
using Marten;

namespace ExBuy.Features.Reviews.CreateReview;

/// <summary>
/// <c>POST /api/reviews</c>. An unknown product is a 400 on the <c>product</c> field, as DRF's
/// PrimaryKeyRelatedField answers; the foreign key makes a concurrent product delete fail the insert too.
/// </summary>
public sealed class CreateReviewEndpoint(IDocumentSession session, TimeProvider clock) : Endpoint<CreateReviewRequest, ReviewResponse>
{
    public override void Configure()
    {
        Post("/api/reviews");
        Tags("reviews");
    }

    public override async Task HandleAsync(CreateReviewRequest req, CancellationToken ct)
    {
        var product = await session.LoadAsync<Product>(req.Product!.Value, ct);
        if (product is null)
        {
            AddError(r => r.Product!, $"Invalid pk \"{req.Product}\" - object does not exist.");
            await Send.ErrorsAsync(cancellation: ct);
            return;
        }

        var review = new Review
        {
            Id = await IdSequences.NextAsync<Review>(session.DocumentStore, ct),
            ProductId = product.Id,
            UserId = req.UserId!.Value,
            Rating = req.Rating!.Value,
            Body = req.Body!,
            CreatedAt = clock.GetUtcNow(),
        };
        session.Insert(review);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception e) when (PostgresErrors.IsForeignKeyViolation(e))
        {
            // The product was deleted between the lookup and the insert.
            AddError(r => r.Product!, $"Invalid pk \"{req.Product}\" - object does not exist.");
            await Send.ErrorsAsync(cancellation: ct);
            return;
        }

        await Send.ResponseAsync(ReviewResponse.From(review, product.Name), StatusCodes.Status201Created, ct);
    }
}
