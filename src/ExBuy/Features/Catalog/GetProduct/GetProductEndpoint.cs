using System.Text.Json.Serialization;
using ExBuy.Features.Reviews;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;
using Npgsql;

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
    public static ProductDetail From(Product p, long reviewCount, long ratingSum) => new(
        p.Id, p.Name, p.Description, p.Price, p.Stock, p.Category, p.CreatedAt, p.UpdatedAt,
        reviewCount, reviewCount == 0 ? null : Math.Round((decimal)ratingSum / reviewCount, 2, MidpointRounding.AwayFromZero));
}

/// <summary>
/// <c>GET /api/products/{id}</c> with its review count and average rating. Unoptimised: three round trips
/// (product, count, sum). Optimised: one statement that aggregates beside the product row.
/// </summary>
public sealed class GetProductEndpoint(IQuerySession session, NpgsqlDataSource db) : Endpoint<GetProductRequest, ProductDetail>
{
    public override void Configure()
    {
        Get("/api/products/{id:long}");
        Tags("catalog");
    }

    public override async Task HandleAsync(GetProductRequest req, CancellationToken ct)
    {
        var detail = req.Optimize == true ? await Optimized(req.Id, ct) : await Naive(req.Id, ct);
        if (detail is null)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        await Send.OkAsync(detail, ct);
    }

    private async Task<ProductDetail?> Naive(long id, CancellationToken ct)
    {
        var product = await session.LoadAsync<Product>(id, ct);
        if (product is null)
        {
            return null;
        }

        var reviews = session.Query<Review>().Where(r => r.ProductId == id);
        var count = await reviews.CountAsync(ct);
        var sum = count == 0 ? 0 : await reviews.SumAsync(r => r.Rating, ct);
        return ProductDetail.From(product, count, sum);
    }

    private async Task<ProductDetail?> Optimized(long id, CancellationToken ct)
    {
        var schema = session.DocumentStore.Options.DatabaseSchemaName;
        await using var command = db.CreateCommand(
            $"""
             select p.data, count(r.id), coalesce(sum((r.data ->> 'Rating')::int), 0)
             from {schema}.mt_doc_product p
             left join {schema}.mt_doc_review r on r.product_id = p.id
             where p.id = $1
             group by p.id, p.data
             """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var product = session.DocumentStore.Options.Serializer().FromJson<Product>(reader, 0);
        return ProductDetail.From(product, reader.GetInt64(1), reader.GetInt64(2));
    }
}
