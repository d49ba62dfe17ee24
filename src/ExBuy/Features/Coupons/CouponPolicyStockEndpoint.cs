using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;

namespace ExBuy.Features.Coupons;

public sealed class CouponPolicyStockRequest
{
    public long Id { get; init; }
}

/// <summary>
/// A coupon policy's counts side by side: the database's issued count and coupon rows, Redis's remaining counter and
/// requested set. <c>in_flight</c> is what the gate admitted that the issuance queue has not yet settled (issued or
/// compensated); once it is 0, Redis remaining + issued must equal the quantity.
/// </summary>
public sealed record CouponPolicyStockResponse(
    long PolicyId, int Quantity, int Issued, long Coupons, long? RedisRemaining, long RedisRequested, long InFlight, bool Settled, bool Consistent);

/// <summary><c>GET /api/coupon-policies/{id}/stock</c>: the coupon-rush check, as the flash sale has its stock check.</summary>
public sealed class CouponPolicyStockEndpoint(IQuerySession session, CouponGate gate) : Endpoint<CouponPolicyStockRequest, CouponPolicyStockResponse>
{
    public override void Configure()
    {
        Get("/api/coupon-policies/{id:long}/stock");
        Tags("coupon-rush");
    }

    public override async Task HandleAsync(CouponPolicyStockRequest req, CancellationToken ct)
    {
        var policy = await session.LoadAsync<CouponPolicy>(req.Id, ct);
        if (policy is null)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        // Redis first: an issuance landing between the two reads then shows as in flight, never as a lost coupon.
        var requested = await gate.RequestedCountAsync(policy.Id);
        var remaining = await gate.RemainingAsync(policy.Id);
        var coupons = await session.Query<Coupon>().CountAsync(c => c.PolicyId == policy.Id, ct);
        var inFlight = Math.Max(0, requested - coupons);
        var settled = inFlight == 0;
        var consistent = policy.Issued <= policy.Quantity && coupons == policy.Issued
                         && (!settled || remaining is null || remaining + policy.Issued == policy.Quantity);
        await Send.OkAsync(new CouponPolicyStockResponse(policy.Id, policy.Quantity, policy.Issued, coupons, remaining, requested, inFlight, settled, consistent), ct);
    }
}
