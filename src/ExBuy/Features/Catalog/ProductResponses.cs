using System.Linq.Expressions;
using System.Text.Json.Serialization;
using ExBuy.Infrastructure.Http;

namespace ExBuy.Features.Catalog;

/// <summary>A product as the list and search routes show it.</summary>
public sealed class ProductSummary
{
    public long Id { get; set; }
    public string Name { get; set; } = string.Empty;

    [JsonConverter(typeof(MoneyJsonConverter))]
    public decimal Price { get; set; }

    public int Stock { get; set; }
    public string Category { get; set; } = string.Empty;
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The projection as an expression, so Marten can run it in SQL (<c>Select(ProductSummary.Projection)</c>).</summary>
    public static readonly Expression<Func<Product, ProductSummary>> Projection = p => new ProductSummary
    {
        Id = p.Id, Name = p.Name, Price = p.Price, Stock = p.Stock, Category = p.Category, UpdatedAt = p.UpdatedAt,
    };

    private static readonly Func<Product, ProductSummary> Compiled = Projection.Compile();

    public static ProductSummary From(Product p) => Compiled(p);
}
