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
}
