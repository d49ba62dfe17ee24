using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Coupons;

/// <summary>
/// The Coupons module's hand-written statements, in one place: on its own Weasel tables <c>coupon_claims</c>
/// (<see cref="CouponClaims"/>) and <c>coupon_policy_stock</c> (<see cref="CouponPolicyStock"/>), which have no Marten
/// document or LINQ provider, and the few that read its documents beside them. Each says in one line why it is
/// hand-written beyond that. Marten's queued commands (<c>QueueSqlCommand</c>) use its <c>?</c> placeholders; the
/// others Npgsql's <c>$n</c>. The quantity rule is in none of them: it is the counter table's check constraint
/// (<see cref="CouponPolicyStock.WithinQuantity"/>), which <c>CouponQuantityFormsTests</c> holds equal to its other forms.
/// </summary>
public static class CouponsSql
{
    private static string Coupons(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.mt_doc_coupon";

    private static string Policies(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.mt_doc_couponpolicy";

    // ---- coupon_claims -------------------------------------------------------------------------------------------

    /// <summary>One claim's row, queued (? claim, policy, user, request id). Hand-written: a Weasel table.</summary>
    public static string QueueAcceptClaim(IDocumentStore store) =>
        $"insert into {CouponClaims.Table(store)} (claim_id, policy_id, user_id, request_id) values (?, ?, ?, ?)";

    /// <summary>A batch's claim rows, queued (four ? arrays). Hand-written: one multi-row insert from unnest.</summary>
    public static string QueueAcceptClaims(IDocumentStore store) =>
        $"insert into {CouponClaims.Table(store)} (claim_id, policy_id, user_id, request_id) select * from unnest(?::uuid[], ?::bigint[], ?::bigint[], ?::text[])";

    /// <summary>A claim still in flight ($1) marked failed. Hand-written: a conditional transition, its count tells the one caller that made it.</summary>
    public static string FailClaim(IDocumentStore store) =>
        $"update {CouponClaims.Table(store)} set status = 'failed', settled_at = now() where claim_id = $1 and status = 'accepted'";

    /// <summary>Issued claims settled with their coupon ids, queued (? claim ids, ? coupon ids). Hand-written: a set-based UPDATE … FROM unnest.</summary>
    public static string QueueSettleIssued(IDocumentStore store) =>
        $"""
         update {CouponClaims.Table(store)} c set status = '{CouponClaims.Issued}', coupon_id = x.coupon_id, settled_at = now()
         from unnest(?::uuid[], ?::bigint[]) as x(claim_id, coupon_id) where c.claim_id = x.claim_id
         """;

    /// <summary>Sold-out claims settled failed, queued (? claim ids). Hand-written: a Weasel table.</summary>
    public static string QueueSettleSoldOut(IDocumentStore store) =>
        $"update {CouponClaims.Table(store)} set status = '{CouponClaims.Failed}', settled_at = now() where claim_id = any(?::uuid[])";

    /// <summary>The issuance's claims ($1) still accepted, locked in id order. Hand-written: row locks on a Weasel table.</summary>
    public static string LockAcceptedClaims(IDocumentStore store) =>
        $"select claim_id, policy_id, user_id, created_at from {CouponClaims.Table(store)} where claim_id = any($1) and status = '{CouponClaims.Accepted}' order by claim_id for update";

    /// <summary>Claims in flight for longer than $1, oldest first, at most $2. Hand-written: a Weasel table.</summary>
    public static string StaleClaims(IDocumentStore store) =>
        $"""
         select claim_id from {CouponClaims.Table(store)}
         where status = 'accepted' and coalesce(recovered_at, created_at) < now() - $1
         order by created_at
         limit $2
         """;

    /// <summary>Of the stale claims $1 (older than $2), those no issuance holds, stamped and returned. Hand-written: <c>for update skip locked</c>.</summary>
    public static string TakeStaleClaims(IDocumentStore store) =>
        $"""
         update {CouponClaims.Table(store)} c set recovered_at = now()
         from (select claim_id from {CouponClaims.Table(store)}
               where claim_id = any($1) and status = 'accepted' and coalesce(recovered_at, created_at) < now() - $2
               for update skip locked) taken
         where c.claim_id = taken.claim_id
         returning c.claim_id, c.policy_id, c.user_id
         """;

    // ---- coupon_policy_stock -------------------------------------------------------------------------------------

    /// <summary>The policies' counters opened, nothing issued, queued (? ids, ? quantity). Hand-written: a Weasel table.</summary>
    public static string QueueOpenCounters(IDocumentStore store) =>
        $"insert into {CouponPolicyStock.Table(store)} (policy_id, quantity) select unnest(?::bigint[]), ?";

    /// <summary>
    /// A policy's issued count raised, queued (? count, ? policy). No quantity check here: the check constraint is the
    /// rule and refuses the commit. Hand-written: a Weasel table.
    /// </summary>
    public static string QueueRaiseIssued(IDocumentStore store) =>
        $"update {CouponPolicyStock.Table(store)} set issued = issued + ? where policy_id = ?";

    /// <summary>
    /// The counters of the claims' ($1) policies with their policy documents, locked in policy order. Hand-written: a row
    /// lock on the Weasel table joined to Marten's document in the issuance's one round trip.
    /// </summary>
    public static string LockCountersWithPolicies(IDocumentStore store) =>
        $"""
         select s.quantity, s.issued, p.data
         from {CouponPolicyStock.Table(store)} s join {Policies(store)} p on p.id = s.policy_id
         where s.policy_id in (select policy_id from {CouponClaims.Table(store)} where claim_id = any($1) and status = '{CouponClaims.Accepted}')
         order by s.policy_id
         for update of s
         """;

    /// <summary>$1 fresh coupon ids from Marten's sequence. Hand-written: many ids in the issuance's round trip, where Marten's HiLo hands them per session.</summary>
    public static string NewCouponIds(IDocumentStore store) =>
        $"select nextval('{store.Options.DatabaseSchemaName}.{IdSequences.SequenceName<Coupon>()}') from generate_series(1, $1) order by 1";

    /// <summary>
    /// Upgrade: policies whose quantity and issued count live only in their document get their counter row (the count
    /// capped to satisfy the constraint). Hand-written: an idempotent insert from the old document fields, once at start.
    /// </summary>
    public static string BackfillCounters(IDocumentStore store) => $"""
        insert into {CouponPolicyStock.Table(store)} (policy_id, quantity, issued)
        select p.id, q.quantity, least(greatest(coalesce((p.data ->> 'Issued')::int, 0), 0), q.quantity)
        from {Policies(store)} p
        cross join lateral (select greatest(coalesce((p.data ->> 'Quantity')::int, 0), 0) as quantity) q
        where p.data ? 'Quantity'
          and not exists (select 1 from {CouponPolicyStock.Table(store)} s where s.policy_id = p.id)
        on conflict (policy_id) do nothing
        """;

    // ---- reads across the module's tables -------------------------------------------------------------------------

    /// <summary>
    /// PostgreSQL's truth for the Redis gates ($1 a policy or null for all): quantity and the users with a claim in
    /// flight or a coupon. Hand-written: the union of a Weasel table and Marten's documents in one snapshot.
    /// </summary>
    public static string GateTruth(IDocumentStore store) =>
        $"""
         select p.policy_id, p.quantity,
                array(select c.user_id from {CouponClaims.Table(store)} c where c.policy_id = p.policy_id and c.status <> 'failed'
                      union
                      select k.user_id from {Coupons(store)} k where (k.data ->> 'PolicyId')::bigint = p.policy_id)
         from {CouponPolicyStock.Table(store)} p
         where $1::bigint is null or p.policy_id = $1
         order by p.policy_id
         """;

    /// <summary>
    /// Per policy ($1 one or null, $2 stuck after): quantity, issued, coupons, claims in flight, claims stuck.
    /// Hand-written: one statement over the counters, the claims and the coupons, in the audit's snapshot too.
    /// </summary>
    public static string PolicyCounts(IDocumentStore store) =>
        $"""
         select p.policy_id, p.quantity, p.issued,
                (select count(*) from {Coupons(store)} k where (k.data ->> 'PolicyId')::bigint = p.policy_id),
                (select count(*) from {CouponClaims.Table(store)} c where c.policy_id = p.policy_id and c.status = 'accepted'),
                (select count(*) from {CouponClaims.Table(store)} c where c.policy_id = p.policy_id and c.status = 'accepted' and c.created_at < now() - $2)
         from {CouponPolicyStock.Table(store)} p
         where $1::bigint is null or p.policy_id = $1
         order by p.policy_id
         """;

    /// <summary>Every claim and counter gone (a reset). Hand-written: Weasel tables.</summary>
    public static string ClearClaimsAndCounters(IDocumentStore store) =>
        $"delete from {CouponClaims.Table(store)}; delete from {CouponPolicyStock.Table(store)}";

    /// <summary>The gate reconciler's advisory lock ($1), tried: one reconciler at a time. Hand-written: Marten has no advisory-lock API on a plain transaction.</summary>
    public const string TryReconcilerLock = "select pg_try_advisory_xact_lock($1)";
}
