using StackExchange.Redis;

namespace ExBuy.Features.Coupons;

public enum Admission
{
    Admitted,
    Duplicate,
    SoldOut,
}

/// <summary>
/// The first two stages of issuance in one Lua call: the requested-set blocks a user's second claim, the counter
/// turns claims away once the quantity is spoken for. Nothing here is final: the database decides, and the
/// issuance handler gives a refused admission back (<see cref="ReleaseAsync"/>).
/// </summary>
public sealed class CouponGate(IConnectionMultiplexer redis)
{
    private const string AdmitScript = """
        if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return -1 end
        if redis.call('EXISTS', KEYS[3]) == 1 then return -2 end
        local left = redis.call('DECR', KEYS[2])
        if left < 0 then
          redis.call('INCR', KEYS[2])
          return -2
        end
        redis.call('SADD', KEYS[1], ARGV[1])
        return left
        """;

    private IDatabase Db => redis.GetDatabase();

    public static RedisKey Requested(long policyId) => $"exbuy:coupon:{policyId}:requested";

    public static RedisKey Remaining(long policyId) => $"exbuy:coupon:{policyId}:remaining";

    public static RedisKey SoldOut(long policyId) => $"exbuy:coupon:{policyId}:sold-out";

    public Task OpenAsync(long policyId, int quantity) =>
        Task.WhenAll(
            Db.KeyDeleteAsync([Requested(policyId), SoldOut(policyId)]),
            Db.StringSetAsync(Remaining(policyId), quantity));

    public async Task<Admission> AdmitAsync(long policyId, long userId)
    {
        var result = (long)await Db.ScriptEvaluateAsync(AdmitScript, [Requested(policyId), Remaining(policyId), SoldOut(policyId)], [userId]);
        return result switch
        {
            -1 => Admission.Duplicate,
            -2 => Admission.SoldOut,
            _ => Admission.Admitted,
        };
    }

    /// <summary>Compensation: the database refused, so the unit goes back and the user may claim again.</summary>
    public async Task ReleaseAsync(long policyId, long userId, bool soldOut)
    {
        var batch = Db.CreateBatch();
        var tasks = new List<Task> { batch.StringIncrementAsync(Remaining(policyId)), batch.SetRemoveAsync(Requested(policyId), userId) };
        if (soldOut)
        {
            // The database is out: stop admitting at the gate even if the counter drifted.
            tasks.Add(batch.StringSetAsync(SoldOut(policyId), 1));
        }

        batch.Execute();
        await Task.WhenAll(tasks);
    }

    public async Task<long?> RemainingAsync(long policyId)
    {
        var value = await Db.StringGetAsync(Remaining(policyId));
        return value.IsNull ? null : (long)value;
    }

    public Task<long> RequestedCountAsync(long policyId) => Db.SetLengthAsync(Requested(policyId));
}
