using ExBuy.Features.Coupons;
using Marten;
using Npgsql;

namespace ExBuy.Features.Audit;

/// <summary>The shop-flow invariants: coupons, balances, payments. Each check is one SQL statement.</summary>
public static class ShopFlowChecks
{
    public static async Task<long> RunAsync(NpgsqlDataSource db, IDocumentStore store, CouponGate gate, List<AuditViolation> violations, CancellationToken ct)
    {
        var s = store.Options.DatabaseSchemaName;
        var e = store.Options.Events.DatabaseSchemaName;

        // Issued ≤ quantity, and the coupons that exist are exactly the issued count.
        await ForEachRow(db, $"""
            select p.id, (p.data ->> 'Quantity')::int, (p.data ->> 'Issued')::int, count(c.id)
            from {s}.mt_doc_couponpolicy p left join {s}.mt_doc_coupon c on (c.data ->> 'PolicyId')::bigint = p.id
            group by p.id, p.data
            """, async r =>
        {
            var (policyId, quantity, issued, coupons) = (r.GetInt64(0), r.GetInt32(1), r.GetInt32(2), r.GetInt64(3));
            if (issued > quantity)
            {
                violations.Add(new("coupons_issued_within_quantity", $"policy {policyId}", $"issued {issued} of {quantity}"));
            }

            if (coupons != issued)
            {
                violations.Add(new("coupons_match_issued_count", $"policy {policyId}", $"{coupons} coupons, issued count {issued}"));
            }

            if (await gate.RemainingAsync(policyId) is { } remaining && remaining + issued != quantity)
            {
                violations.Add(new("redis_coupon_counter_matches_database", $"policy {policyId}", $"Redis remaining {remaining} + issued {issued} ≠ quantity {quantity} (claims still in flight count here too)"));
            }
        }, ct);

        await ForEachRow(db, $"""
            select (data ->> 'PolicyId')::bigint, (data ->> 'UserId')::bigint, count(*)
            from {s}.mt_doc_coupon group by 1, 2 having count(*) > 1
            """, r =>
        {
            violations.Add(new("one_coupon_per_user_per_policy", $"policy {r.GetInt64(0)}, user {r.GetInt64(1)}", $"{r.GetInt64(2)} coupons"));
            return Task.CompletedTask;
        }, ct);

        await ForEachRow(db, $"""
            select (data ->> 'CouponId')::bigint, count(*) from {s}.mt_doc_order
            where data ->> 'CouponId' is not null group by 1 having count(*) > 1
            """, r =>
        {
            violations.Add(new("coupon_used_once", $"coupon {r.GetInt64(0)}", $"used by {r.GetInt64(1)} orders"));
            return Task.CompletedTask;
        }, ct);

        // Every balance equals the sum of its ledger and is never negative.
        long balances = 0;
        await ForEachRow(db, $"""
            select b.id, (b.data ->> 'Balance')::bigint,
                   coalesce(sum(case ev.type when 'balance_debited' then -(ev.data ->> 'Amount')::bigint
                                             else (ev.data ->> 'Amount')::bigint end), 0)
            from {s}.mt_doc_userbalance b left join {e}.mt_events ev on ev.stream_id = b.id
            group by b.id, b.data
            """, r =>
        {
            balances++;
            var (id, balance, ledger) = (r.GetString(0), r.GetInt64(1), r.GetInt64(2));
            if (balance != ledger)
            {
                violations.Add(new("balance_matches_ledger", id, $"balance {balance}, ledger sums to {ledger}"));
            }

            if (balance < 0)
            {
                violations.Add(new("no_negative_balance", id, $"balance {balance}"));
            }

            return Task.CompletedTask;
        }, ct);

        // Every paid order has exactly one debit, for its total.
        await ForEachRow(db, $"""
            select o.id, (o.data ->> 'TotalPrice')::numeric, count(d.seq_id), coalesce(sum((d.data ->> 'Amount')::numeric), 0)
            from {s}.mt_doc_order o
            left join {e}.mt_events d on d.type = 'balance_debited' and (d.data ->> 'OrderId')::bigint = o.id
            where (o.data ->> 'Paid')::boolean
            group by o.id, o.data
            having count(d.seq_id) <> 1 or coalesce(sum((d.data ->> 'Amount')::numeric), 0) <> (o.data ->> 'TotalPrice')::numeric
            """, r =>
        {
            violations.Add(new("paid_order_has_one_debit", $"order {r.GetInt64(0)}", $"total {r.GetDecimal(1)}, {r.GetInt64(2)} debit(s) summing to {r.GetDecimal(3)}"));
            return Task.CompletedTask;
        }, ct);

        return balances;
    }

    private static async Task ForEachRow(NpgsqlDataSource db, string sql, Func<NpgsqlDataReader, Task> row, CancellationToken ct)
    {
        await using var command = db.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            await row(reader);
        }
    }
}
