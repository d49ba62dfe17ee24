namespace ExBuy.Features.Rankings;

/// <summary>Units of one product put into one day's ranking by a reset (the scenario's seeded history).</summary>
public sealed record SeededSale(DateOnly Day, long ProductId, int Quantity);

/// <summary>
/// The ranking starts over (<c>POST /init</c>): every day's ranking emptied, then <see cref="Seed"/> added. An event
/// in the log like the orders', so that the ranking is a function of the log alone: the subscription applies it in
/// sequence, a replay or a rebuild from PostgreSQL finds it, and the orders placed before it no longer count — nor do
/// their later cancellations (see <see cref="SalesRanking"/>).
/// </summary>
public sealed record SalesRankingReset(IReadOnlyList<SeededSale> Seed, DateTimeOffset At);

public static class SalesRankingEvents
{
    /// <summary>The one stream the resets are appended to.</summary>
    public const string Key = "sales-ranking";

    /// <summary>The reset event's type name in <c>mt_events</c> (Marten's default alias).</summary>
    public const string ResetType = "sales_ranking_reset";
}
