using ExBuy.Features.Audit;
using Marten;
using Npgsql;
using StackExchange.Redis;

namespace ExBuy.Features.Rankings.Audit;

/// <summary>
/// The sales ranking against the event log: per served day and product, Redis's units = the reset's seed plus the live
/// paid orders placed that day (<see cref="SalesRankingTruth"/>). Redis's ranking is read first, in one MULTI, with its
/// applied mark M and epoch E; the snapshot that follows holds every event up to M (the subscription counts an event
/// only once it committed), so the comparison is as of M, exactly: the events after M are in flight (the subscription
/// has not counted them yet) and are left out, and nothing is guessed.
/// </summary>
internal sealed class RankingCheck(NpgsqlDataSource db, IDocumentStore store, IConnectionMultiplexer redis, SalesRanking ranking) : IAuditCheck
{
    public async Task<IAuditCheckRun> BeginAsync(CancellationToken ct)
    {
        var days = SalesRanking.ServedDays(ranking.Today);
        // The subscription's progress before the Redis read: it stores its progress only after its Redis write, so a
        // progress seen here that Redis then has no mark for is a lost ranking; one counted after it is in flight.
        var progress = await SalesRankingSubscription.ProgressAsync(db, store.Options.Events.DatabaseSchemaName, ct);
        return new Run(await SalesRanking.ReadStateAsync(redis.GetDatabase(), days), progress, days);
    }

    private sealed class Run(RankingState state, long progressBeforeRedis, IReadOnlyList<DateOnly> days) : IAuditCheckRun
    {
        public async Task InSnapshotAsync(AuditSnapshot audit, CancellationToken ct) =>
            audit.Checked["ranked_products"] = await CompareAsync(audit.Connection, audit.Store, state, progressBeforeRedis, days, audit.Violations, ct);
    }

    /// <returns>How many (day, product) pairs were compared.</returns>
    private static async Task<long> CompareAsync(
        NpgsqlConnection connection, IDocumentStore store, RankingState state, long progressBeforeRedis, IReadOnlyList<DateOnly> days, List<AuditViolation> violations, CancellationToken ct)
    {
        var e = store.Options.Events.DatabaseSchemaName;
        var oldest = days.Min();
        // Judged on the progress read before Redis: a first page counted between the Redis read and the snapshot
        // (mark absent then, progress present now) is work in flight, not a lost ranking.
        if (!state.HasMark && progressBeforeRedis is var progress && progress > state.Epoch)
        {
            // Counted up to `progress`, yet no mark: Redis lost the ranking (restarted empty). The repair pass or the
            // subscription's next page rebuilds it from PostgreSQL; until then it is wrong if anything should be in it.
            var lost = await SalesRankingTruth.ReadAsync(connection, e, progress, null, oldest, ct);
            if (lost.Units.Keys.Any(k => days.Contains(k.Day)))
            {
                violations.Add(new("sales_ranking_matches_live_paid_orders", "ranking",
                    $"no applied mark in Redis although the subscription counted the events up to {progress}: the ranking was lost; it is rebuilt from PostgreSQL on the subscription's next page"));
            }

            return 0;
        }

        var truth = await SalesRankingTruth.ReadAsync(connection, e, state.Applied, state.Epoch, oldest, ct);
        if (truth.LatestReset > state.Epoch)
        {
            violations.Add(new("sales_ranking_matches_live_paid_orders", "ranking",
                $"counted the events up to {state.Applied} but starts from the reset at {state.Epoch}, not the one at {truth.LatestReset}"));
        }

        var pairs = state.Units.Keys.Concat(truth.Units.Keys).Where(k => days.Contains(k.Day)).Distinct()
            .OrderBy(k => k.Day).ThenBy(k => k.ProductId).ToList();
        foreach (var (day, productId) in pairs)
        {
            var (ranked, sold) = (state.Units.GetValueOrDefault((day, productId)), truth.Units.GetValueOrDefault((day, productId)));
            if (ranked != sold)
            {
                violations.Add(new("sales_ranking_matches_live_paid_orders", $"day {day:yyyy-MM-dd}, product {productId}",
                    $"ranked {ranked}, live paid orders (and the seed) {sold}, as of event {state.Applied} from the reset at event {state.Epoch}"));
            }
        }

        return pairs.Count;
    }
}
