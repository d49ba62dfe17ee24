using ExBuy.Infrastructure.Marten;
using Marten;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Coupons;

/// <summary>
/// The claims table (<c>coupon_claims</c>), the Coupons slice's own: one row per claim answered 201, committed before
/// the answer and before its <see cref="IssueCoupon"/> message is published, so what was accepted is in PostgreSQL
/// first; the table is the coupon queue's durable record (<see cref="CouponClaimRecovery"/>). A claim is <c>accepted</c> (in flight), then <c>issued</c> (with its coupon id, in the transaction that
/// inserts the coupon: <see cref="CouponIssuance"/>) or <c>failed</c> (sold out, or given up after retries). At most one claim per user and policy is not
/// failed (partial unique index): PostgreSQL, not Redis, has the last word on "already claimed".
/// </summary>
public static class CouponClaims
{
    public const string Accepted = "accepted";
    public const string Issued = "issued";
    public const string Failed = "failed";

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.coupon_claims";

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "coupon_claims", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("claim_id").AsPrimaryKey();
        table.AddColumn<long>("policy_id").NotNull();
        table.AddColumn<long>("user_id").NotNull();
        table.AddColumn<string>("status").NotNull().DefaultValueByString(Accepted);
        table.AddColumn<long>("coupon_id");
        // The database clock, never the application's: the reconciler and the audit compare ages across nodes.
        table.AddColumn<DateTimeOffset>("created_at").NotNull().DefaultValueByExpression("now()");
        table.AddColumn<DateTimeOffset>("settled_at");
        // When a recovery pass last published the claim's message again (CouponClaimRecovery): one node a window.
        table.AddColumn<DateTimeOffset>("recovered_at");
        // The X-Request-Id of the claim's request, when its client sent one (Infrastructure/Http/RequestIds).
        table.AddColumn<string>("request_id");
        table.Indexes.Add(new IndexDefinition("coupon_claims_one_live_per_user")
        {
            Columns = ["policy_id", "user_id"],
            IsUnique = true,
            Predicate = "status <> 'failed'",
        });
        table.Indexes.Add(new IndexDefinition("coupon_claims_in_flight") { Columns = ["policy_id", "created_at"], Predicate = "status = 'accepted'" });
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>The claim's row, queued in the caller's session: it commits with the session (its outbox message follows the commit).</summary>
    public static void QueueAccept(IDocumentSession session, Guid claimId, long policyId, long userId, string? requestId) =>
        session.QueueSqlCommand(
            CouponsSql.QueueAcceptClaim(session.DocumentStore),
            claimId, policyId, userId, (object?)requestId ?? DBNull.Value);

    /// <summary>Marks the claim failed if it is still in flight. True for the one caller that did (compensation happens once).</summary>
    public static async Task<bool> FailAsync(IDocumentStore store, Guid claimId, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(CouponsSql.FailClaim(store), connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = claimId });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// PostgreSQL's truth for the Redis gates, per policy (one, or all when <paramref name="policyId"/> is null):
    /// the quantity and the users who hold a coupon or a claim in flight.
    /// </summary>
    public static async Task<List<PolicyTruth>> TruthAsync(NpgsqlDataSource db, IDocumentStore store, long? policyId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await TruthAsync(connection, store, policyId, ct);
    }

    /// <summary>The same on the caller's connection, in its transaction if it has one (the audit's snapshot).</summary>
    public static async Task<List<PolicyTruth>> TruthAsync(NpgsqlConnection connection, IDocumentStore store, long? policyId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(CouponsSql.GateTruth(store), connection);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)policyId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        var truths = new List<PolicyTruth>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            truths.Add(new PolicyTruth(reader.GetInt64(0), reader.GetInt32(1), reader.GetFieldValue<long[]>(2)));
        }

        return truths;
    }

    /// <summary>Forgets every claim and every policy's counter (a reset that deletes the policies and coupons too).</summary>
    public static async Task ClearAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(CouponsSql.ClearClaimsAndCounters(store), connection);
        await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>A policy as PostgreSQL sees it: its quantity, and who holds a coupon or a claim in flight.</summary>
public sealed record PolicyTruth(long PolicyId, int Quantity, long[] Requested);
