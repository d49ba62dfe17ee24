using ExBuy.Features.Audit;

namespace ExBuy.Features.Orders.Audit;

/// <summary>
/// The audit's order invariants: totals, discounts, coupons' owners, idempotency records, stock returns. One statement
/// each, on the audit's snapshot. An order names its coupon and its user: the checks that join an order to the coupon it
/// used are the order's, and read the coupon documents (Coupons' table) for that.
/// </summary>
internal sealed class OrderChecks : SnapshotCheck
{
    public override async Task InSnapshotAsync(AuditSnapshot audit, CancellationToken ct)
    {
        var s = audit.Store.Options.DatabaseSchemaName;
        var e = audit.Store.Options.Events.DatabaseSchemaName;

        // total = sum of line subtotals (minus a discount where one applies) and subtotal = unit price × quantity.
        await audit.ForEachRow($"""
            select o.id, (o.data ->> 'TotalPrice')::numeric, lines.total, lines.bad_lines
            from {s}.mt_doc_order o
            cross join lateral (
                select coalesce(sum((i ->> 'Subtotal')::numeric), 0) as total,
                       count(*) filter (where (i ->> 'Subtotal')::numeric <> (i ->> 'UnitPrice')::numeric * (i ->> 'Quantity')::int) as bad_lines
                from jsonb_array_elements(o.data -> 'Items') i
            ) lines
            where (o.data ->> 'TotalPrice')::numeric <> lines.total - coalesce((o.data ->> 'Discount')::numeric, 0) or lines.bad_lines > 0
            """, r => audit.Violations.Add(new(
                "order_total_matches_items",
                $"order {r.GetInt64(0)}",
                $"total {r.GetDecimal(1)}, items {r.GetDecimal(2)}, {r.GetInt64(3)} line(s) with subtotal ≠ price × quantity")), ct);

        // The discount is the coupon's rule (PlacePaidOrderDecider): the coupon's discount, or what the items cost when
        // the coupon is worth more; no coupon, no discount. POST /init deletes the previous scenario's coupons while
        // their orders stay: an order whose coupon no longer exists is history.
        await audit.ForEachRow($"""
            select o.id, coalesce((o.data ->> 'Discount')::numeric, 0), (c.data ->> 'Discount')::numeric, g.gross
            from {s}.mt_doc_order o
            cross join lateral (select coalesce(sum((i ->> 'Subtotal')::numeric), 0) as gross from jsonb_array_elements(o.data -> 'Items') i) g
            left join {s}.mt_doc_coupon c on c.id = (o.data ->> 'CouponId')::bigint
            where case when o.data ->> 'CouponId' is null then coalesce((o.data ->> 'Discount')::numeric, 0) <> 0
                       when c.id is null then false
                       else coalesce((o.data ->> 'Discount')::numeric, 0) <> least((c.data ->> 'Discount')::numeric, g.gross) end
            """, r => audit.Violations.Add(new(
                "order_discount_matches_coupon",
                $"order {r.GetInt64(0)}",
                r.IsDBNull(2)
                    ? $"discount {r.GetDecimal(1)} without a coupon"
                    : $"discount {r.GetDecimal(1)}, but the coupon gives {r.GetDecimal(2)} on items of {r.GetDecimal(3)}")), ct);

        // A coupon pays for its owner's orders only, whichever side names the other.
        await audit.ForEachRow($"""
            select c.id, o.id, (c.data ->> 'UserId')::bigint, (o.data ->> 'UserId')::bigint
            from {s}.mt_doc_order o join {s}.mt_doc_coupon c on c.id = (o.data ->> 'CouponId')::bigint
            where (c.data ->> 'UserId')::bigint <> (o.data ->> 'UserId')::bigint
            union
            select c.id, o.id, (c.data ->> 'UserId')::bigint, (o.data ->> 'UserId')::bigint
            from {s}.mt_doc_coupon c join {s}.mt_doc_order o on o.id = (c.data ->> 'UsedByOrderId')::bigint
            where (c.data ->> 'UserId')::bigint <> (o.data ->> 'UserId')::bigint
            """, r => audit.Violations.Add(new(
                "coupon_owner_is_order_user",
                $"coupon {r.GetInt64(0)}, order {r.GetInt64(1)}",
                $"the coupon belongs to user {r.GetInt64(2)}, the order to user {r.GetInt64(3)}")), ct);

        // A replayed Idempotency-Key answers the recorded order and total: the order exists, is the key's user's, and
        // its total is the recorded one (a replay would otherwise answer an amount that was never charged).
        await audit.ForEachRow($"""
            select r.id, (r.data ->> 'OrderId')::bigint, (r.data ->> 'TotalAmount')::numeric, o.id is not null,
                   (o.data ->> 'TotalPrice')::numeric, (o.data ->> 'UserId')::bigint
            from {s}.mt_doc_idempotencyrecord r left join {s}.mt_doc_order o on o.id = (r.data ->> 'OrderId')::bigint
            where o.id is null or (r.data ->> 'TotalAmount')::numeric <> (o.data ->> 'TotalPrice')::numeric
               or split_part(r.id, ':', 1) <> o.data ->> 'UserId'
            """, r => audit.Violations.Add(new(
                "idempotency_record_matches_order",
                $"idempotency record {r.GetString(0)}",
                r.GetBoolean(3)
                    ? $"records order {r.GetInt64(1)} at {r.GetDecimal(2)}; the order is user {r.GetInt64(5)}'s at {r.GetDecimal(4)}"
                    : $"records order {r.GetInt64(1)} at {r.GetDecimal(2)}; no such order")), ct);

        // Each return gives back one take: in an order's events, in sequence, the returns (cancellations that returned
        // stock) never outnumber the takes before them (placed or revived with stock). Summing the cancellations, as the
        // stock ledger does, cannot see a return made twice when the stock row followed it.
        await audit.ForEachRow($"""
            select order_id, count(*) filter (where delta > 0), count(*) filter (where delta < 0)
            from (
                select (data ->> 'OrderId')::bigint as order_id, delta,
                       sum(delta) over (partition by stream_id order by seq_id) as outstanding
                from (
                    select stream_id, seq_id, data, case type when 'order_cancelled' then -1 else 1 end as delta
                    from {e}.mt_events
                    where (type in ('order_placed', 'order_revived') and coalesce((data ->> 'TookStock')::boolean, false))
                       or (type = 'order_cancelled' and coalesce((data ->> 'ReturnedStock')::boolean, false))
                ) moves
            ) running
            group by order_id having min(outstanding) < 0
            """, r => audit.Violations.Add(new(
                "stock_returned_at_most_once_per_take",
                $"order {r.GetInt64(0)}",
                $"stock taken {r.GetInt64(1)} time(s), returned {r.GetInt64(2)} time(s): a return gave back no take")), ct);

        audit.Checked["orders"] = await audit.CountAsync($"select count(*) from {s}.mt_doc_order", ct);
        audit.Checked["idempotency_records"] = await audit.CountAsync($"select count(*) from {s}.mt_doc_idempotencyrecord", ct);
    }
}
