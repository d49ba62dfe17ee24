using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;
using Npgsql;

namespace ExBuy.Features.FlashSale.FlashSaleStock;

public sealed class FlashSaleStockRequest
{
    public long Id { get; init; }
}

/// <summary>Database stock and Redis stock side by side, with what the events say was sold and returned.</summary>
public sealed record FlashSaleStockResponse(
    long ProductId, int InitialStock, int DbStock, int? RedisStock, long Sold, long Returned, long Oversold, bool Consistent);

/// <summary>
/// <c>GET /api/flash-sales/{id}/stock</c>: the flash-sale check. Consistent means stock = initial − sold + returned, never
/// negative, and Redis (when it keeps a copy) agrees. It reads only this product's events (<see cref="ProductLedger"/>):
/// a public read must not cost in proportion to everything else ever sold.
/// </summary>
public sealed class FlashSaleStockEndpoint(NpgsqlDataSource db, IDocumentStore store, RedisStock redisStock)
    : Endpoint<FlashSaleStockRequest, FlashSaleStockResponse>
{
    public override void Configure()
    {
        Get("/api/flash-sales/{id:long}/stock");
        Tags("flash-sale");
    }

    public override async Task HandleAsync(FlashSaleStockRequest req, CancellationToken ct)
    {
        var row = await ProductLedger.ReadAsync(db, store, req.Id, ct);
        if (row is null)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        var redis = await redisStock.GetAsync(req.Id);
        var oversold = Math.Max(0, row.Sold - row.Returned - row.InitialStock);
        var consistent = row.Stock >= 0 && row.Stock == row.Expected && (redis is null || redis == row.Stock) && oversold == 0;
        await Send.OkAsync(new FlashSaleStockResponse(row.ProductId, row.InitialStock, row.Stock, redis, row.Sold, row.Returned, oversold, consistent), ct);
    }
}
