using System.Text.Json.Serialization;
using FastEndpoints;
using FluentValidation;
using Marten;

namespace ExBuy.Features.Coupons;

public sealed class ListUserCouponsRequest
{
    public long UserId { get; init; }

    // No user has an id below 1; an unknown positive id simply has no coupons.
    public sealed class Validator : Validator<ListUserCouponsRequest>
    {
        public Validator() => RuleFor(x => x.UserId).GreaterThanOrEqualTo(1).OverridePropertyName("user_id");
    }
}

public sealed record UserCouponResponse([property: JsonPropertyName("couponId")] long CouponId, [property: JsonPropertyName("discount")] long Discount);

/// <summary><c>GET /users/{userId}/coupons</c>: the user's unused, unexpired coupons.</summary>
public sealed class ListUserCouponsEndpoint(IQuerySession session, TimeProvider clock) : Endpoint<ListUserCouponsRequest, List<UserCouponResponse>>
{
    public override void Configure()
    {
        Get("/users/{user_id:long}/coupons");
        Tags("shop-flow");
    }

    public override async Task HandleAsync(ListUserCouponsRequest req, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var coupons = await session.Query<Coupon>()
            .Where(c => c.UserId == req.UserId && c.UsedByOrderId == null && c.ExpiresAt > now)
            .OrderBy(c => c.Id)
            .ToListAsync(ct);
        await Send.OkAsync(coupons.Select(c => new UserCouponResponse(c.Id, c.Discount)).ToList(), ct);
    }
}
