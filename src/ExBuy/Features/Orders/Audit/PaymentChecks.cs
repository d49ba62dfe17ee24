using ExBuy.Features.Audit;

namespace ExBuy.Features.Orders.Audit;

/// <summary>
/// The audit's invariants between an order and what paid for it: a coupon used once, one debit per paid order, one
/// refund per cancelled paid order, coupon use and orders naming each other. An order is what names its coupon and its
/// debit, so these are the order's checks; they read the balance events and the coupon documents for that. Each is one
/// statement on the audit's snapshot.
/// </summary>
internal sealed class PaymentChecks : SnapshotCheck
{
    public override async Task InSnapshotAsync(AuditSnapshot audit, CancellationToken ct)
    {
        var s = audit.Store.Options.DatabaseSchemaName;
        var e = audit.Store.Options.Events.DatabaseSchemaName;

        // A cancelled paid order frees its coupon, which another order may then use: only live orders count.
        await audit.ForEachRow($"""
            select (data ->> 'CouponId')::bigint, count(*) from {s}.mt_doc_order
            where data ->> 'CouponId' is not null and data ->> 'Status' <> 'cancelled' group by 1 having count(*) > 1
            """, r => audit.Violations.Add(new("coupon_used_once", $"coupon {r.GetInt64(0)}", $"used by {r.GetInt64(1)} orders")), ct);

        // Every paid order has exactly one debit, for its total.
        await audit.ForEachRow($"""
            select o.id, (o.data ->> 'TotalPrice')::numeric, count(d.seq_id), coalesce(sum((d.data ->> 'Amount')::numeric), 0)
            from {s}.mt_doc_order o
            left join {e}.mt_events d on d.type = 'balance_debited' and (d.data ->> 'OrderId')::bigint = o.id
            where (o.data ->> 'Paid')::boolean
            group by o.id, o.data
            having count(d.seq_id) <> 1 or coalesce(sum((d.data ->> 'Amount')::numeric), 0) <> (o.data ->> 'TotalPrice')::numeric
            """, r => audit.Violations.Add(new("paid_order_has_one_debit", $"order {r.GetInt64(0)}", $"total {r.GetDecimal(1)}, {r.GetInt64(2)} debit(s) summing to {r.GetDecimal(3)}")), ct);

        // A refund gives back a cancelled paid order's debit: at most one per order, for its total, and only for an
        // order that is cancelled and paid.
        await audit.ForEachRow($"""
            select (r.data ->> 'OrderId')::bigint, count(*), sum((r.data ->> 'Amount')::numeric),
                   o.data ->> 'Status', coalesce((o.data ->> 'Paid')::boolean, false), (o.data ->> 'TotalPrice')::numeric
            from {e}.mt_events r left join {s}.mt_doc_order o on o.id = (r.data ->> 'OrderId')::bigint
            where r.type = 'balance_refunded'
            group by 1, o.data
            having count(*) > 1 or o.data is null or o.data ->> 'Status' <> 'cancelled'
                or not coalesce((o.data ->> 'Paid')::boolean, false) or sum((r.data ->> 'Amount')::numeric) <> (o.data ->> 'TotalPrice')::numeric
            """, r => audit.Violations.Add(new("one_refund_per_cancelled_paid_order", $"order {r.GetInt64(0)}",
                $"{r.GetInt64(1)} refund(s) summing to {r.GetDecimal(2)}; order {(r.IsDBNull(3) ? "missing" : $"{r.GetString(3)}, paid {r.GetBoolean(4)}, total {r.GetDecimal(5)}")}")), ct);

        // A cancelled paid order has its refund (cancelling refunds in the same transaction).
        await audit.ForEachRow($"""
            select o.id from {s}.mt_doc_order o
            where (o.data ->> 'Paid')::boolean and o.data ->> 'Status' = 'cancelled'
              and not exists (select 1 from {e}.mt_events r where r.type = 'balance_refunded' and (r.data ->> 'OrderId')::bigint = o.id)
            """, r => audit.Violations.Add(new("cancelled_paid_order_refunded", $"order {r.GetInt64(0)}", "cancelled without a refund")), ct);

        // Coupon use and orders name each other: a used coupon names a live paid order that names it back, and a live
        // paid order's coupon names that order (a cancelled order's coupon was released). POST /init deletes the
        // previous scenario's coupons while their orders stay: an order whose coupon no longer exists is history.
        await audit.ForEachRow($"""
            select c.id, (c.data ->> 'UsedByOrderId')::bigint, 'coupon names an order that does not name it (or is cancelled)'
            from {s}.mt_doc_coupon c left join {s}.mt_doc_order o on o.id = (c.data ->> 'UsedByOrderId')::bigint
            where c.data ->> 'UsedByOrderId' is not null
              and (o.id is null or (o.data ->> 'CouponId')::bigint is distinct from c.id or o.data ->> 'Status' = 'cancelled')
            union all
            select (o.data ->> 'CouponId')::bigint, o.id, 'order names a coupon that does not name it'
            from {s}.mt_doc_order o left join {s}.mt_doc_coupon c on c.id = (o.data ->> 'CouponId')::bigint
            where o.data ->> 'CouponId' is not null and o.data ->> 'Status' <> 'cancelled'
              and c.id is not null and (c.data ->> 'UsedByOrderId')::bigint is distinct from o.id
            """, r => audit.Violations.Add(new("coupon_use_matches_order", $"coupon {r.GetInt64(0)}, order {r.GetInt64(1)}", r.GetString(2))), ct);
    }
}
