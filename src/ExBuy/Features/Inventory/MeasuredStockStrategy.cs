using System.Diagnostics;
using ExBuy.Infrastructure.Observability;

namespace ExBuy.Features.Inventory;

/// <summary>Times every strategy run and labels it with its outcome; the strategies themselves stay unaware.</summary>
public sealed class MeasuredStockStrategy(IStockStrategy inner) : IStockStrategy
{
    public LockType Type => inner.Type;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var result = await inner.TakeAsync(demand, work, ct);
            outcome = result switch
            {
                StockOutcome.Taken => "taken",
                StockOutcome.Insufficient => "insufficient",
                StockOutcome.Missing => "missing",
                StockOutcome.Busy => "busy",
                _ => "other",
            };
            return result;
        }
        finally
        {
            ExBuyMetrics.StockTake.WithLabels(inner.Type.ToWire(), outcome).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}
