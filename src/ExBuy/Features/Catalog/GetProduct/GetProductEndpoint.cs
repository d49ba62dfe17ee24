using System.Text.Json.Serialization;
using ExBuy.Features.Catalog.ReadModel;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;

namespace ExBuy.Features.Catalog.GetProduct;

public sealed class GetProductRequest
{
    public long Id { get; init; }
    public bool? Optimize { get; init; }
}

public sealed record ProductDetail(
    long Id,
    string Name,
    string Description,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Price,
    int Stock,
    string Category,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long ReviewCount,
    decimal? AverageRating)
{
    public static ProductDetail From(Product p, int stock, DateTimeOffset updatedAt, long reviewCount, long ratingSum) => new(
        p.Id, p.Name, p.Description, p.Price, stock, p.Category, p.CreatedAt, updatedAt,
        reviewCount, reviewCount == 0 ? null : Math.Round((decimal)ratingSum / reviewCount, 2, MidpointRounding.AwayFromZero));
}

/// <summary>
/// <c>GET /api/products/{id}</c> with its review count and average rating. Unoptimised: three round trips
/// (product with its stock, count, sum of the reviews). Optimised: the catalogue read model — the product from the
/// node's memory, its stock and review figures by primary key in one statement (<see cref="CatalogReadModel"/>) — or,
/// when it cannot answer, one statement aggregating the reviews (<see cref="ProductReads.DetailAsync"/>).
/// </summary>
public sealed class GetProductEndpoint(IQuerySession session, ProductReads reads, CatalogReadModel readModel, IProductReviewFigures reviewFigures) : Endpoint<GetProductRequest, ProductDetail>
{
    public override void Configure()
    {
        Get("/api/products/{id:long}");
        Tags("catalog");
    }

    public override async Task HandleAsync(GetProductRequest req, CancellationToken ct)
    {
        var detail = req.Optimize == true ? await OptimisedAsync(req.Id, ct) : await Naive(req.Id, ct);
        if (detail is null)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        await Send.OkAsync(detail, ct);
    }

    private async Task<ProductDetail?> OptimisedAsync(long id, CancellationToken ct)
    {
        var (served, detail) = await readModel.DetailAsync(id, ct);
        return served ? detail : await reads.DetailAsync(id, ct);
    }

    private async Task<ProductDetail?> Naive(long id, CancellationToken ct)
    {
        if (await reads.OneAsync(id, ct) is not var (product, stock, updatedAt))
        {
            return null;
        }

        var (count, sum) = await reviewFigures.AggregateAsync(session, id, ct);
        return ProductDetail.From(product, stock, updatedAt, count, sum);
    }
}
