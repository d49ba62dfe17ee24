using JasperFx;

namespace ExBuy.Features.Catalog;

/// <summary>
/// A catalogue product. Stock lives on the product so that every stock-taking strategy contends on the same
/// row; <see cref="Version"/> is Marten's numeric revision, bumped by every write including the hand-written
/// conditional updates, so optimistic writers never overwrite them.
/// </summary>
public sealed class Product : IRevisioned
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = string.Empty;
    public decimal Price { get; set; }
    public int Stock { get; set; }

    /// <summary>Stock when the product entered the catalogue; the audit checks stock = initial − sold + returned.</summary>
    public int InitialStock { get; set; }

    public required string Category { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int Version { get; set; }
}

public static class ProductCategories
{
    public static readonly IReadOnlyList<string> All = ["electronics", "clothing", "food", "books", "home"];

    public static bool IsValid(string? category) => category is not null && All.Contains(category);
}
