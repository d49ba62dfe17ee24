using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Features.Reviews;
using ExBuy.Infrastructure.Marten;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Infrastructure;

/// <summary>
/// A product as the tests set it up and read it back: the catalogue document's fields with the stock row's
/// (<see cref="ProductStock"/>) beside them.
/// </summary>
public sealed class TestProduct
{
    public long Id { get; set; }
    public string Name { get; set; } = "Test product";
    public string Description { get; set; } = string.Empty;
    public decimal Price { get; set; }
    public int Stock { get; set; }
    public int InitialStock { get; set; }
    public string Category { get; set; } = "electronics";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The stock row's version (bumped by every stock change).</summary>
    public int StockVersion { get; set; }

    public Product ToDocument() => new()
    {
        Id = Id, Name = Name, Description = Description, Price = Price, Category = Category, CreatedAt = CreatedAt, UpdatedAt = UpdatedAt,
    };
}

/// <summary>Starting states for catalogue tests. There is no public route that creates products, so they go in through Marten and the stock table.</summary>
public static class CatalogScenarios
{
    public static async Task<TestProduct> AddProduct(
        this IDocumentStore store,
        string name = "Test Laptop",
        decimal price = 100m,
        int stock = 10,
        string category = "electronics",
        string description = "",
        DateTimeOffset? createdAt = null)
    {
        var at = createdAt ?? DateTimeOffset.UtcNow;
        var product = new TestProduct
        {
            Name = name, Price = price, Stock = stock, InitialStock = stock, Category = category,
            Description = description, CreatedAt = at, UpdatedAt = at,
        };
        return (await store.AddProducts(1, _ => product))[0];
    }

    /// <summary>Adds <paramref name="count"/> products whose creation times rise with their position (stock as the shape says; its initial stock is that stock).</summary>
    public static async Task<List<TestProduct>> AddProducts(this IDocumentStore store, int count, Func<int, TestProduct>? shape = null)
    {
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        var products = Enumerable.Range(0, count).Select(i => shape?.Invoke(i) ?? new TestProduct
        {
            Name = $"Product {i:D4}",
            Price = 10m + i,
            Stock = i % 7,
            Category = ProductCategories.All[i % ProductCategories.All.Count],
            CreatedAt = start.AddSeconds(i),
            UpdatedAt = start.AddSeconds(i),
        }).ToList();
        var ids = await IdSequences.NextAsync<Product>(store, products.Count);
        for (var i = 0; i < products.Count; i++)
        {
            products[i].Id = ids[i];
            products[i].InitialStock = products[i].Stock;
            products[i].StockVersion = 1;
        }

        await using var session = store.LightweightSession();
        session.Insert(products.Select(p => p.ToDocument()).ToArray());
        ProductStock.QueueCreate(session, products.Select(p => (p.Id, p.Stock)).ToList());
        await session.SaveChangesAsync();
        return products;
    }

    /// <summary>The product as it is now: its document and its stock row.</summary>
    public static async Task<TestProduct> Reload(this IDocumentStore store, long productId)
    {
        await using var session = store.QuerySession();
        var document = (await session.LoadAsync<Product>(productId)).ShouldNotBeNull();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"select stock, initial_stock, version from {ProductStock.Table(store)} where product_id = $1", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = productId });
        await using var reader = await command.ExecuteReaderAsync();
        reader.Read().ShouldBeTrue($"product {productId} has no stock row");
        return new TestProduct
        {
            Id = document.Id, Name = document.Name, Description = document.Description, Price = document.Price, Category = document.Category,
            CreatedAt = document.CreatedAt, UpdatedAt = document.UpdatedAt,
            Stock = reader.GetInt32(0), InitialStock = reader.GetInt32(1), StockVersion = reader.GetInt32(2),
        };
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
