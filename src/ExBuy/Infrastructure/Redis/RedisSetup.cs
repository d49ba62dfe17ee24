using StackExchange.Redis;

namespace ExBuy.Infrastructure.Redis;

public static class RedisSetup
{
    public static WebApplicationBuilder AddExBuyRedis(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Redis")
            ?? throw new InvalidOperationException("ConnectionStrings:Redis is not set.");

        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(connectionString));
        return builder;
    }

    /// <summary>Deletes every ExBuy key (<c>exbuy:*</c>: stock copies, coupon gates, rankings, locks) from the data Redis.</summary>
    public static async Task DeleteExBuyKeysAsync(IConnectionMultiplexer redis)
    {
        var db = redis.GetDatabase();
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsReplica)
            {
                continue;
            }

            var batch = new List<RedisKey>(1000);
            await foreach (var key in server.KeysAsync(pattern: "exbuy:*", pageSize: 1000))
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
}
