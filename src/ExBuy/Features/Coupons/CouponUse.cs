using Marten;
using Marten.Services.BatchQuerying;

namespace ExBuy.Features.Coupons;

/// <summary>
/// What the other modules may do with an issued coupon (Orders pays with one and gives it back on cancellation): read it
/// in their own batched round trip and queue its use or its release on their own unit of work, at the revision they
/// read, so a coupon is used by one order at most. Only Coupons writes coupon documents.
/// </summary>
public static class CouponUse
{
    /// <summary>The coupon, read in the caller's batch; null when there is none.</summary>
    public static Task<Coupon?> Load(IBatchedQuery batch, long couponId) => batch.Load<Coupon>(couponId)!;

    /// <summary>Queues the coupon's use by <paramref name="orderId"/>; the commit fails if the coupon changed since it was read.</summary>
    public static void MarkUsed(IDocumentSession session, Coupon coupon, long orderId)
    {
        var version = coupon.Version;
        coupon.UsedByOrderId = orderId;
        session.UpdateRevision(coupon, version + 1);
    }

    /// <summary>Queues the coupon's release (usable again); the commit fails if the coupon changed since it was read.</summary>
    public static void Release(IDocumentSession session, Coupon coupon)
    {
        var version = coupon.Version;
        coupon.UsedByOrderId = null;
        session.UpdateRevision(coupon, version + 1);
    }
}
