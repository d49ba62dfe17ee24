using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Coupons;

/// <summary>
/// Upgrades a database written before the coupon counters had their own table: policies whose quantity and issued count
/// still live only in their document get their <c>coupon_policy_stock</c> row with those figures. A policy that has its
/// row is never touched, so running it again changes nothing.
/// </summary>
public sealed class CouponPolicyStockBackfill(IDocumentStore store, ILogger<CouponPolicyStockBackfill> logger) : StartupBackfill(store, logger)
{
    protected override string Rows => "coupon policies written before the counter table with their coupon_policy_stock rows";

    // Reads the old document fields; writes only the Coupons slice's own table. Counts above the quantity (which the old
    // layout could not prevent) are capped, so the row satisfies its constraint; the audit still compares them with the
    // coupons that exist.
    protected override string Sql => CouponsSql.BackfillCounters(Store);
}
