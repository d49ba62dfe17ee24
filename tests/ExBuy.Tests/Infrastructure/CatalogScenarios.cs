using ExBuy.Features.Catalog;
using ExBuy.Features.Reviews;
using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Tests.Infrastructure;

/// <summary>Starting states for catalogue tests. There is no public route that creates products, so they go in through Marten.</summary>
public static class CatalogScenarios
{
    public static async Task<Product> AddProduct(
        this IDocumentStore store,
        string name = "Test Laptop",
        decimal price = 100m,
        int stock = 10,
        string category = "electronics",
        string description = "",
        DateTimeOffset? createdAt = null)
    {
        var at = createdAt ?? DateTimeOffset.UtcNow;
        var product = new Product
        {
            Id = await IdSequences.NextAsync<Product>(store),
            Name = name, Price = price, Stock = stock, InitialStock = stock, Category = category,
            Description = description, CreatedAt = at, UpdatedAt = at,
        };
        await using var session = store.LightweightSession();
        session.Insert(product);
        await session.SaveChangesAsync();
        return product;
    }

    /// <summary>Adds <paramref name="count"/> products whose creation times rise with their position.</summary>
    public static async Task<List<Product>> AddProducts(this IDocumentStore store, int count, Func<int, Product>? shape = null)
    {
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        var products = Enumerable.Range(0, count).Select(i => shape?.Invoke(i) ?? new Product
        {
            Name = $"Product {i:D4}",
            Price = 10m + i,
            Stock = i % 7,
            InitialStock = i % 7,
            Category = ProductCategories.All[i % ProductCategories.All.Count],
            CreatedAt = start.AddSeconds(i),
            UpdatedAt = start.AddSeconds(i),
        }).ToList();
        var ids = await IdSequences.NextAsync<Product>(store, products.Count);
        for (var i = 0; i < products.Count; i++)
        {
            products[i].Id = ids[i];
        }

        await using var session = store.LightweightSession();
        session.Insert(products.ToArray());
        await session.SaveChangesAsync();
        return products;
    }

    public static async Task<Review> AddReview(this IDocumentStore store, long productId, int rating, long userId = 7, DateTimeOffset? createdAt = null)
    {
        var review = new Review
        {
            Id = await IdSequences.NextAsync<Review>(store),
            ProductId = productId, UserId = userId, Rating = rating, Body = $"rated {rating}", CreatedAt = createdAt ?? DateTimeOffset.UtcNow,
        };
        await using var session = store.LightweightSession();
        session.Insert(review);
        await session.SaveChangesAsync();
        return review;
    }
}
