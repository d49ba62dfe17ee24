using ExBuy.Features.Inventory;
using Microsoft.Extensions.Options;
using Medallion.Threading;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace ExBuy.Infrastructure.Locking;

/// <summary>The two Medallion lock providers: one Redis, and RedLock across the configured nodes.</summary>
public sealed class RedisLockProviders(
    IDistributedLockProvider singleNode, IDistributedLockProvider? redlock, IReadOnlyList<IConnectionMultiplexer> redlockConnections)
{
    public IDistributedLockProvider SingleNode { get; } = singleNode;

    /// <summary>Null when <c>ConnectionStrings:RedlockNodes</c> is empty.</summary>
    public IDistributedLockProvider? Redlock { get; } = redlock;

    public IReadOnlyList<IConnectionMultiplexer> RedlockConnections { get; } = redlockConnections;
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
            var concurrency = sp.GetRequiredService<IOptions<ConcurrencyOptions>>().Value;
            Action<RedisDistributedSynchronizationOptionsBuilder> poll = o => o.BusyWaitSleepTime(
                TimeSpan.FromMilliseconds(concurrency.LockPollMinMs), TimeSpan.FromMilliseconds(concurrency.LockPollMaxMs));
            var singleNode = new RedisDistributedSynchronizationProvider(main.GetDatabase(), poll);
            if (nodes.Length == 0)
            {
                return new RedisLockProviders(singleNode, null, []);
            }

            // One connection per node; a node that is down fails its vote at once (no backlog) instead of stalling the quorum.
            var connections = nodes.Select(node =>
            {
                var options = ConfigurationOptions.Parse($"{node},abortConnect=false,connectTimeout=500,syncTimeout=500,asyncTimeout=500,connectRetry=1");
                options.BacklogPolicy = BacklogPolicy.FailFast;
                return (IConnectionMultiplexer)ConnectionMultiplexer.Connect(options);
            }).ToList();
            return new RedisLockProviders(singleNode, new RedisDistributedSynchronizationProvider(connections.Select(c => c.GetDatabase()), poll), connections);
        });
        return builder;
    }

    public static string ProductLockName(long productId) => $"exbuy:lock:product:{productId}";
}
