using ExBuy.Infrastructure.Marten;
using Marten;
using StackExchange.Redis;

namespace ExBuy.Features.Inventory;

/// <summary>
/// Inventory's part of the shop-flow seed: the previous seed's products' stock rows and Redis copies go (without this the
/// keys of every earlier seed accumulated), and the new products get the plan's stock in both.
/// </summary>
internal sealed class InventorySeed(RedisStock redisStock, IConnectionMultiplexer redis) : IModuleSeed
{
    public SeedStage Stage => SeedStage.Dependents;

    public Task QueueClearAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        if (seed.PreviousProductIds.Count > 0)
        {
            ProductStock.QueueDelete(session, seed.PreviousProductIds);
        }

        return Task.CompletedTask;
    }

    public async Task AfterClearAsync(ShopFlowSeed seed, CancellationToken ct)
    {
        if (seed.PreviousProductIds.Count > 0)
        {
            await redis.GetDatabase().KeyDeleteAsync([.. seed.PreviousProductIds.Select(RedisStock.Key)]);
        }
    }

    public Task QueueSeedAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        ProductStock.QueueCreate(session, seed.ProductIds.Select(id => (id, seed.Plan.Stock)).ToList());
        return Task.CompletedTask;
    }

    public async Task AfterSeedAsync(ShopFlowSeed seed, CancellationToken ct)
    {
        foreach (var id in seed.ProductIds)
        {
            await redisStock.InitializeAsync(id, seed.Plan.Stock, overwrite: true);
        }
    }
}
