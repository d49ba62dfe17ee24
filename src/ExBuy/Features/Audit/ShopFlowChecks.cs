using ExBuy.Features.Coupons;
using Marten;
using Npgsql;

namespace ExBuy.Features.Audit;

/// <summary>What the coupon checks read from the snapshot, for the comparison with the Redis gates after it.</summary>
public sealed record CouponSnapshot(IReadOnlyList<CouponPolicyCounts> Counts, IReadOnlyDictionary<long, PolicyTruth> Truths);

/// <summary>The shop-flow invariants: coupons, balances, payments. Each check is one SQL statement.</summary>
public static class ShopFlowChecks
{
    /// <returns>How many balances there are, and what the Redis gates are compared with (<see cref="CompareGates"/>).</returns>
    public static async Task<(long Balances, CouponSnapshot Coupons)> RunAsync(
        NpgsqlConnection connection, IDocumentStore store, TimeSpan stuckAfter, List<AuditViolation> violations, CancellationToken ct)
    {
        var s = store.Options.DatabaseSchemaName;
        var e = store.Options.Events.DatabaseSchemaName;

        var coupons = await CheckCouponsAsync(connection, store, stuckAfter, violations, ct);

        // One coupon per user and policy needs no check: the unique index on (PolicyId, UserId) refuses a second one
        // (CouponsRegistration). What can drift is the coupon's worth: the policy's discount, copied at issue.
        await ForEachRow(connection, $"""
            select c.id, (c.data ->> 'Discount')::numeric, p.id, (p.data ->> 'Discount')::numeric
            from {s}.mt_doc_coupon c join {s}.mt_doc_couponpolicy p on p.id = (c.data ->> 'PolicyId')::bigint
            where (c.data ->> 'Discount')::numeric <> (p.data ->> 'Discount')::numeric
            """, r => violations.Add(new("coupon_discount_matches_policy", $"coupon {r.GetInt64(0)}",
                $"discount {r.GetDecimal(1)}, policy {r.GetInt64(2)} gives {r.GetDecimal(3)}")), ct);

        // A cancelled paid order frees its coupon, which another order may then use: only live orders count.
        await ForEachRow(connection, $"""
            select (data ->> 'CouponId')::bigint, count(*) from {s}.mt_doc_order
            where data ->> 'CouponId' is not null and data ->> 'Status' <> 'cancelled' group by 1 having count(*) > 1
            """, r => violations.Add(new("coupon_used_once", $"coupon {r.GetInt64(0)}", $"used by {r.GetInt64(1)} orders")), ct);

        // Every balance equals the sum of its ledger and is never negative.
        long balances = 0;
        await ForEachRow(connection, $"""
            select b.id, (b.data ->> 'Balance')::numeric,
                   coalesce(sum(case ev.type when 'balance_debited' then -(ev.data ->> 'Amount')::numeric
                                             else (ev.data ->> 'Amount')::numeric end), 0)
            from {s}.mt_doc_userbalance b left join {e}.mt_events ev on ev.stream_id = b.id
            group by b.id, b.data
            """, r =>
        {
            balances++;
            var (id, balance, ledger) = (r.GetString(0), r.GetDecimal(1), r.GetDecimal(2));
            if (balance != ledger)
            {
                violations.Add(new("balance_matches_ledger", id, $"balance {balance}, ledger sums to {ledger}"));
            }

            if (balance < 0)
            {
                violations.Add(new("no_negative_balance", id, $"balance {balance}"));
            }
        }, ct);

        // Every paid order has exactly one debit, for its total.
        await ForEachRow(connection, $"""
            select o.id, (o.data ->> 'TotalPrice')::numeric, count(d.seq_id), coalesce(sum((d.data ->> 'Amount')::numeric), 0)
            from {s}.mt_doc_order o
            left join {e}.mt_events d on d.type = 'balance_debited' and (d.data ->> 'OrderId')::bigint = o.id
            where (o.data ->> 'Paid')::boolean
            group by o.id, o.data
            having count(d.seq_id) <> 1 or coalesce(sum((d.data ->> 'Amount')::numeric), 0) <> (o.data ->> 'TotalPrice')::numeric
            """, r => violations.Add(new("paid_order_has_one_debit", $"order {r.GetInt64(0)}", $"total {r.GetDecimal(1)}, {r.GetInt64(2)} debit(s) summing to {r.GetDecimal(3)}")), ct);

        // A refund gives back a cancelled paid order's debit: at most one per order, for its total, and only for an
        // order that is cancelled and paid.
        await ForEachRow(connection, $"""
            select (r.data ->> 'OrderId')::bigint, count(*), sum((r.data ->> 'Amount')::numeric),
                   o.data ->> 'Status', coalesce((o.data ->> 'Paid')::boolean, false), (o.data ->> 'TotalPrice')::numeric
            from {e}.mt_events r left join {s}.mt_doc_order o on o.id = (r.data ->> 'OrderId')::bigint
            where r.type = 'balance_refunded'
            group by 1, o.data
            having count(*) > 1 or o.data is null or o.data ->> 'Status' <> 'cancelled'
                or not coalesce((o.data ->> 'Paid')::boolean, false) or sum((r.data ->> 'Amount')::numeric) <> (o.data ->> 'TotalPrice')::numeric
            """, r => violations.Add(new("one_refund_per_cancelled_paid_order", $"order {r.GetInt64(0)}",
                $"{r.GetInt64(1)} refund(s) summing to {r.GetDecimal(2)}; order {(r.IsDBNull(3) ? "missing" : $"{r.GetString(3)}, paid {r.GetBoolean(4)}, total {r.GetDecimal(5)}")}")), ct);

        // A cancelled paid order has its refund (cancelling refunds in the same transaction).
        await ForEachRow(connection, $"""
            select o.id from {s}.mt_doc_order o
            where (o.data ->> 'Paid')::boolean and o.data ->> 'Status' = 'cancelled'
              and not exists (select 1 from {e}.mt_events r where r.type = 'balance_refunded' and (r.data ->> 'OrderId')::bigint = o.id)
            """, r => violations.Add(new("cancelled_paid_order_refunded", $"order {r.GetInt64(0)}", "cancelled without a refund")), ct);

        // Coupon use and orders name each other: a used coupon names a live paid order that names it back, and a live
        // paid order's coupon names that order (a cancelled order's coupon was released). POST /init deletes the
        // previous scenario's coupons while their orders stay: an order whose coupon no longer exists is history.
        await ForEachRow(connection, $"""
            select c.id, (c.data ->> 'UsedByOrderId')::bigint, 'coupon names an order that does not name it (or is cancelled)'
            from {s}.mt_doc_coupon c left join {s}.mt_doc_order o on o.id = (c.data ->> 'UsedByOrderId')::bigint
            where c.data ->> 'UsedByOrderId' is not null
              and (o.id is null or (o.data ->> 'CouponId')::bigint is distinct from c.id or o.data ->> 'Status' = 'cancelled')
            union all
            select (o.data ->> 'CouponId')::bigint, o.id, 'order names a coupon that does not name it'
            from {s}.mt_doc_order o left join {s}.mt_doc_coupon c on c.id = (o.data ->> 'CouponId')::bigint
            where o.data ->> 'CouponId' is not null and o.data ->> 'Status' <> 'cancelled'
              and c.id is not null and (c.data ->> 'UsedByOrderId')::bigint is distinct from o.id
            """, r => violations.Add(new("coupon_use_matches_order", $"coupon {r.GetInt64(0)}, order {r.GetInt64(1)}", r.GetString(2))), ct);

        // A ledger and its balance document go together (the balance is an inline projection of the ledger): a current
        // user's balance events without the document, or a document that has applied events the log does not hold.
        // POST /init deletes the users and their balance documents and keeps the events as history: a ledger whose user
        // is gone is that history.
        await ForEachRow(connection, $"""
            select ev.stream_id, count(*), 'balance event(s) without the balance document'
            from {e}.mt_events ev join {s}.mt_doc_shopuser u on u.id = (ev.data ->> 'UserId')::bigint
            where ev.type in ('balance_charged', 'balance_debited', 'balance_refunded')
              and not exists (select 1 from {s}.mt_doc_userbalance b where b.id = ev.stream_id)
            group by ev.stream_id
            union all
            select b.id, (b.data ->> 'Version')::bigint, 'applied event(s) by the balance document, none in the event log'
            from {s}.mt_doc_userbalance b
            where (b.data ->> 'Version')::bigint > 0 and not exists (select 1 from {e}.mt_events ev where ev.stream_id = b.id)
            """, r => violations.Add(new("no_orphan_balance_ledger", r.GetString(0), $"{r.GetInt64(1)} {r.GetString(2)}")), ct);

        return (balances, coupons);
    }

