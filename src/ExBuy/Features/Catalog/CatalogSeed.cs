using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Catalog;

/// <summary>
/// Catalog's part of the shop-flow seed: the previous seed's products go (their ids, from the storefront record, are
/// handed on so their stock goes too), and p1..pN are created at the plan's price.
/// </summary>
internal sealed class CatalogSeed(IDocumentStore store) : IModuleSeed
{
    public SeedStage Stage => SeedStage.Owners;

    public async Task QueueClearAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        var previous = await session.LoadAsync<StorefrontState>(StorefrontState.CurrentId, ct);
        if (previous is null)
        {
            return;
        }

        foreach (var id in previous.ProductIds)
        {
            session.Delete<Product>(id);
        }

        seed.PreviousProductIds = previous.ProductIds;
    }

    public async Task QueueSeedAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        var ids = await IdSequences.NextAsync<Product>(store, seed.Plan.ProductCount, ct);
        session.Insert(ids.Select((id, i) => new Product
        {
            Id = id, Name = $"p{i + 1}", Description = "Shop-flow product", Category = "electronics",
            Price = seed.Plan.Price, CreatedAt = seed.Now, UpdatedAt = seed.Now,
        }).ToArray());
        seed.ProductIds = ids;
    }
}

/// <summary>The storefront record (<see cref="StorefrontState"/>): what this seed set up, for <c>GET /products</c> and the next seed.</summary>
internal sealed class StorefrontSeed : IModuleSeed
{
    public SeedStage Stage => SeedStage.Dependents;

    public Task QueueSeedAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        session.Store(new StorefrontState { ProductIds = [.. seed.ProductIds], PolicyIds = [.. seed.PolicyIds], InitializedAt = seed.Now });
        return Task.CompletedTask;
    }
}
