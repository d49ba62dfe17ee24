using ExBuy.Infrastructure.Http;
using FastEndpoints;

namespace ExBuy.Features.Catalog.ListProducts;

/// <summary>
/// <c>GET /api/products</c>. <c>optimize=true</c> counts on its own and selects the six listed columns; the default
/// path fetches whole documents with a window count and maps them in memory, the way a naive ORM list does. Both
/// return the same body.
/// </summary>
public sealed class ListProductsEndpoint(ProductReads reads) : Endpoint<ListProductsRequest, Paged<ProductSummary>>
{
    public override void Configure()
    {
        Get("/api/products");
        Tags("catalog");
    }

    public override async Task HandleAsync(ListProductsRequest req, CancellationToken ct)
    {
        var page = req.Page ?? 1;
        var (count, results) = req.Optimize == true
            ? await reads.PageAsync(req, req.Ordering, page, PageNumberPagination.PageSize, ct)
            : await reads.PageNaiveAsync(req, req.Ordering, page, PageNumberPagination.PageSize, ct);

        if (!PageNumberPagination.PageExists(page, count))
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Invalid page.")));
            return;
        }

        await Send.OkAsync(PageNumberPagination.Envelope(HttpContext.Request, page, count, results), ct);
    }
}
