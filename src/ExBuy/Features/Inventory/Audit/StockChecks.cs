using ExBuy.Features.Audit;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory.Audit;

/// <summary>
/// The audit's stock invariants: every product's stock row against its ledger (<see cref="StockLedger"/>), no hold
/// missed by the sweeper, and every Redis stock key against the snapshot's row, judged only when it held still between
/// the readings before and after the snapshot (the rule: <see cref="AuditEndpoint"/>).
/// </summary>
internal sealed class StockChecks(RedisStock redisStock, IOptions<StockRecoveryOptions> stockRecovery) : IAuditCheck
{
    public async Task<IAuditCheckRun> BeginAsync(CancellationToken ct) => new Run(redisStock, stockRecovery.Value, await redisStock.AllAsync());

    private sealed class Run(RedisStock redisStock, StockRecoveryOptions recovery, IReadOnlyDictionary<long, int> before) : IAuditCheckRun
    {
        private List<StockLedgerRow> _ledger = [];
        private List<long> _gated = [];

        public async Task InSnapshotAsync(AuditSnapshot audit, CancellationToken ct)
        {
            var (connection, store, violations) = (audit.Connection, audit.Store, audit.Violations);
            _ledger = await StockLedger.ReadAsync(connection, store, null, ct);
            audit.Checked["products"] = _ledger.Count;
            CheckLedger(_ledger, violations);

            // A hold past the sweep window is released by the sweeper's next pass, up to one interval later: only a hold
            // older than both has been missed by a sweeper (one not running, or failing). With the sweeper off (interval
            // 0), every hold past the window is reported.
            var overdue = StockHolds.Abandoned + TimeSpan.FromMilliseconds(recovery.SweepIntervalMs);
            foreach (var (productId, quantity, since) in await StockLedger.AbandonedHoldsAsync(connection, store, overdue, ct))
            {
                violations.Add(new(
                    "stock_hold_abandoned",
                    $"product {productId}",
                    $"{quantity} unit(s) held since {since:O}, longer than the sweep window and the sweeper's interval ({overdue.TotalSeconds:0} s)"));
            }

            _gated = await StockLedger.GatedProductsAsync(connection, store, ct);
        }

        public async Task AfterSnapshotAsync(AuditSnapshot audit, CancellationToken ct)
        {
            var after = await redisStock.AllAsync();
            audit.Checked["redis_stock_keys"] = after.Count;
            audit.InFlight += CompareStock(_ledger, _gated, before, after, audit.Violations);
        }
    }

    private static void CheckLedger(List<StockLedgerRow> ledger, List<AuditViolation> violations)
    {
        foreach (var row in ledger)
        {
            // The stock row itself cannot go below zero (a check constraint, ProductStock); what can is the ledger: more
            // sold than there ever was, which is an oversell whichever number the row shows.
            if (row.Expected < 0)
            {
                violations.Add(new(
                    "no_negative_stock", $"product {row.ProductId}", $"initial {row.InitialStock} - sold {row.Sold} + returned {row.Returned} = {row.Expected}"));
            }

            if (row.Stock != row.Expected)
            {
                violations.Add(new(
                    "stock_matches_ledger",
                    $"product {row.ProductId}",
                    $"stock {row.Stock} but initial {row.InitialStock} - sold {row.Sold} + returned {row.Returned} = {row.Expected}"));
            }
        }
    }

    /// <summary>The Redis stock keys against the snapshot's stock rows, each only when it held still (class comment).</summary>
    /// <returns>How many keys were left out as in flight.</returns>
    private static int CompareStock(
        List<StockLedgerRow> ledger, List<long> gated, IReadOnlyDictionary<long, int> before, IReadOnlyDictionary<long, int> after, List<AuditViolation> violations)
    {
        var inFlight = 0;
        foreach (var productId in gated.Where(id => !before.ContainsKey(id) && !after.ContainsKey(id)))
        {
            violations.Add(new("redis_stock_key_present", $"product {productId}", "the product's Redis stock key is missing"));
        }

        foreach (var row in ledger)
        {
            var (found, first) = (before.TryGetValue(row.ProductId, out var b), b);
            var (still, second) = (after.TryGetValue(row.ProductId, out var a), a);
            if (found != still || first != second)
            {
                inFlight++;
            }
            else if (still && second != row.Stock)
            {
                violations.Add(new("redis_stock_matches_database", $"product {row.ProductId}", $"Redis {second}, database {row.Stock}"));
            }
        }

        return inFlight;
    }
}
