using System.Text.Json.Serialization;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using FluentValidation;
using Marten;

namespace ExBuy.Features.Rankings.TopProducts;

public sealed class TopProductsRequest
{
    public int? Limit { get; init; }

    public sealed class Validator : Validator<TopProductsRequest>
    {
        public Validator() => RuleFor(x => x.Limit).InclusiveBetween(1, 100).When(x => x.Limit is not null);
    }
}

public sealed record TopProductResponse(
    long ProductId,
    string ProductName,
    long TotalQuantity,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal TotalRevenue,
    long OrderCount);

/// <summary>
/// <c>GET /api/stats/top-products?limit=10</c>: best sellers by revenue, read from the <see cref="ProductSalesProjection"/>
/// in one statement written out (the hottest read of the suites: no LINQ query to parse per request).
/// </summary>
public sealed class TopProductsEndpoint(IDocumentStore store, Npgsql.NpgsqlDataSource db) : Endpoint<TopProductsRequest, List<TopProductResponse>>
{
    public override void Configure()
    {
        Get("/api/stats/top-products");
        Tags("stats");
    }

    public override async Task HandleAsync(TopProductsRequest req, CancellationToken ct)
    {
        var top = (await RankingsSql.TopByRevenueAsync(store, db, req.Limit ?? 10, ct))
            .Select(s => new TopProductResponse(s.Id, s.ProductName, s.TotalQuantity, s.TotalRevenue, s.OrderCount)).ToList();
        await Send.OkAsync(top, ct);
    }
}
