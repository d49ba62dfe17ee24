using ExBuy.Features.Audit;

namespace ExBuy.Features.Balance.Audit;

/// <summary>The audit's balance invariants: every balance is its ledger's sum, never negative, and no ledger without its document. One statement each, on the audit's snapshot.</summary>
internal sealed class BalanceChecks : SnapshotCheck
{
    public override async Task InSnapshotAsync(AuditSnapshot audit, CancellationToken ct)
    {
        var s = audit.Store.Options.DatabaseSchemaName;
        var e = audit.Store.Options.Events.DatabaseSchemaName;

        // Every balance equals the sum of its ledger and is never negative.
        long balances = 0;
        await audit.ForEachRow($"""
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
                audit.Violations.Add(new("balance_matches_ledger", id, $"balance {balance}, ledger sums to {ledger}"));
            }

            if (balance < 0)
            {
                audit.Violations.Add(new("no_negative_balance", id, $"balance {balance}"));
            }
        }, ct);

        // A ledger and its balance document go together (the balance is an inline projection of the ledger): a current
        // user's balance events without the document, or a document that has applied events the log does not hold.
        // POST /init deletes the users and their balance documents and keeps the events as history: a ledger whose user
        // is gone is that history.
        await audit.ForEachRow($"""
            select ev.stream_id, count(*), 'balance event(s) without the balance document'
            from {e}.mt_events ev join {s}.mt_doc_shopuser u on u.id = (ev.data ->> 'UserId')::bigint
            where ev.type in ('balance_charged', 'balance_debited', 'balance_refunded')
              and not exists (select 1 from {s}.mt_doc_userbalance b where b.id = ev.stream_id)
            group by ev.stream_id
            union all
            select b.id, (b.data ->> 'Version')::bigint, 'applied event(s) by the balance document, none in the event log'
            from {s}.mt_doc_userbalance b
            where (b.data ->> 'Version')::bigint > 0 and not exists (select 1 from {e}.mt_events ev where ev.stream_id = b.id)
            """, r => audit.Violations.Add(new("no_orphan_balance_ledger", r.GetString(0), $"{r.GetInt64(1)} {r.GetString(2)}")), ct);

        audit.Checked["balances"] = balances;
    }
}
