using System.Data;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;
using ExBuy.Features.Rankings;
using ExBuy.Infrastructure.Observability;
using ExBuy.Infrastructure.Security;
using FastEndpoints;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace ExBuy.Features.Audit;

public sealed record AuditViolation(string Invariant, string Subject, string Detail);

public sealed record AuditResponse(bool Ok, IReadOnlyDictionary<string, long> Checked, long ViolationCount, IReadOnlyList<AuditViolation> Violations);

/// <summary>
/// <c>GET /api/audit</c>: every invariant the scenarios care about, checked against the data as it is now. At most
/// <see cref="MaxListed"/> violations are listed; the count is complete.
/// <para>
/// <b>One snapshot.</b> Every PostgreSQL read runs in one read-only <c>REPEATABLE READ</c> transaction: all statements
/// see the database at one instant, so an order committing between two statements can never show as half there (its
/// debit without its order, its stock taken without its event).
/// </para>
/// <para>
/// <b>Redis against the snapshot, with the work in flight accounted for.</b> Redis cannot be read in PostgreSQL's
/// snapshot, and work between the two stores is routine: a gate decrement ahead of its database take, a mirror or a
/// give-back behind its commit, a claim admitted before its row. So, as the reconcilers do (StockReconciler repairs a
/// key only when its difference holds still between passes; the coupon reconciler subtracts the claims in flight), a
/// Redis value is judged only when it holds still: the stock keys and coupon gates are read once before the snapshot
/// and once after it, and a value that differs between the two readings had work in flight while the audit ran — it is
/// not compared, only counted (<c>checked.redis_values_in_flight</c>), and the next audit looks again (after a run,
/// nothing moves and everything is compared). A value that held still over the whole snapshot is compared with it: work
/// that touched it would have moved it between the readings, unless that work had already done its Redis half before
/// the first reading and did its database half only after the snapshot — one request stalled across the audit's
/// first milliseconds, which the next audit no longer sees. The ranking needs no such rule: it carries the event
/// sequence it has counted up to, and is compared with the log as of that sequence (<see cref="RankingCheck"/>).
/// </para>
/// <para>
/// <b>Admin-only outside the local profile, one run at a time.</b> It reads every table: outside the local profile only
/// an admin may run it (<see cref="AdminOnly{TRequest}"/>), and callers arriving while a run is in progress await that
/// run's answer instead of starting their own (<see cref="AuditSingleFlight"/>), so many callers cost one run.
/// </para>
/// </summary>
public sealed class AuditEndpoint(AuditSingleFlight audits) : EndpointWithoutRequest<AuditResponse>
{
    public const int MaxListed = 200;

    public override void Configure()
    {
        Get("/api/audit");
        PreProcessor<AdminOnly<EmptyRequest>>();
        Tags("audit", "admin");
    }

    public override async Task HandleAsync(CancellationToken ct) => await Send.OkAsync(await audits.RunAsync(ct), ct);
}

/// <summary>One audit run: the checks of <see cref="AuditEndpoint"/>, against the data as it is now.</summary>
public sealed class AuditRunner(
    NpgsqlDataSource db, IDocumentStore store, IConnectionMultiplexer redis, RedisStock redisStock, CouponGate couponGate, SalesRanking ranking,
    IOptions<CouponOptions> couponOptions, IOptions<StockRecoveryOptions> stockRecovery)
{
    public async Task<AuditResponse> RunAsync(CancellationToken ct)
    {
        ExBuyMetrics.AuditRuns.Inc();
        var violations = new List<AuditViolation>();
        var days = SalesRanking.ServedDays(ranking.Today);
        // The subscription's progress before the Redis read: it stores its progress only after its Redis write, so a
        // progress seen here that Redis then has no mark for is a lost ranking; one counted after it is in flight.
        var rankingProgress = await SalesRankingSubscription.ProgressAsync(db, store.Options.Events.DatabaseSchemaName, ct);
        var rankingState = await SalesRanking.ReadStateAsync(redis.GetDatabase(), days);
        var before = await RedisReading.ReadAsync(redis, redisStock, couponGate);

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var snapshot = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await using (var readOnly = new NpgsqlCommand("set transaction read only", connection))
        {
            await readOnly.ExecuteNonQueryAsync(ct);
        }

        var ledger = await StockLedger.ReadAsync(connection, store, null, ct);
        CheckLedger(ledger, violations);

        // A hold past the sweep window is released by the sweeper's next pass, up to one interval later: only a hold
        // older than both has been missed by a sweeper (one not running, or failing). With the sweeper off (interval
        // 0), every hold past the window is reported.
        var overdue = StockHolds.Abandoned + TimeSpan.FromMilliseconds(stockRecovery.Value.SweepIntervalMs);
        foreach (var (productId, quantity, since) in await StockLedger.AbandonedHoldsAsync(connection, store, overdue, ct))
        {
            violations.Add(new(
                "stock_hold_abandoned",
                $"product {productId}",
                $"{quantity} unit(s) held since {since:O}, longer than the sweep window and the sweeper's interval ({overdue.TotalSeconds:0} s)"));
        }

        var gated = await StockLedger.GatedProductsAsync(connection, store, ct);
        var (orders, idempotencyRecords) = await OrderChecks.RunAsync(connection, store, violations, ct);
        var (balances, coupons) = await ShopFlowChecks.RunAsync(connection, store, TimeSpan.FromSeconds(couponOptions.Value.StuckClaimSeconds), violations, ct);
        var ranked = await RankingCheck.RunAsync(connection, store, rankingState, rankingProgress, days, violations, ct);
        await snapshot.CommitAsync(ct);

        var after = await RedisReading.ReadAsync(redis, redisStock, couponGate);
        var afterGates = new Dictionary<long, GateReading>(after.Gates);
        foreach (var policy in coupons.Counts.Where(c => !afterGates.ContainsKey(c.PolicyId)))
        {
            afterGates[policy.PolicyId] = await RedisReading.ReadGateAsync(couponGate, policy.PolicyId);
        }

        var inFlight = CompareStock(ledger, gated, before.Stock, after.Stock, violations)
                       + ShopFlowChecks.CompareGates(coupons, before.Gates, afterGates, violations);

        return new AuditResponse(
            violations.Count == 0,
            new Dictionary<string, long>
            {
                ["products"] = ledger.Count, ["redis_stock_keys"] = after.Stock.Count, ["orders"] = orders, ["balances"] = balances,
                ["idempotency_records"] = idempotencyRecords, ["ranked_products"] = ranked, ["redis_values_in_flight"] = inFlight,
            },
            violations.Count,
            violations.Take(AuditEndpoint.MaxListed).ToList());
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
