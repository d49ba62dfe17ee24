using System.Data;
using ExBuy.Infrastructure.Observability;
using ExBuy.Infrastructure.Security;
using FastEndpoints;
using Marten;
using Npgsql;

namespace ExBuy.Features.Audit;

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
/// sequence it has counted up to, and is compared with the log as of that sequence (the Rankings module's check).
/// </para>
/// <para>
/// <b>Each module checks its own data.</b> The invariants are the modules' (<see cref="IAuditCheck"/>, in each module's
/// <c>Audit/</c> folder): this module opens the snapshot, runs the registered checks in it and answers.
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

/// <summary>
/// One audit run: the checks of <see cref="AuditEndpoint"/>, against the data as it is now. The checks are the
/// modules' own (<see cref="IAuditCheck"/>); this opens the snapshot, runs them in registration order and answers.
/// </summary>
public sealed class AuditRunner(NpgsqlDataSource db, IDocumentStore store, IEnumerable<IAuditCheck> checks)
{
    public async Task<AuditResponse> RunAsync(CancellationToken ct)
    {
        ExBuyMetrics.AuditRuns.Inc();
        var runs = new List<IAuditCheckRun>();
        foreach (var check in checks)
        {
            runs.Add(await check.BeginAsync(ct));
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var audit = new AuditSnapshot(connection, store);
        await using (var snapshot = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct))
        {
            await using (var readOnly = new NpgsqlCommand("set transaction read only", connection))
            {
                await readOnly.ExecuteNonQueryAsync(ct);
            }

            foreach (var run in runs)
            {
                await run.InSnapshotAsync(audit, ct);
            }

            await snapshot.CommitAsync(ct);
        }

        foreach (var run in runs)
        {
            await run.AfterSnapshotAsync(audit, ct);
        }

        var counted = new Dictionary<string, long>(audit.Checked) { ["redis_values_in_flight"] = audit.InFlight };
        return new AuditResponse(audit.Violations.Count == 0, counted, audit.Violations.Count, audit.Violations.Take(AuditEndpoint.MaxListed).ToList());
    }
}