    /// <summary>
    /// Per policy (its counter row, <see cref="CouponPolicyStock"/>): issued and coupon rows ≤ quantity, issued = coupon
    /// rows, no claim in flight longer than <paramref name="stuckAfter"/>. Per claim: issued ⇔ exactly one coupon carries
    /// its id. The Redis side is compared after the snapshot (<see cref="CompareGates"/>).
    /// </summary>
    private static async Task<CouponSnapshot> CheckCouponsAsync(NpgsqlConnection connection, IDocumentStore store, TimeSpan stuckAfter, List<AuditViolation> violations, CancellationToken ct)
    {
        var truths = (await CouponClaims.TruthAsync(connection, store, null, ct)).ToDictionary(t => t.PolicyId);
        var counts = await CouponPolicyCounts.ReadAsync(connection, store, stuckAfter, null, ct);
        foreach (var c in counts)
        {
            var subject = $"policy {c.PolicyId}";
            // The issued count cannot pass the quantity (the counter's check constraint, CouponPolicyStock); coupon
            // rows can, if something inserts them without going through the counter. Both are counted.
            if (c.Issued > c.Quantity || c.Coupons > c.Quantity)
            {
                violations.Add(new("coupons_issued_within_quantity", subject, $"{c.Coupons} coupon(s), issued count {c.Issued}, of {c.Quantity}"));
            }

            if (c.Coupons != c.Issued)
            {
                violations.Add(new("coupons_match_issued_count", subject, $"{c.Coupons} coupons, issued count {c.Issued}"));
            }

            if (c.Stuck > 0)
            {
                violations.Add(new("coupon_claims_not_stuck", subject, $"{c.Stuck} claim(s) accepted more than {stuckAfter.TotalSeconds:0} s ago and neither issued nor failed"));
            }
        }

        await ForEachRow(connection, $"""
            select c.claim_id, c.status, count(k.id)
            from {CouponClaims.Table(store)} c
            left join {store.Options.DatabaseSchemaName}.mt_doc_coupon k on k.data ->> 'ClaimId' = c.claim_id::text
            group by c.claim_id, c.status
            having (c.status = 'issued') <> (count(k.id) = 1) or count(k.id) > 1
            """, r => violations.Add(new("coupon_claim_issued_once", $"claim {r.GetGuid(0)}", $"status {r.GetString(1)} with {r.GetInt64(2)} coupon(s)")), ct);

        return new CouponSnapshot(counts, truths);
    }

