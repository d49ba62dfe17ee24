using ExBuy.Features.Inventory.Strategies;
using ExBuy.Infrastructure.Locking;
using ExBuy.Infrastructure.Resilience;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory;

/// <summary>Resolves a request's <c>lock_type</c> (or the configured default) to its strategy, built once.</summary>
public sealed class StockStrategies : IAsyncDisposable
{
    private readonly Dictionary<LockType, IStockStrategy> _strategies;
    private readonly IOptions<ConcurrencyOptions> _options;
    private readonly BatchedStockStrategy _batched;

    public StockStrategies(
        IDocumentStore store, RedisStock redisStock, RedisLockProviders locks, AfterCommit afterCommit, IOptions<ConcurrencyOptions> options,
        ILogger<BatchedStockStrategy> batchLogger)
    {
        _options = options;
        IStockStrategy[] all =
        [
            new OptimisticStockStrategy(store, redisStock, afterCommit, options),
            new RedisLockStockStrategy(LockType.Pessimistic, locks.SingleNode, store, redisStock, afterCommit, options),
            new RedisLockStockStrategy(LockType.Redlock, locks.Redlock, store, redisStock, afterCommit, options),
            new RowLockStockStrategy(store, redisStock, afterCommit, options),
            new AtomicStockStrategy(store, redisStock, afterCommit),
            _batched = new BatchedStockStrategy(store, redisStock, afterCommit, options, batchLogger),
            new UnsafeStockStrategy(store, redisStock, afterCommit, options),
        ];
        _strategies = all.ToDictionary(s => s.Type, s => (IStockStrategy)new MeasuredStockStrategy(s));
    }

    public LockType Default => _options.Value.DefaultLockType;

    public IStockStrategy For(LockType? requested) => _strategies[requested ?? Default];

    /// <summary>The group-commit strategy itself (unwrapped), for diagnostics and tests.</summary>
    public BatchedStockStrategy Batched => _batched;

    public ValueTask DisposeAsync() => _batched.DisposeAsync();
}
