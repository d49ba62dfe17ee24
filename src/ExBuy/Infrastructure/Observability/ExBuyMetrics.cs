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

    /// <summary>Work after a commit (Redis mirrors, give-backs, lock releases), by kind and result: done, late (the answer left first), failed.</summary>
    public static readonly Counter AfterCommit = Metrics.CreateCounter(
        "exbuy_after_commit_total",
        "Best-effort work after a commit by work (stock_mirror, stock_return_mirror, stock_give_back, lock_release) and result: done, late (the answer did not wait longer), failed (the reconcilers repair it). It never changes the answer.",
        new CounterConfiguration { LabelNames = ["work", "result"] });

    /// <summary>Optimistic attempts that lost a revision race and were retried.</summary>
    public static readonly Counter OptimisticRetries = Metrics.CreateCounter(
        "exbuy_optimistic_retries_total", "Optimistic stock attempts retried after a revision conflict.");

    /// <summary>Writes (by name) that found stale state at commit and loaded and decided again.</summary>
    public static readonly Counter WriteRetries = Metrics.CreateCounter(
        "exbuy_write_retries_total", "Write attempts that found stale state at commit and ran Load, Decide, Commit again.", "write");

    /// <summary>Catalogue reads (list, search, detail with optimize=true) answered from memory or, when the read model could not, by SQL.</summary>
    public static readonly Counter CatalogReads = Metrics.CreateCounter(
        "exbuy_catalog_reads_total",
        "Catalogue reads by route (list, search, detail) and source: memory (the read model with live stock) or sql.",
        new CounterConfiguration { LabelNames = ["route", "source"] });

    /// <summary>Loads of a process's in-memory catalogue: one per catalogue generation it serves.</summary>
    public static readonly Counter CatalogSnapshotLoads = Metrics.CreateCounter(
        "exbuy_catalog_snapshot_loads_total", "Loads of this process's in-memory catalogue (a product was added, changed or deleted).");

    /// <summary>Bytes the current catalogue snapshot's remembered filter answers are accounted for (bounded by ExBuy:Catalog:SearchCacheBytes).</summary>
    public static readonly Gauge CatalogSearchCacheBytes = Metrics.CreateGauge(
        "exbuy_catalog_search_cache_bytes", "Bytes the in-memory catalogue's remembered list and search answers are accounted for (keys and results; bounded by ExBuy:Catalog:SearchCacheBytes).");

    /// <summary>Coupon claims: admitted, duplicate, sold_out at the gate; issued or compensated by the handler.</summary>
    public static readonly Counter Coupons = Metrics.CreateCounter(
        "exbuy_coupon_claims_total",
        "Coupon claims by result: admitted, duplicate, sold_out, unavailable (Redis gate); issued, compensated (database); recovered (a lost message published again).",
        new CounterConfiguration { LabelNames = ["result"] });

    /// <summary>Every statement and batch Marten sends (documents, events, hand-written SQL on a session's connection).</summary>
    public static readonly Histogram DbCommand = Metrics.CreateHistogram(
        "exbuy_db_command_seconds",
        "PostgreSQL round trips made through Marten sessions, by kind (command, batch) and outcome (ok, failed).",
        new HistogramConfiguration { LabelNames = ["kind", "outcome"], Buckets = LatencyBuckets });

    /// <summary>Units of work committed by Marten sessions.</summary>
    public static readonly Counter SavedChanges = Metrics.CreateCounter(
        "exbuy_db_saved_changes_total", "Marten units of work committed.");

    /// <summary>Wolverine's durable inbox: envelopes waiting or being handled, by status and message type (read at scrape time).</summary>
    public static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "exbuy_wolverine_incoming_envelopes",
        "Envelopes in Wolverine's durable inbox (no ExBuy message uses it: coupon claims travel in memory, recorded in coupon_claims), by status and message type.",
        new GaugeConfiguration { LabelNames = ["status", "message_type"] });

    /// <summary>Open stock holds of the atomic strategy (sales being recorded; anything lasting is swept).</summary>
    public static readonly Gauge StockHoldsOpen = Metrics.CreateGauge(
        "exbuy_stock_holds_open", "Stock holds of the atomic strategy not yet consumed or released (read at scrape time).");

    /// <summary>Redis stock keys the reconciler set back to the database's truth, by kind (missing, too_low, too_high, stale).</summary>
    public static readonly Counter StockRepairs = Metrics.CreateCounter(
        "exbuy_stock_reconciler_repairs_total",
        "Redis stock keys the reconciler repaired, by kind: missing (restored), too_low, too_high, stale (product gone).",
        new CounterConfiguration { LabelNames = ["kind"] });

    /// <summary>Reconciler passes by result: done, skipped (another node held the lock), failed.</summary>
    public static readonly Counter StockReconcilePasses = Metrics.CreateCounter(
        "exbuy_stock_reconciler_passes_total",
        "Stock reconciler passes by result: done, skipped (another API node was reconciling), failed.",
        new CounterConfiguration { LabelNames = ["result"] });

    /// <summary>Stock released in the database whose Redis give-back failed (the reconciler repairs the key).</summary>
    public static readonly Counter StockRedisGiveBackFailed = Metrics.CreateCounter(
        "exbuy_stock_redis_give_back_failed_total", "Stock given back in PostgreSQL whose Redis give-back failed; left to the reconciler.");

    /// <summary>Audit runs started (<c>GET /api/audit</c>); callers that arrive during a run share it and start none.</summary>
    public static readonly Counter AuditRuns = Metrics.CreateCounter(
        "exbuy_audit_runs_total", "Consistency audit runs (GET /api/audit); concurrent callers share one run.");

    /// <summary>Audit requests by how they were answered: started (a new run) or joined (the run already in progress).</summary>
    public static readonly Counter AuditRequests = Metrics.CreateCounter(
        "exbuy_audit_requests_total",
        "GET /api/audit requests by share: started (began a run) or joined (awaited the run in progress).",
        new CounterConfiguration { LabelNames = ["share"] });
}
