using FastEndpoints;
using FluentValidation;

namespace ExBuy.Features.Reviews.CreateReview;

/// <summary>Body of <c>POST /api/reviews</c>; <c>product</c> is the product id, as in the DRF serializer.</summary>
public sealed class CreateReviewRequest
{
    public const int MaxBodyLength = 5000;

    public long? Product { get; init; }
    public long? UserId { get; init; }
    public int? Rating { get; init; }
    public string? Body { get; init; }

    public sealed class Validator : Validator<CreateReviewRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Product).NotNull().GreaterThanOrEqualTo(1);
            RuleFor(x => x.UserId).NotNull().GreaterThanOrEqualTo(1);
            RuleFor(x => x.Rating).NotNull().InclusiveBetween(1, 5);
            RuleFor(x => x.Body).NotEmpty().MaximumLength(MaxBodyLength);
        }
    }
}
