using Prometheus;

namespace ExBuy.Infrastructure.Observability;

/// <summary>
/// ExBuy's own Prometheus series, beside prometheus-net's HTTP metrics (<c>http_request_duration_seconds</c> by
/// route). Exposed at <c>/metrics</c>.
/// </summary>
public static class ExBuyMetrics
{
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0005, 2, 16);

    /// <summary>One stock-taking run, from the strategy's first read to its commit or refusal.</summary>
    public static readonly Histogram StockTake = Metrics.CreateHistogram(
        "exbuy_stock_take_seconds",
        "Time a concurrency strategy took to take stock (or refuse), by lock_type and outcome.",
        new HistogramConfiguration { LabelNames = ["lock_type", "outcome"], Buckets = LatencyBuckets });

    /// <summary>Waiting for a Redis lock (pessimistic, redlock, per-user order lock) or PostgreSQL row locks (row).</summary>
    public static readonly Histogram LockWait = Metrics.CreateHistogram(
        "exbuy_lock_wait_seconds",
        "Time spent waiting for locks, by lock (lock_type or 'user') and whether it was acquired.",
        new HistogramConfiguration { LabelNames = ["lock", "acquired"], Buckets = LatencyBuckets });

    /// <summary>Optimistic attempts that lost a revision race and were retried.</summary>
    public static readonly Counter OptimisticRetries = Metrics.CreateCounter(
        "exbuy_optimistic_retries_total", "Optimistic stock attempts retried after a revision conflict.");

    /// <summary>Coupon claims: admitted, duplicate, sold_out at the gate; issued or compensated by the handler.</summary>
    public static readonly Counter Coupons = Metrics.CreateCounter(
        "exbuy_coupon_claims_total",
        "Coupon claims by result: admitted, duplicate, sold_out (Redis gate); issued, compensated (database).",
        new CounterConfiguration { LabelNames = ["result"] });
}
