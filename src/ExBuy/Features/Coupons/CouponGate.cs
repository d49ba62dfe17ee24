using ExBuy.Infrastructure.Redis;
using StackExchange.Redis;

namespace ExBuy.Features.Coupons;

public enum Admission
{
    Admitted,
    Duplicate,
    SoldOut,

    /// <summary>The policy's counter is not in Redis (Redis restarted empty, or lost its data): rebuild it from PostgreSQL first.</summary>
    Missing,
}

/// <summary>What a reconciliation did to one policy's gate.</summary>
public sealed record GateRepair(int Added, int Removed, long? RemainingBefore, long RemainingAfter)
{
    public bool Changed => Added > 0 || Removed > 0 || RemainingBefore != RemainingAfter;
}

/// <summary>
/// The Redis filter in front of the claims table, one Lua call per claim: the requested set (a sorted set, scored
/// with the Redis clock at admission) blocks a user's second claim, the counter turns claims away once the quantity
/// is spoken for. Every script keeps <c>remaining = quantity − |requested|</c>. Nothing here is final: PostgreSQL
/// holds the claims, and <see cref="CouponGateReconciler"/> brings the gate back to it.
/// </summary>
public sealed class CouponGate(IConnectionMultiplexer redis)
{
    // KEYS: requested, remaining. ARGV: user. -3 missing, -1 duplicate, -2 sold out, else what is left.
    // "remaining may not go below zero" is the second statement of the rule "never more than the quantity", and the
    // unavoidable one: the rule itself is the check constraint of coupon_policy_stock (CouponPolicyStock), which has
    // the last word; this gate only turns claims away before they reach PostgreSQL.
    private const string AdmitScript = """
        if redis.call('EXISTS', KEYS[2]) == 0 then return -3 end
        if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
        local left = redis.call('DECR', KEYS[2])
        if left < 0 then
          redis.call('INCR', KEYS[2])
          return -2
        end
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
        return left
        """;

    // The unit goes back only when this call took the user out: a second release of one claim changes nothing.
    private const string ReleaseScript = """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 and redis.call('EXISTS', KEYS[2]) == 1 then
          redis.call('INCR', KEYS[2])
          return 1
        end
        return 0
        """;

    // KEYS: requested, remaining. ARGV: quantity, grace (ms), n, n users PostgreSQL knows, then the removal candidates
    // (members PostgreSQL does not know). Known users are added with score 0 (older than any grace); a candidate is
    // removed only if it is still older than the grace, so an admission whose claim has not committed yet stays.
    private const string ReconcileScript = """
        local t = redis.call('TIME')
        local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[2])
        local n = tonumber(ARGV[3])
        local added, removed = 0, 0
        for i = 4, 3 + n do
          added = added + redis.call('ZADD', KEYS[1], 'NX', 0, ARGV[i])
        end
        for i = 4 + n, #ARGV do
          local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
          if score and tonumber(score) < oldest then
            removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
          end
        end
        local before = redis.call('GET', KEYS[2])
        local after = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
        redis.call('SET', KEYS[2], after)
        return {added, removed, before or 'missing', after}
        """;

    private IDatabase Db => redis.GetDatabase();

    public static RedisKey Requested(long policyId) => $"exbuy:coupon:{policyId}:requested";

    public static RedisKey Remaining(long policyId) => $"exbuy:coupon:{policyId}:remaining";

    /// <summary>Every gate's keys: <c>exbuy:coupon:{policy}:…</c>.</summary>
    public const string KeyPattern = "exbuy:coupon:*";

    /// <summary>
    /// Deletes every policy's gate (both keys), scanned a page at a time. For <c>POST /init</c>, after it deleted every
    /// policy in PostgreSQL: without this the gates of the policies it replaced stayed in Redis run after run.
    /// Returns how many keys it deleted.
    /// </summary>
    public async Task<long> DeleteAllAsync()
    {
        long deleted = 0;
        var batch = new List<RedisKey>(1000);
        await foreach (var key in RedisSetup.ScanAsync(redis, KeyPattern))
        {
            batch.Add(key);
            if (batch.Count == 1000)
            {
                deleted += await Db.KeyDeleteAsync([.. batch]);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            deleted += await Db.KeyDeleteAsync([.. batch]);
        }

        return deleted;
    }

    public async Task OpenAsync(long policyId, int quantity)
    {
        var transaction = Db.CreateTransaction();
        _ = transaction.KeyDeleteAsync(Requested(policyId));
        _ = transaction.StringSetAsync(Remaining(policyId), quantity);
        await transaction.ExecuteAsync();
    }

    public async Task<Admission> AdmitAsync(long policyId, long userId)
    {
        var result = (long)await Db.ScriptEvaluateAsync(AdmitScript, [Requested(policyId), Remaining(policyId)], [userId]);
        return result switch
        {
            -3 => Admission.Missing,
            -1 => Admission.Duplicate,
            -2 => Admission.SoldOut,
            _ => Admission.Admitted,
        };
    }

    /// <summary>Gives an admission back: the claim was not recorded, or PostgreSQL refused it. True when this call did.</summary>
    public async Task<bool> ReleaseAsync(long policyId, long userId) =>
        (long)await Db.ScriptEvaluateAsync(ReleaseScript, [Requested(policyId), Remaining(policyId)], [userId]) == 1;

    /// <summary>
    /// Brings the gate to PostgreSQL's truth: every user PostgreSQL knows is in the requested set, members it does not
    /// know are dropped once older than <paramref name="grace"/>, and the counter is set to quantity − |requested|.
    /// </summary>
    public async Task<GateRepair> ReconcileAsync(PolicyTruth truth, TimeSpan grace)
    {
        var known = truth.Requested.ToHashSet();
        var members = await Db.SortedSetRangeByRankAsync(Requested(truth.PolicyId));
        var present = new HashSet<long>(members.Length);
        var candidates = new List<RedisValue>();
        foreach (var member in members)
        {
            var user = (long)member;
            present.Add(user);
            if (!known.Contains(user))
            {
                candidates.Add(member);
            }
        }

        var missing = known.Where(u => !present.Contains(u)).Select(u => (RedisValue)u).ToList();
        RedisValue[] args = [truth.Quantity, (long)grace.TotalMilliseconds, missing.Count, .. missing, .. candidates];
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(ReconcileScript, [Requested(truth.PolicyId), Remaining(truth.PolicyId)], args))!;
        var before = result[2].ToString();
        return new GateRepair((int)result[0], (int)result[1], before == "missing" ? null : long.Parse(before, System.Globalization.CultureInfo.InvariantCulture), (long)result[3]);
    }

    public async Task<long?> RemainingAsync(long policyId)
    {
        var value = await Db.StringGetAsync(Remaining(policyId));
        return value.IsNull ? null : (long)value;
    }

    public Task<long> RequestedCountAsync(long policyId) => Db.SortedSetLengthAsync(Requested(policyId));

    public async Task<HashSet<long>> RequestedAsync(long policyId) =>
        (await Db.SortedSetRangeByRankAsync(Requested(policyId))).Select(v => (long)v).ToHashSet();
}
