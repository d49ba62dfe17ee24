using ExBuy.Features.Inventory.Strategies;
using ExBuy.Infrastructure.Locking;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory;

/// <summary>Resolves a request's <c>lock_type</c> (or the configured default) to its strategy, built once.</summary>
public sealed class StockStrategies
{
    private readonly Dictionary<LockType, IStockStrategy> _strategies;
    private readonly IOptions<ConcurrencyOptions> _options;

    public StockStrategies(
        IDocumentStore store, RedisStock redisStock, RedisLockProviders locks, IOptions<ConcurrencyOptions> options)
    {
        _options = options;
        IStockStrategy[] all =
        [
            new OptimisticStockStrategy(store, redisStock, options),
            new RedisLockStockStrategy(LockType.Pessimistic, locks.SingleNode, store, redisStock, options),
            new RedisLockStockStrategy(LockType.Redlock, locks.Redlock, store, redisStock, options),
            new RowLockStockStrategy(store, redisStock, options),
            new AtomicStockStrategy(store, redisStock),
            new UnsafeStockStrategy(store, redisStock, options),
        ];
        _strategies = all.ToDictionary(s => s.Type, s => (IStockStrategy)new MeasuredStockStrategy(s));
    }

    public LockType Default => _options.Value.DefaultLockType;

    public IStockStrategy For(LockType? requested) => _strategies[requested ?? Default];
}
