using System.Diagnostics;
using ExBuy.Features.Catalog;
using ExBuy.Features.Orders;
using ExBuy.Features.Reviews;
using JasperFx.Events;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Redis;
using IConnectionMultiplexer = StackExchange.Redis.IConnectionMultiplexer;
using Marten;
using Weasel.Core;

namespace ExBuy.Features.Seeding;

public sealed record SeedResult(int Products, int Orders, int Reviews);

/// <summary>
/// Bulk-loads a deterministic catalogue through Marten's COPY-based bulk insert. Ids come from the same
/// PostgreSQL sequences the API uses, so a fresh database numbers everything from 1 and a running API never collides with a seed.
/// Products 1–100 get ample stock: the k6 suites order them for minutes on end.
/// </summary>
public sealed class CatalogSeeder(IDocumentStore store, TimeProvider clock, IEnumerable<IModuleReset> resets, IConnectionMultiplexer? redis = null)
{
    public const int DefaultBatchSize = 5_000;
    public const int AmpleStock = 1_000_000;
    public const int HotProducts = 100;
    public const int UserCount = 10_000;

    private static readonly Dictionary<string, string[]> Nouns = new()
    {
        ["electronics"] = ["Phone", "Laptop", "Headphones", "Camera", "Tablet", "Monitor", "Smartwatch", "Electronics Kit"],
        ["clothing"] = ["Shirt", "T-Shirt", "Jacket", "Jeans", "Sneakers", "Hoodie", "Dress Shirt"],
        ["food"] = ["Food Box", "Coffee Beans", "Green Tea", "Snack Pack", "Chocolate", "Organic Food Basket"],
        ["books"] = ["Book", "Novel", "Cookbook", "Notebook", "Comic Book", "Audio Book"],
        ["home"] = ["Home Lamp", "Chair", "Desk", "Pillow", "Home Decor Set", "Kitchen Knife"],
    };

    private static readonly string[] Adjectives =
        ["Classic", "Premium", "Compact", "Smart", "Eco", "Deluxe", "Basic", "Pro", "Ultra", "Vintage", "Modern", "Portable"];

    private static readonly string[] ReviewBodies =
    [
        "Great product!", "Works as described.", "Arrived quickly, well packed.", "Not worth the price.",
        "Would buy again.", "Average quality.", "Exceeded my expectations.", "Broke after a week.",
    ];

    private static readonly (string Status, int Weight)[] StatusWeights =
        [(OrderStatuses.Pending, 30), (OrderStatuses.Processing, 20), (OrderStatuses.Shipped, 20), (OrderStatuses.Delivered, 25), (OrderStatuses.Cancelled, 5)];

    public async Task<bool> HasProductsAsync(CancellationToken ct = default)
    {
        await using var session = store.QuerySession();
        return await session.Query<Product>().AnyAsync(ct);
    }

    public async Task AlignSequencesAsync(CancellationToken ct = default)
    {
        await IdSequences.AlignAsync<Product>(store, ct);
        await IdSequences.AlignAsync<Order>(store, ct);
        await IdSequences.AlignAsync<Review>(store, ct);
    }

    /// <summary>
    /// Deletes every document and event and the modules' own tables (each module's <see cref="IModuleReset"/>), rewinds the id sequences so the next seed starts at id 1, and deletes the
    /// ExBuy keys in Redis (stock copies, coupon gates, rankings), which describe the rows just deleted.
    /// </summary>
    public async Task ResetAsync(CancellationToken ct = default)
    {
        if (redis is not null)
        {
            await RedisSetup.DeleteExBuyKeysAsync(redis);
        }

        await store.Advanced.Clean.DeleteAllDocumentsAsync(ct);
        await store.Advanced.Clean.DeleteAllEventDataAsync(ct);
        await resets.ResetAllAsync(store, ct);
        await IdSequences.RestartAsync<Product>(store, ct);
        await IdSequences.RestartAsync<Order>(store, ct);
        await IdSequences.RestartAsync<Review>(store, ct);
    }

    public async Task<SeedResult> SeedAsync(SeedPlan plan, Action<string> report, CancellationToken ct = default)
    {
        var random = new Random(20261123);
        var now = clock.GetUtcNow();

        var watch = Stopwatch.StartNew();
        var products = await SeedProductsAsync(plan, random, now, ct);
        report($"  products: {products.Count:N0} in {watch.Elapsed.TotalSeconds:F1} s");

        watch.Restart();
        var orders = await SeedOrdersAsync(plan, random, products, now, ct);
        report($"  orders:   {orders:N0} in {watch.Elapsed.TotalSeconds:F1} s");

        watch.Restart();
        var reviews = await SeedReviewsAsync(plan, random, products, now, ct);
        report($"  reviews:  {reviews:N0} in {watch.Elapsed.TotalSeconds:F1} s");

        return new SeedResult(products.Count, orders, reviews);
    }

