using ExBuy.Features.Catalog.ReadModel;
using FastEndpoints;
using FluentValidation;

namespace ExBuy.Features.Catalog.SearchProducts;

public sealed class SearchProductsRequest : IProductFilter
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public string? Q { get; init; }
    public string? Category { get; init; }
    public decimal? MinPrice { get; init; }
    public decimal? MaxPrice { get; init; }
    public bool? InStock { get; init; }

    /// <summary>The answer is a plain array, so it is bounded: best matches by id, at most this many.</summary>
    public int? Limit { get; init; }

    public sealed class Validator : Validator<SearchProductsRequest>
    {
        public Validator()
        {
            ProductFilter.AddRules(this);
            RuleFor(x => x.Limit).InclusiveBetween(1, MaxLimit).When(x => x.Limit is not null);
        }
    }
}

/// <summary>
/// <c>GET /api/search/products</c>: an unpaged array of matches, in id order — from the catalogue read model
/// (<see cref="CatalogReadModel"/>), or its SQL when the read model cannot answer.
/// </summary>
public sealed class SearchProductsEndpoint(ProductReads reads, CatalogReadModel readModel) : Endpoint<SearchProductsRequest, List<ProductSummary>>
{
    public override void Configure()
    {
        Get("/api/search/products");
        Tags("catalog");
    }

    public override async Task HandleAsync(SearchProductsRequest req, CancellationToken ct)
    {
        var inStock = req.InStock == true;
        var limit = req.Limit ?? SearchProductsRequest.DefaultLimit;
        var (served, results) = await readModel.SearchAsync(req, inStock, limit, ct);
        await Send.OkAsync(served ? results : await reads.SearchAsync(req, inStock, limit, ct), ct);
    }
}
