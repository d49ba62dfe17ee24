using System.Globalization;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Redis;
using StackExchange.Redis;

namespace ExBuy.Features.Audit;

/// <summary>A coupon policy's gate as Redis held it: the remaining counter (null: no key) and the requesters.</summary>
public sealed record GateReading(long? Remaining, IReadOnlySet<long> Requested);

/// <summary>
/// The Redis copies the audit compares with its PostgreSQL snapshot, read once before the snapshot and once after it
/// (see <see cref="AuditEndpoint"/> for the rule): every product's stock key and every coupon policy's gate.
/// </summary>
public sealed record RedisReading(IReadOnlyDictionary<long, int> Stock, IReadOnlyDictionary<long, GateReading> Gates)
{
    public static async Task<RedisReading> ReadAsync(IConnectionMultiplexer redis, RedisStock redisStock, CouponGate gate)
    {
        var stock = await redisStock.AllAsync();
        var gates = new Dictionary<long, GateReading>();
        await foreach (var key in RedisSetup.ScanAsync(redis, "exbuy:coupon:*:remaining"))
        {
            if (long.TryParse(key.ToString().Split(':')[2], NumberStyles.None, CultureInfo.InvariantCulture, out var policyId))
            {
                gates[policyId] = await ReadGateAsync(gate, policyId);
            }
        }

        return new RedisReading(stock, gates);
    }

    /// <summary>One policy's gate; a policy the first reading did not find is read on its own.</summary>
    public static async Task<GateReading> ReadGateAsync(CouponGate gate, long policyId) =>
        new(await gate.RemainingAsync(policyId), await gate.RequestedAsync(policyId));
}