    private async Task<List<Product>> SeedProductsAsync(SeedPlan plan, Random random, DateTimeOffset now, CancellationToken ct)
    {
        var all = new List<Product>(plan.Products);
        var batch = new List<Product>(plan.BatchSize);
        var stockOf = new Dictionary<Product, int>(ReferenceEqualityComparer.Instance);
        Func<List<Product>, Task> insertStock = written =>
            ExBuy.Features.Inventory.ProductStock.InsertAsync(store, written.Select(p => (p.Id, stockOf[p])).ToList(), ct);
        for (var i = 0; i < plan.Products; i++)
        {
            var category = ProductCategories.All[random.Next(ProductCategories.All.Count)];
            var noun = Nouns[category][random.Next(Nouns[category].Length)];
            var adjective = Adjectives[random.Next(Adjectives.Length)];
            // Creation times rise with the id, so the default ordering (-created_at) lists the newest ids first.
            var createdAt = now.AddDays(-30).AddSeconds(i * 2L);
            var stock = i < HotProducts ? AmpleStock : random.Next(20) == 0 ? 0 : random.Next(1, 1_000);
            var product = new Product
            {
                Name = $"{adjective} {noun} {i + 1}",
                Description = $"A {adjective.ToLowerInvariant()} {noun.ToLowerInvariant()} from the {category} collection.",
                Category = category,
                Price = decimal.Round(random.Next(100, 200_000) / 100m, 2),
                CreatedAt = createdAt,
                UpdatedAt = createdAt,
            };
            stockOf[product] = stock;
            batch.Add(product);

            if (batch.Count == plan.BatchSize)
            {
                await FlushAsync(batch, (p, id) => p.Id = id, ct, keep: all, afterInsert: insertStock);
            }
        }

        await FlushAsync(batch, (p, id) => p.Id = id, ct, keep: all, afterInsert: insertStock);
        return all;
    }

    private async Task<int> SeedOrdersAsync(SeedPlan plan, Random random, List<Product> products, DateTimeOffset now, CancellationToken ct)
    {
        var batch = new List<Order>(plan.BatchSize);
        for (var i = 0; i < plan.Orders; i++)
        {
            var createdAt = now.AddDays(-30).AddSeconds(random.Next(0, 30 * 24 * 3600));
            var order = new Order
            {
                UserId = random.Next(1, UserCount + 1),
                Status = PickStatus(random),
                CreatedAt = createdAt,
                UpdatedAt = createdAt,
            };

            var lines = random.Next(1, 6);
            for (var line = 0; line < lines; line++)
            {
                var product = products[random.Next(products.Count)];
                var quantity = random.Next(1, 4);
                order.Items.Add(new OrderLine
                {
                    ProductId = product.Id,
                    ProductName = product.Name,
                    Quantity = quantity,
                    UnitPrice = product.Price,
                    Subtotal = product.Price * quantity,
                });
            }

            order.TotalPrice = order.Items.Sum(x => x.Subtotal);
            batch.Add(order);
            if (batch.Count == plan.BatchSize)
            {
                await FlushOrdersAsync(batch, ct);
            }
        }

        await FlushOrdersAsync(batch, ct);
        return plan.Orders;
    }

    private async Task<int> SeedReviewsAsync(SeedPlan plan, Random random, List<Product> products, DateTimeOffset now, CancellationToken ct)
    {
        var batch = new List<Review>(plan.BatchSize);
        for (var i = 0; i < plan.Reviews; i++)
        {
            batch.Add(new Review
            {
                ProductId = products[random.Next(products.Count)].Id,
                UserId = random.Next(1, UserCount + 1),
                Rating = random.Next(1, 6),
                Body = ReviewBodies[random.Next(ReviewBodies.Length)],
                CreatedAt = now.AddDays(-30).AddSeconds(random.Next(0, 30 * 24 * 3600)),
            });

            if (batch.Count == plan.BatchSize)
            {
                await FlushAsync(batch, (r, id) => r.Id = id, ct);
            }
        }

        await FlushAsync(batch, (r, id) => r.Id = id, ct);
        return plan.Reviews;
    }

    // Line ids derive from the order id, so the lines are numbered as each order gets its id. The historical
    // orders' OrderPlaced events feed the sales projection but say they took no stock.
    private Task FlushOrdersAsync(List<Order> batch, CancellationToken ct) =>
        FlushAsync(
            batch,
            (order, id) =>
            {
                order.Id = id;
                for (var line = 0; line < order.Items.Count; line++)
                {
                    order.Items[line].Id = Order.LineId(id, line + 1);
                }
            },
            ct,
            afterInsert: orders => store.BulkInsertEventsAsync(
                orders.Select(order => StreamAction.Start(
                    (IEventRegistry)store.Options.Events,
                    OrderStreams.Key(order.Id),
                    new OrderPlaced(
                        order.Id,
                        order.UserId,
                        order.Items.Select(i => new OrderedItem(i.ProductId, i.ProductName, i.Quantity, i.UnitPrice)).ToList(),
                        order.TotalPrice,
                        LockType: "seed",
                        TookStock: false,
                        order.CreatedAt))).ToList(),
                orders.Count,
                ct));

    /// <summary>Numbers the batch from its type's sequence, COPYs it in, and empties it for the next one.</summary>
    private async Task FlushAsync<T>(
        List<T> batch, Action<T, long> assignId, CancellationToken ct, List<T>? keep = null, Func<List<T>, Task>? afterInsert = null)
        where T : notnull
    {
        if (batch.Count == 0)
        {
            return;
        }

        var ids = await IdSequences.NextAsync<T>(store, batch.Count, ct);
        for (var i = 0; i < batch.Count; i++)
        {
            assignId(batch[i], ids[i]);
        }

        await store.BulkInsertAsync(batch, BulkInsertMode.InsertsOnly, batch.Count, ct);
        if (afterInsert is not null)
        {
            await afterInsert(batch);
        }

        keep?.AddRange(batch);
        batch.Clear();
    }

    private static string PickStatus(Random random)
    {
        var roll = random.Next(100);
        foreach (var (status, weight) in StatusWeights)
        {
            if (roll < weight)
            {
                return status;
            }

            roll -= weight;
        }

        return OrderStatuses.Pending;
    }
}
