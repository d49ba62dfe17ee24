using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Security;
using FastEndpoints;
using Marten;

namespace ExBuy.Features.Catalog.DeleteProduct;

public sealed class DeleteProductRequest
{
    public long Id { get; init; }
}

/// <summary><c>DELETE /api/products/{id}</c>: admin-only outside the local profile; its reviews go with it.</summary>
public sealed class DeleteProductEndpoint(IDocumentSession session) : Endpoint<DeleteProductRequest>
{
    public override void Configure()
    {
        Delete("/api/products/{id:long}");
        PreProcessor<AdminOnly<DeleteProductRequest>>();
        Tags("catalog", "admin");
    }

    public override async Task HandleAsync(DeleteProductRequest req, CancellationToken ct)
    {
        if (!await session.Query<Product>().AnyAsync(p => p.Id == req.Id, ct))
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        session.Delete<Product>(req.Id);
        ProductStock.QueueDelete(session, [req.Id]);
        await session.SaveChangesAsync(ct);
        await Send.NoContentAsync(ct);
    }
}
