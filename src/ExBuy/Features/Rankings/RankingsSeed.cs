using ExBuy.Infrastructure.Marten;

namespace ExBuy.Features.Rankings;

/// <summary>Rankings' part of the shop-flow seed: a three-day ranking, 500, 400, 300, 200, 100 a day for p1..p5.</summary>
internal sealed class RankingsSeed(SalesRanking ranking) : IModuleSeed
{
    private static readonly int[] RankScores = [500, 400, 300, 200, 100];

    public SeedStage Stage => SeedStage.Dependents;

    public Task AfterSeedAsync(ShopFlowSeed seed, CancellationToken ct) =>
        ranking.ResetAsync(
            [.. Enumerable.Range(0, SalesRanking.Days).SelectMany(day => seed.ProductIds.Take(RankScores.Length).Select((id, i) => new SeededSale(ranking.Today.AddDays(-day), id, RankScores[i])))],
            ct);
}
