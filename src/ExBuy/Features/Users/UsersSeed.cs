using ExBuy.Infrastructure.Marten;
using Marten;
using Weasel.Core;

namespace ExBuy.Features.Users;

/// <summary>Users' part of the shop-flow seed: the previous users go, u1..uN come, COPYed in after the seed's commit.</summary>
internal sealed class UsersSeed(IDocumentStore store) : IModuleSeed
{
    public SeedStage Stage => SeedStage.Owners;

    public Task QueueClearAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        session.DeleteWhere<ShopUser>(_ => true);
        return Task.CompletedTask;
    }

    public async Task QueueSeedAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        var ids = await IdSequences.NextAsync<ShopUser>(store, Math.Max(seed.Plan.UserCount, 1), ct);
        seed.UserIds = ids.Take(seed.Plan.UserCount).ToArray();
    }

    public async Task AfterSeedAsync(ShopFlowSeed seed, CancellationToken ct)
    {
        if (seed.UserIds.Count > 0)
        {
            await store.BulkInsertAsync(Users(seed), BulkInsertMode.InsertsOnly, 5_000, ct);
        }
    }

    /// <summary>The seed's users, u1..uN with the ids <see cref="QueueSeedAsync"/> took.</summary>
    public static List<ShopUser> Users(ShopFlowSeed seed) =>
        seed.UserIds.Select((id, i) => new ShopUser { Id = id, Name = $"u{i + 1}", CreatedAt = seed.Now }).ToList();
}
