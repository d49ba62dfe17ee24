using FastEndpoints;
using FluentValidation;

namespace ExBuy.Features.Catalog.ListProducts;

public sealed class ListProductsRequest : IProductFilter
{
    public string? Category { get; init; }
    public decimal? MinPrice { get; init; }
    public decimal? MaxPrice { get; init; }
    public string? Q { get; init; }
    public string? Ordering { get; init; }
    public int? Page { get; init; }
    public bool? Optimize { get; init; }

    public sealed class Validator : Validator<ListProductsRequest>
    {
        public Validator()
        {
            ProductFilter.AddRules(this);
            RuleFor(x => x.Ordering)
                .Must(o => string.IsNullOrEmpty(o) || ProductOrdering.IsValid(o))
                .WithMessage($"ordering must be one of: {string.Join(", ", ProductOrdering.Allowed)}.");
            RuleFor(x => x.Page).GreaterThanOrEqualTo(1).When(x => x.Page is not null);
        }
    }
}
