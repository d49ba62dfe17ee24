using StackExchange.Redis;

namespace ExBuy.Infrastructure.Redis;

public static class RedisSetup
{
    public static WebApplicationBuilder AddExBuyRedis(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Redis")
            ?? throw new InvalidOperationException("ConnectionStrings:Redis is not set.");

        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var redis = ConnectionMultiplexer.Connect(connectionString);
            ExBuy.Infrastructure.Observability.ObservabilitySetup.ConfigureRedis(sp, redis);
            return redis;
        });
        return builder;
    }

    /// <summary>Every key matching <paramref name="pattern"/> on the primaries, scanned (never KEYS) a page at a time.</summary>
    public static async IAsyncEnumerable<RedisKey> ScanAsync(IConnectionMultiplexer redis, string pattern)
    {
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsReplica)
            {
                continue;
            }

            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                yield return key;
            }
        }
    }

    /// <summary>Deletes every ExBuy key (<c>exbuy:*</c>: stock copies, coupon gates, rankings, locks) from the data Redis.</summary>
    public static async Task DeleteExBuyKeysAsync(IConnectionMultiplexer redis)
    {
        var db = redis.GetDatabase();
        var batch = new List<RedisKey>(1000);
        await foreach (var key in ScanAsync(redis, "exbuy:*"))
        {
            batch.Add(key);
            if (batch.Count == 1000)
            {
                await db.KeyDeleteAsync(batch.ToArray());
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            await db.KeyDeleteAsync(batch.ToArray());
        }
    }
}
