using ExBuy.Features.Catalog.ReadModel;
using ExBuy.Infrastructure.Http;
using FastEndpoints;

namespace ExBuy.Features.Catalog.ListProducts;

/// <summary>
/// <c>GET /api/products</c>. <c>optimize=true</c> answers from the catalogue read model (the node's in-memory catalogue
/// with the page's live stock rows, one statement: <see cref="CatalogReadModel"/>), or — when it cannot — counts on its
/// own and selects the six listed columns. The default path is the naive ORM list the switch exists to compare with:
/// a count, then whole documents mapped in memory, as DRF's paginator does. All return the same body.
/// </summary>
public sealed class ListProductsEndpoint(ProductReads reads, CatalogReadModel readModel) : Endpoint<ListProductsRequest, Paged<ProductSummary>>
{
    public override void Configure()
    {
        Get("/api/products");
        Tags("catalog");
    }

    public override async Task HandleAsync(ListProductsRequest req, CancellationToken ct)
    {
        var page = req.Page ?? 1;
        if (PageNumberPagination.PastEveryList(page))
        {
            await Send.ResultAsync(PageNumberPagination.InvalidPage());
            return;
        }

        var (count, results) = req.Optimize == true
            ? await OptimisedAsync(req, page, ct)
            : await reads.PageNaiveAsync(req, req.Ordering, page, PageNumberPagination.PageSize, ct);

        if (!PageNumberPagination.PageExists(page, count))
        {
            await Send.ResultAsync(PageNumberPagination.InvalidPage());
            return;
        }

        await Send.OkAsync(PageNumberPagination.Envelope(HttpContext.Request, page, count, results), ct);
    }

    private async Task<(long Count, List<ProductSummary> Page)> OptimisedAsync(ListProductsRequest req, int page, CancellationToken ct)
    {
        var (served, count, results) = await readModel.PageAsync(req, req.Ordering, page, PageNumberPagination.PageSize, ct);
        return served ? (count, results) : await reads.PageAsync(req, req.Ordering, page, PageNumberPagination.PageSize, ct);
    }
}