    /// <summary>
    /// Per policy of the snapshot, the Redis gate read before and after it: the counter exists and = quantity − issued
    /// − claims in flight, the requested set = the users with a coupon or a claim in flight. A counter (or a set) that
    /// differs between the two readings had a claim in flight while the audit ran and is not compared (see
    /// <see cref="AuditEndpoint"/>).
    /// </summary>
    /// <returns>How many values were left out as in flight.</returns>
    public static int CompareGates(CouponSnapshot snapshot, IReadOnlyDictionary<long, GateReading> before, IReadOnlyDictionary<long, GateReading> after, List<AuditViolation> violations)
    {
        var inFlight = 0;
        foreach (var c in snapshot.Counts)
        {
            var subject = $"policy {c.PolicyId}";
            var (first, second) = (before.GetValueOrDefault(c.PolicyId), after.GetValueOrDefault(c.PolicyId));
            var expected = c.Quantity - c.Issued - c.InFlight;
            if (first?.Remaining != second?.Remaining)
            {
                inFlight++;
            }
            else if (second?.Remaining is not { } remaining)
            {
                violations.Add(new("redis_coupon_counter_present", subject, $"no Redis counter (expected {expected}): the gate is rebuilt on the next claim or reconciliation"));
            }
            else if (remaining != expected)
            {
                violations.Add(new("redis_coupon_counter_matches_database", subject, $"Redis remaining {remaining}, quantity {c.Quantity} − issued {c.Issued} − in flight {c.InFlight} = {expected}"));
            }

            var requested = second?.Requested ?? new HashSet<long>();
            if (!(first?.Requested ?? new HashSet<long>()).SetEquals(requested))
            {
                inFlight++;
                continue;
            }

            var known = snapshot.Truths.TryGetValue(c.PolicyId, out var truth) ? truth.Requested.ToHashSet() : [];
            var missing = known.Count(u => !requested.Contains(u));
            var unknown = requested.Count(u => !known.Contains(u));
            if (missing > 0 || unknown > 0)
            {
                violations.Add(new("redis_coupon_requested_matches_database", subject, $"{missing} user(s) with a coupon or a claim in flight missing from the Redis requested set, {unknown} there without either"));
            }
        }

        return inFlight;
    }

    private static Task ForEachRow(NpgsqlConnection connection, string sql, Action<NpgsqlDataReader> row, CancellationToken ct) =>
        AuditSql.ForEachRow(connection, sql, row, ct);
}
