using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Coupons;

/// <summary>
/// Coupons' part of the shop-flow seed: every coupon, policy, claim row and Redis gate of the previous seed goes (every
/// policy is deleted, so every gate is a leftover), then the plan's policies are created with their quantity, in
/// PostgreSQL and in their Redis gates.
/// </summary>
internal sealed class CouponsSeed(IDocumentStore store, CouponGate gate) : IModuleSeed
{
    public SeedStage Stage => SeedStage.Owners;

    public Task QueueClearAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        session.DeleteWhere<Coupon>(_ => true);
        session.DeleteWhere<CouponPolicy>(_ => true);
        return Task.CompletedTask;
    }

    public async Task AfterClearAsync(ShopFlowSeed seed, CancellationToken ct)
    {
        await CouponClaims.ClearAsync(store, ct);
        await gate.DeleteAllAsync();
    }

    public async Task QueueSeedAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        var ids = await IdSequences.NextAsync<CouponPolicy>(store, seed.Plan.PolicyCount, ct);
        session.Insert(ids.Select(id => new CouponPolicy
        {
            Id = id, Discount = seed.Plan.Discount, StartsAt = seed.Now.AddMinutes(-1), EndsAt = seed.Now.AddDays(3),
        }).ToArray());
        CouponPolicyStock.QueueOpen(session, ids, seed.Plan.CouponQuantity);
        seed.PolicyIds = ids;
    }

    public async Task AfterSeedAsync(ShopFlowSeed seed, CancellationToken ct)
    {
        foreach (var id in seed.PolicyIds)
        {
            await gate.OpenAsync(id, seed.Plan.CouponQuantity);
        }
    }
}
