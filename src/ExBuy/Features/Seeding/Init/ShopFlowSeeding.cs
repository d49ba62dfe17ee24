using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Seeding.Init;

/// <summary>
/// Runs every module's part of the shop-flow seed (<see cref="IModuleSeed"/>), owners before dependents, in
/// registration order within a stage: the previous seed cleared (one unit of work, then what lies outside it), then the
/// new one set up the same way. The seeding slice names no module's documents, tables or keys.
/// </summary>
public static class ShopFlowSeeding
{
    public static async Task<ShopFlowSeed> RunAsync(IEnumerable<IModuleSeed> modules, IDocumentStore store, ShopFlowPlan plan, DateTimeOffset now, CancellationToken ct)
    {
        var ordered = modules.Select((m, i) => (Module: m, Index: i)).OrderBy(x => x.Module.Stage).ThenBy(x => x.Index).Select(x => x.Module).ToList();
        var seed = new ShopFlowSeed(plan, now);

        await using (var session = store.LightweightSession())
        {
            foreach (var module in ordered)
            {
                await module.QueueClearAsync(seed, session, ct);
            }

            await session.SaveChangesAsync(ct);
        }

        foreach (var module in ordered)
        {
            await module.AfterClearAsync(seed, ct);
        }

        await using (var session = store.LightweightSession())
        {
            foreach (var module in ordered)
            {
                await module.QueueSeedAsync(seed, session, ct);
            }

            await session.SaveChangesAsync(ct);
        }

        foreach (var module in ordered)
        {
            await module.AfterSeedAsync(seed, ct);
        }

        return seed;
    }
}
