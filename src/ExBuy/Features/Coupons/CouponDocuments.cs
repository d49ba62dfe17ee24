using JasperFx;

namespace ExBuy.Features.Coupons;

/// <summary>
/// A first-come coupon policy: coupons of <see cref="Discount"/>, issued while active. How many may be issued and how
/// many have been are not here: they are the hot counter that every issuance updates, in the Coupons slice's own
/// narrow table (<see cref="CouponPolicyStock"/>), written in the same transaction as this document.
/// </summary>
public sealed class CouponPolicy
{
    public long Id { get; set; }
    public long Discount { get; set; }

    public DateTimeOffset StartsAt { get; set; }
    public DateTimeOffset EndsAt { get; set; }
    public int ValidDays { get; set; } = 3;

    public bool IsActive(DateTimeOffset now) => now >= StartsAt && now < EndsAt;
}

/// <summary>An issued coupon. At most one per user and policy (unique index); used by at most one order.</summary>
public sealed class Coupon : IRevisioned
{
    public long Id { get; set; }
    public long PolicyId { get; set; }
    public long UserId { get; set; }
    public long Discount { get; set; }
    public DateTimeOffset IssuedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public long? UsedByOrderId { get; set; }

    /// <summary>The claim this coupon was issued for (<see cref="CouponClaims"/>); null for coupons issued before claims were recorded.</summary>
    public Guid? ClaimId { get; set; }

    public int Version { get; set; }
}

/// <summary>
/// The Wolverine message that hands an accepted claim to issuance (in-memory local queue), published once the claim's
/// row has committed and again from that row if it was lost (<see cref="CouponClaimRecovery"/>). Issuance is idempotent
/// by <see cref="ClaimId"/>: a second delivery finds the claim settled.
/// </summary>
public sealed record IssueCoupon(Guid ClaimId, long PolicyId, long UserId);
