using Medallion.Threading;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace ExBuy.Infrastructure.Locking;

/// <summary>The two Medallion lock providers: one Redis, and RedLock across the configured nodes.</summary>
public sealed class RedisLockProviders(IDistributedLockProvider singleNode, IDistributedLockProvider? redlock, int redlockNodes)
{
    public IDistributedLockProvider SingleNode { get; } = singleNode;

    /// <summary>Null when <c>ConnectionStrings:RedlockNodes</c> is empty.</summary>
    public IDistributedLockProvider? Redlock { get; } = redlock;

    public int RedlockNodes { get; } = redlockNodes;
}

public static class LockingSetup
{
    public static WebApplicationBuilder AddExBuyLocking(this WebApplicationBuilder builder)
    {
        var nodes = (builder.Configuration.GetConnectionString("RedlockNodes") ?? string.Empty)
            .Split([';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        builder.Services.AddSingleton(sp =>
        {
            var main = sp.GetRequiredService<IConnectionMultiplexer>();
            var singleNode = new RedisDistributedSynchronizationProvider(main.GetDatabase());
            if (nodes.Length == 0)
            {
                return new RedisLockProviders(singleNode, null, 0);
            }

            // One connection per node; a node that is down fails its vote at once instead of stalling the quorum.
            var databases = nodes
                .Select(node => ConnectionMultiplexer.Connect($"{node},abortConnect=false,connectTimeout=500,syncTimeout=500,asyncTimeout=500,connectRetry=1").GetDatabase())
                .ToList();
            return new RedisLockProviders(singleNode, new RedisDistributedSynchronizationProvider(databases), nodes.Length);
        });
        return builder;
    }

    public static string ProductLockName(long productId) => $"exbuy:lock:product:{productId}";
}
