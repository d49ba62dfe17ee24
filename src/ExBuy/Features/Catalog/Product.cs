using JasperFx;

namespace ExBuy.Features.Catalog;

/// <summary>
/// A catalogue product: what it is and what it costs. Its stock is not here but in the Inventory slice's own narrow
/// table (<c>product_stock</c>), the one hot row every stock-taking strategy contends on; a product's price is fixed for
/// its life (no route changes it), so an order priced from the document is priced at the price it is sold at.
/// </summary>
public sealed class Product : IRevisioned
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = string.Empty;
    public decimal Price { get; set; }
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
