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

    public static ProductSummary From(Product p, int stock, DateTimeOffset updatedAt) => new()
    {
        Id = p.Id, Name = p.Name, Price = p.Price, Stock = stock, Category = p.Category, UpdatedAt = updatedAt,
    };
}
