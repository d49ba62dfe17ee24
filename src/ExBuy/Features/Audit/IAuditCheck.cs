using Marten;
using Npgsql;

namespace ExBuy.Features.Audit;

public sealed record AuditViolation(string Invariant, string Subject, string Detail);

/// <summary>
/// One module's part of <c>GET /api/audit</c>: the invariants of the data that module owns, checked by the module that
/// owns it. Each module registers its own (<c>services.AddSingleton&lt;IAuditCheck, …&gt;()</c>, in its registration);
/// the audit (<see cref="AuditRunner"/>) knows none of them: it opens the one snapshot, runs every registered check in
/// registration order, and answers. A run has three phases, the same for every check (the rule is
/// <see cref="AuditEndpoint"/>'s): <see cref="BeginAsync"/> before the snapshot opens (a Redis value's first reading),
/// <see cref="IAuditCheckRun.InSnapshotAsync"/> in it, <see cref="IAuditCheckRun.AfterSnapshotAsync"/> once it has
/// ended (the second reading, compared with what the snapshot held).
/// </summary>
public interface IAuditCheck
{
    /// <summary>Before the snapshot: what must be read first. The returned run keeps it for the next two phases.</summary>
    Task<IAuditCheckRun> BeginAsync(CancellationToken ct);
}

/// <summary>One check's run in one audit (<see cref="IAuditCheck"/>).</summary>
public interface IAuditCheckRun
{
    /// <summary>In the snapshot: the module's statements, on <see cref="AuditSnapshot.Connection"/> (its transaction).</summary>
    Task InSnapshotAsync(AuditSnapshot audit, CancellationToken ct);

    /// <summary>After the snapshot has ended: the Redis values read again and compared with what the snapshot held.</summary>
    Task AfterSnapshotAsync(AuditSnapshot audit, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// The audit's one read-only <c>REPEATABLE READ</c> transaction, and what the checks report into: the violations, the
/// <c>checked</c> counts (by name), and how many Redis values were left out as in flight.
/// </summary>
public sealed class AuditSnapshot(NpgsqlConnection connection, IDocumentStore store)
{
    /// <summary>The snapshot's connection: every statement on it sees the database at one instant.</summary>
    public NpgsqlConnection Connection { get; } = connection;

    public IDocumentStore Store { get; } = store;

    public List<AuditViolation> Violations { get; } = [];

    /// <summary>The answer's <c>checked</c> counts, by name.</summary>
    public Dictionary<string, long> Checked { get; } = [];

    /// <summary>Redis values that moved between the two readings: not compared, counted (<c>checked.redis_values_in_flight</c>).</summary>
    public long InFlight { get; set; }

    /// <summary>Runs <paramref name="sql"/> on the snapshot, <paramref name="row"/> once per row.</summary>
    public Task ForEachRow(string sql, Action<NpgsqlDataReader> row, CancellationToken ct) => AuditSql.ForEachRow(Connection, sql, row, ct);

    /// <summary>A <c>count(*)</c> on the snapshot.</summary>
    public Task<long> CountAsync(string sql, CancellationToken ct) => AuditSql.CountAsync(Connection, sql, ct);
}

/// <summary>
/// A check that reads nothing before the snapshot and keeps nothing between phases: its statements run in the snapshot,
/// and the one instance serves every run.
/// </summary>
public abstract class SnapshotCheck : IAuditCheck, IAuditCheckRun
{
    public Task<IAuditCheckRun> BeginAsync(CancellationToken ct) => Task.FromResult<IAuditCheckRun>(this);

    public abstract Task InSnapshotAsync(AuditSnapshot audit, CancellationToken ct);
}
