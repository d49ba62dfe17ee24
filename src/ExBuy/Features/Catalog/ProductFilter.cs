using FluentValidation;

namespace ExBuy.Features.Catalog;

/// <summary>The filters the list and search routes share (django-filter's <c>ProductFilter</c> in the original); <see cref="ProductReads"/> applies them.</summary>
public interface IProductFilter
{
    string? Category { get; }
    decimal? MinPrice { get; }
    decimal? MaxPrice { get; }
    string? Q { get; }
}

public static class ProductFilter
{
    public const int MaxQueryLength = 200;

    public static void AddRules<T>(AbstractValidator<T> validator)
        where T : IProductFilter
    {
        validator.RuleFor(x => x.Category)
            .Must(c => string.IsNullOrEmpty(c) || ProductCategories.IsValid(c))
            .WithMessage(x => $"Select a valid choice. {x.Category} is not one of the available choices: {string.Join(", ", ProductCategories.All)}.");
        validator.RuleFor(x => x.MinPrice).GreaterThanOrEqualTo(0m).When(x => x.MinPrice is not null);
        validator.RuleFor(x => x.MaxPrice).GreaterThanOrEqualTo(0m).When(x => x.MaxPrice is not null);
        validator.RuleFor(x => x.MaxPrice)
            .Must((x, max) => max >= x.MinPrice)
            .When(x => x.MinPrice is not null && x.MaxPrice is not null)
            .WithMessage("max_price must be greater than or equal to min_price.");
        validator.RuleFor(x => x.Q).MaximumLength(MaxQueryLength);
        // PostgreSQL text cannot hold U+0000 (the SQL paths would fail with a 500); DRF's CharField refuses it the same way.
        validator.RuleFor(x => x.Q).Must(q => q is null || !q.Contains('\0')).WithMessage("Null characters are not allowed.");
    }
}
