using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Coupons;

public sealed class CouponPolicyStockRequest
{
    public long Id { get; init; }
}

/// <summary>
/// A coupon policy's counts side by side: the database's issued count, coupon rows and claims in flight (accepted,
/// not yet issued nor failed; <c>stuck</c>: those older than the bound), Redis's remaining counter (null when missing)
/// and requested set. Once the load has stopped, Redis remaining = quantity − issued − in flight and requested =
/// issued + in flight; <c>consistent</c> says whether they do, with nothing stuck.
/// </summary>
public sealed record CouponPolicyStockResponse(
    long PolicyId, int Quantity, int Issued, long Coupons, long? RedisRemaining, long RedisRequested, long InFlight, long Stuck, bool Settled, bool Consistent);

/// <summary><c>GET /api/coupon-policies/{id}/stock</c>: the coupon-rush check, as the flash sale has its stock check.</summary>
public sealed class CouponPolicyStockEndpoint(NpgsqlDataSource db, IDocumentStore store, CouponGate gate, IOptions<CouponOptions> options)
    : Endpoint<CouponPolicyStockRequest, CouponPolicyStockResponse>
{
    public override void Configure()
    {
        Get("/api/coupon-policies/{id:long}/stock");
        Tags("coupon-rush");
    }

    public override async Task HandleAsync(CouponPolicyStockRequest req, CancellationToken ct)
    {
        // Redis first: an issuance landing between the two reads then shows as issued, never as a lost admission.
        var requested = await gate.RequestedCountAsync(req.Id);
        var remaining = await gate.RemainingAsync(req.Id);
        var counts = await CouponPolicyCounts.ReadAsync(db, store, TimeSpan.FromSeconds(options.Value.StuckClaimSeconds), req.Id, ct);
        if (counts.Count == 0)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        var c = counts[0];
        var consistent = c.Issued <= c.Quantity && c.Coupons == c.Issued && c.Stuck == 0
                         && remaining == c.Quantity - c.Issued - c.InFlight && requested == c.Issued + c.InFlight;
        await Send.OkAsync(new CouponPolicyStockResponse(c.PolicyId, c.Quantity, c.Issued, c.Coupons, remaining, requested, c.InFlight, c.Stuck, c.InFlight == 0, consistent), ct);
    }
}
