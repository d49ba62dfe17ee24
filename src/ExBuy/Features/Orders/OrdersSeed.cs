using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Orders;

/// <summary>Orders' part of the shop-flow seed: the previous users' idempotency records go; orders and their events stay as history.</summary>
internal sealed class OrdersSeed : IModuleSeed
{
    public SeedStage Stage => SeedStage.Owners;

    public Task QueueClearAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        session.DeleteWhere<IdempotencyRecord>(_ => true);
        return Task.CompletedTask;
    }
}
