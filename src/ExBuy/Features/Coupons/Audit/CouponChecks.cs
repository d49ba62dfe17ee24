using System.Globalization;
using ExBuy.Features.Audit;
using ExBuy.Infrastructure.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ExBuy.Features.Coupons.Audit;

/// <summary>A coupon policy's gate as Redis held it: the remaining counter (null: no key) and the requesters.</summary>
internal sealed record GateReading(long? Remaining, IReadOnlySet<long> Requested);

/// <summary>What the coupon checks read from the snapshot, for the comparison with the Redis gates after it.</summary>
internal sealed record CouponSnapshot(IReadOnlyList<CouponPolicyCounts> Counts, IReadOnlyDictionary<long, PolicyTruth> Truths);

/// <summary>
/// The audit's coupon invariants: per policy, the coupons within the quantity and equal to the issued count, no claim
/// stuck, each claim issued once, each coupon worth its policy's discount; and every policy's Redis gate (its counter and
/// its requested set) against the snapshot, judged only when it held still between the readings before and after the
/// snapshot (the rule: <see cref="AuditEndpoint"/>).
/// </summary>
internal sealed class CouponChecks(IConnectionMultiplexer redis, CouponGate gate, IOptions<CouponOptions> options) : IAuditCheck
{
    public async Task<IAuditCheckRun> BeginAsync(CancellationToken ct) =>
        new Run(redis, gate, TimeSpan.FromSeconds(options.Value.StuckClaimSeconds), await ReadGatesAsync(redis, gate));

    private sealed class Run(IConnectionMultiplexer redis, CouponGate gate, TimeSpan stuckAfter, IReadOnlyDictionary<long, GateReading> before) : IAuditCheckRun
    {
        private CouponSnapshot? _coupons;

        public async Task InSnapshotAsync(AuditSnapshot audit, CancellationToken ct)
        {
            var s = audit.Store.Options.DatabaseSchemaName;
            _coupons = await CheckCouponsAsync(audit, stuckAfter, ct);

            // One coupon per user and policy needs no check: the unique index on (PolicyId, UserId) refuses a second one
            // (CouponsRegistration). What can drift is the coupon's worth: the policy's discount, copied at issue.
            await audit.ForEachRow($"""
                select c.id, (c.data ->> 'Discount')::numeric, p.id, (p.data ->> 'Discount')::numeric
                from {s}.mt_doc_coupon c join {s}.mt_doc_couponpolicy p on p.id = (c.data ->> 'PolicyId')::bigint
                where (c.data ->> 'Discount')::numeric <> (p.data ->> 'Discount')::numeric
                """, r => audit.Violations.Add(new("coupon_discount_matches_policy", $"coupon {r.GetInt64(0)}",
                    $"discount {r.GetDecimal(1)}, policy {r.GetInt64(2)} gives {r.GetDecimal(3)}")), ct);
        }

        public async Task AfterSnapshotAsync(AuditSnapshot audit, CancellationToken ct)
        {
            var after = await ReadGatesAsync(redis, gate);
            foreach (var policy in _coupons!.Counts.Where(c => !after.ContainsKey(c.PolicyId)))
            {
                after[policy.PolicyId] = await ReadGateAsync(gate, policy.PolicyId);
            }

            audit.InFlight += CompareGates(_coupons, before, after, audit.Violations);
        }
    }

    /// <summary>Every coupon policy's gate in Redis, read once before the snapshot and once after it.</summary>
    private static async Task<Dictionary<long, GateReading>> ReadGatesAsync(IConnectionMultiplexer redis, CouponGate gate)
    {
        var gates = new Dictionary<long, GateReading>();
        await foreach (var key in RedisSetup.ScanAsync(redis, "exbuy:coupon:*:remaining"))
        {
            if (long.TryParse(key.ToString().Split(':')[2], NumberStyles.None, CultureInfo.InvariantCulture, out var policyId))
            {
                gates[policyId] = await ReadGateAsync(gate, policyId);
            }
        }

        return gates;
    }

    /// <summary>One policy's gate; a policy the first reading did not find is read on its own.</summary>
    private static async Task<GateReading> ReadGateAsync(CouponGate gate, long policyId) =>
        new(await gate.RemainingAsync(policyId), await gate.RequestedAsync(policyId));

    /// <summary>
    /// Per policy (its counter row, <see cref="CouponPolicyStock"/>): issued and coupon rows ≤ quantity, issued = coupon
    /// rows, no claim in flight longer than <paramref name="stuckAfter"/>. Per claim: issued ⇔ exactly one coupon carries
    /// its id. The Redis side is compared after the snapshot (<see cref="CompareGates"/>).
    /// </summary>
    private static async Task<CouponSnapshot> CheckCouponsAsync(AuditSnapshot audit, TimeSpan stuckAfter, CancellationToken ct)
    {
        var (connection, store) = (audit.Connection, audit.Store);
        var truths = (await CouponClaims.TruthAsync(connection, store, null, ct)).ToDictionary(t => t.PolicyId);
        var counts = await CouponPolicyCounts.ReadAsync(connection, store, stuckAfter, null, ct);
        foreach (var c in counts)
        {
            var subject = $"policy {c.PolicyId}";
            // The issued count cannot pass the quantity (the counter's check constraint, CouponPolicyStock); coupon
            // rows can, if something inserts them without going through the counter. Both are counted.
            if (c.Issued > c.Quantity || c.Coupons > c.Quantity)
            {
                audit.Violations.Add(new("coupons_issued_within_quantity", subject, $"{c.Coupons} coupon(s), issued count {c.Issued}, of {c.Quantity}"));
            }

            if (c.Coupons != c.Issued)
            {
                audit.Violations.Add(new("coupons_match_issued_count", subject, $"{c.Coupons} coupons, issued count {c.Issued}"));
            }

            if (c.Stuck > 0)
            {
                audit.Violations.Add(new("coupon_claims_not_stuck", subject, $"{c.Stuck} claim(s) accepted more than {stuckAfter.TotalSeconds:0} s ago and neither issued nor failed"));
            }
        }

        await audit.ForEachRow($"""
            select c.claim_id, c.status, count(k.id)
            from {CouponClaims.Table(store)} c
            left join {store.Options.DatabaseSchemaName}.mt_doc_coupon k on k.data ->> 'ClaimId' = c.claim_id::text
            group by c.claim_id, c.status
            having (c.status = 'issued') <> (count(k.id) = 1) or count(k.id) > 1
            """, r => audit.Violations.Add(new("coupon_claim_issued_once", $"claim {r.GetGuid(0)}", $"status {r.GetString(1)} with {r.GetInt64(2)} coupon(s)")), ct);

        return new CouponSnapshot(counts, truths);
    }

    /// <summary>
    /// Per policy of the snapshot, the Redis gate read before and after it: the counter exists and = quantity − issued
    /// − claims in flight, the requested set = the users with a coupon or a claim in flight. A counter (or a set) that
    /// differs between the two readings had a claim in flight while the audit ran and is not compared (see
    /// <see cref="AuditEndpoint"/>).
    /// </summary>
    /// <returns>How many values were left out as in flight.</returns>
    private static int CompareGates(CouponSnapshot snapshot, IReadOnlyDictionary<long, GateReading> before, IReadOnlyDictionary<long, GateReading> after, List<AuditViolation> violations)
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
}
