using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Coupons;

/// <summary>Coupons' tables in a full reset: the claims and every policy's counter (<c>coupon_policy_stock</c>).</summary>
internal sealed class CouponsReset : IModuleReset
{
    public Task ResetAsync(IDocumentStore store, CancellationToken ct) => CouponClaims.ClearAsync(store, ct);
}
