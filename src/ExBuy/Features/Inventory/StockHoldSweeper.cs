using ExBuy.Infrastructure.Hosting;
using ExBuy.Infrastructure.Observability;
using Marten;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ExBuy.Features.Inventory;

/// <summary>
/// Releases the holds of requests that died (or stalled past <see cref="StockHolds.Abandoned"/>) between taking the
/// stock and recording the sale, gives each released hold back to Redis — the release that moved it decides, so no
/// one else gives it back too — and purges finished holds. Nothing escapes a tick: a database or Redis failure is
/// logged and the next tick tries again (a Redis give-back that failed is left to the <see cref="StockReconciler"/>).
/// </summary>
public sealed partial class StockHoldSweeper(
    IDocumentStore store, RedisStock redisStock, IOptions<StockRecoveryOptions> options, TimeProvider clock, ILogger<StockHoldSweeper> logger)
    : PeriodicPass(clock)
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(options.Value.SweepIntervalMs);

    protected override Task RunPassAsync(CancellationToken ct) => SweepAsync(ct);

    protected override void PassFailed(Exception e) => SweepFailed(logger, e);

    /// <returns>The holds this sweep released.</returns>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var released = 0;
        foreach (var hold in await StockHolds.AbandonedAsync(store, ct))
        {
            // Not cancelled half-way: a release that committed must be followed by its Redis give-back.
            var lines = await StockHolds.ReleaseAsync(store, hold, CancellationToken.None);
            if (lines.Count == 0)
            {
                continue; // consumed or released by its request in the meantime
            }

            released++;
            try
            {
                await redisStock.CompensateAsync(lines);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                ExBuyMetrics.StockRedisGiveBackFailed.Inc();
                GiveBackFailed(logger, hold, e);
            }
        }

        await StockHolds.PurgeFinishedAsync(store, ct);
        return released;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing abandoned stock holds failed; retrying on the next tick")]
    private static partial void SweepFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stock hold {HoldId} was released but Redis could not be given its stock back; the stock reconciler repairs the key")]
    private static partial void GiveBackFailed(ILogger logger, Guid holdId, Exception e);
}
