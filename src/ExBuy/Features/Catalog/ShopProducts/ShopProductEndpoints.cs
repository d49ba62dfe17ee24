using System.Text.Json.Serialization;
using ExBuy.Features.Catalog;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;

namespace ExBuy.Features.Catalog.ShopProducts;

/// <summary>
/// A shop-flow product. Its price is the one an order charges, to the cent: written as the shop routes write money
/// (<see cref="Money.Normalize"/>: <c>2000</c> for the seeded whole prices, <c>129.47</c> for a price with cents), never
/// truncated, so that charging exactly the shown price × quantity pays for the order.
/// </summary>
public sealed record ShopProduct(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("price")] decimal Price,
    [property: JsonPropertyName("stock")] int Stock)
{
    public static ShopProduct From(Product p, int stock) => new(p.Id, p.Name, Money.Normalize(p.Price), stock);
}

/// <summary><c>GET /products</c>: the shop-flow products <c>/init</c> created, as a plain array.</summary>
public sealed class ListShopProductsEndpoint(IQuerySession session, ProductReads reads) : EndpointWithoutRequest<List<ShopProduct>>
{
    public override void Configure()
    {
        Get("/products");
        Tags("shop-flow");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var state = await session.LoadAsync<StorefrontState>(StorefrontState.CurrentId, ct);
        if (state is null || state.ProductIds.Count == 0)
        {
            await Send.OkAsync([], ct);
            return;
        }

        var products = await reads.ByIdsAsync(state.ProductIds, ct);
        await Send.OkAsync(products.Select(p => ShopProduct.From(p.Product, p.Stock)).ToList(), ct);
    }
}

public sealed class GetShopProductRequest
{
    public long Id { get; init; }
}

/// <summary><c>GET /products/{id}</c>.</summary>
public sealed class GetShopProductEndpoint(ProductReads reads) : Endpoint<GetShopProductRequest, ShopProduct>
{
    public override void Configure()
    {
        Get("/products/{id:long}");
        Tags("shop-flow");
    }

    public override async Task HandleAsync(GetShopProductRequest req, CancellationToken ct)
    {
        if (await reads.OneAsync(req.Id, ct) is not var (product, stock, _))
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        await Send.OkAsync(ShopProduct.From(product, stock), ct);
    }
}
