using ExBuy.Infrastructure.Resilience;
using System.Text.Json.Serialization;
using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Security;
using FastEndpoints;
using FluentValidation;
using Marten;

namespace ExBuy.Features.FlashSale.SetupFlashSale;

public sealed class SetupFlashSaleRequest
{
    public const int MaxStock = 10_000_000;

    public string? Name { get; init; }
    public int? Stock { get; init; }

    [JsonConverter(typeof(MoneyJsonConverter))]
    public decimal? Price { get; init; }

    public sealed class Validator : Validator<SetupFlashSaleRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Name).MaximumLength(200);
            RuleFor(x => x.Stock).NotNull().InclusiveBetween(1, MaxStock);
            RuleFor(x => x.Price).GreaterThan(0m).LessThanOrEqualTo(1_000_000m).When(x => x.Price is not null);
        }
    }
}

public sealed record FlashSaleResponse(long ProductId, string Name, int Stock, [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Price);

/// <summary>
/// <c>POST /api/flash-sales</c> (scenario setup, admin-only outside the local profile): a fresh product with the
/// given stock, its Redis stock key set to the same number so the Redis-backed strategies start in agreement.
/// Each run gets its own product, so runs never disturb each other's counts.
/// </summary>
public sealed class SetupFlashSaleEndpoint(IDocumentSession session, RedisStock redisStock, AfterCommit afterCommit, TimeProvider clock)
    : Endpoint<SetupFlashSaleRequest, FlashSaleResponse>
{
    public override void Configure()
    {
        Post("/api/flash-sales");
        PreProcessor<AdminOnly<SetupFlashSaleRequest>>();
        Tags("flash-sale", "admin");
    }

    public override async Task HandleAsync(SetupFlashSaleRequest req, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var product = new Product
        {
            Id = await IdSequences.NextAsync<Product>(session.DocumentStore, ct),
            Name = string.IsNullOrWhiteSpace(req.Name) ? $"Flash sale {now:yyyy-MM-dd HH:mm:ss}" : req.Name.Trim(),
            Description = "Limited stock, first come first served.",
            Category = "electronics",
            Price = req.Price ?? 10m,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var stock = req.Stock!.Value;
        session.Insert(product);
        ProductStock.QueueCreate(session, [(product.Id, stock)]);
        await session.SaveChangesAsync(ct);
        // After the commit, by the after-commit rule: the sale exists whatever Redis does; the atomic strategy's gate sets
        // a missing key from the database on first use, and the reconciler repairs a key that is off.
        await afterCommit.RunAsync("stock_key_init", () => redisStock.InitializeAsync(product.Id, stock, overwrite: true));

        await Send.ResponseAsync(new FlashSaleResponse(product.Id, product.Name, stock, product.Price), StatusCodes.Status201Created, ct);
    }
}
