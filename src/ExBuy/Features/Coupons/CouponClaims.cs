using ExBuy.Infrastructure.Marten;
using Marten;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Coupons;

/// <summary>What became of an accepted claim.</summary>
public enum ClaimOutcome
{
    /// <summary>This delivery issued the coupon.</summary>
    Issued,

    /// <summary>The database refused (the policy is out): the claim is marked failed.</summary>
    SoldOut,

    /// <summary>The claim was already settled (issued or failed) or is unknown: a redelivery, nothing to do.</summary>
    AlreadySettled,
}

/// <summary>
/// The claims table (<c>coupon_claims</c>), the Coupons slice's own: one row per claim answered 201, written in the
/// same transaction as the Wolverine envelope that carries it, so what was accepted is in PostgreSQL before the
/// answer. A claim is <c>accepted</c> (in flight), then <c>issued</c> (with its coupon, in the statement that inserts
/// the coupon) or <c>failed</c> (sold out, or given up after retries). At most one claim per user and policy is not
/// failed (partial unique index): PostgreSQL, not Redis, has the last word on "already claimed".
/// </summary>
public static class CouponClaims
{
    public const string Accepted = "accepted";
    public const string Issued = "issued";
    public const string Failed = "failed";

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.coupon_claims";

    private static string Policies(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.mt_doc_couponpolicy";

    private static string Coupons(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.mt_doc_coupon";

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
        table.Indexes.Add(new IndexDefinition("coupon_claims_one_live_per_user")
        {
            Columns = ["policy_id", "user_id"],
            IsUnique = true,
            Predicate = "status <> 'failed'",
        });
        table.Indexes.Add(new IndexDefinition("coupon_claims_in_flight") { Columns = ["policy_id", "created_at"], Predicate = "status = 'accepted'" });
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>The claim's row, queued in the caller's session: it commits with the session (and its outbox envelope).</summary>
    public static void QueueAccept(IDocumentSession session, Guid claimId, long policyId, long userId) =>
        session.QueueSqlCommand($"insert into {Table(session.DocumentStore)} (claim_id, policy_id, user_id) values (?, ?, ?)", claimId, policyId, userId);

    /// <summary>
    /// Issues the claim's coupon, once: the claim row is locked while <c>accepted</c> (a second delivery waits, then
    /// finds it settled and does nothing), the policy's issued count rises only while below the quantity, and the
    /// coupon carries the claim id. One autocommitted statement, so the policy row — the one row every issuance
    /// writes — is locked only while it runs.
    /// </summary>
    public static async Task<ClaimOutcome> IssueAsync(IDocumentStore store, Guid claimId, DateTimeOffset now, CancellationToken ct)
    {
        var sequence = $"{store.Options.DatabaseSchemaName}.{IdSequences.SequenceName<Coupon>()}";
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            $"""
             with claim as (
                 select claim_id, policy_id, user_id from {Table(store)} where claim_id = $1 and status = 'accepted' for update),
             policy as (
                 update {Policies(store)} p
                 set data = p.data || jsonb_build_object('Issued', (p.data ->> 'Issued')::int + 1), mt_last_modified = now()
                 from claim c
                 where p.id = c.policy_id and (p.data ->> 'Issued')::int < (p.data ->> 'Quantity')::int
                 returning p.id, (p.data ->> 'Discount')::bigint as discount, coalesce((p.data ->> 'ValidDays')::int, 3) as valid_days,
                           c.user_id, c.claim_id),
             coupon as (
                 insert into {Coupons(store)} (id, data, mt_version, mt_dotnet_type, mt_last_modified, user_id)
                 select k.id, jsonb_build_object('Id', k.id, 'PolicyId', p.id, 'UserId', p.user_id, 'ClaimId', p.claim_id, 'Discount', p.discount,
                                                 'IssuedAt', $2::timestamptz, 'ExpiresAt', $2::timestamptz + make_interval(days => p.valid_days),
                                                 'UsedByOrderId', null, 'Version', 0),
                        1, $3, now(), p.user_id
                 from policy p cross join lateral (select nextval('{sequence}') as id) k
                 returning id),
             settled as (
                 update {Table(store)} c
                 set status = case when exists (select 1 from coupon) then 'issued' else 'failed' end,
                     coupon_id = (select id from coupon), settled_at = now()
                 where c.claim_id in (select claim_id from claim)
                 returning c.status)
             select status from settled
             """,
            connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = claimId });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = typeof(Coupon).FullName! });
        return await command.ExecuteScalarAsync(ct) switch
        {
            Issued => ClaimOutcome.Issued,
            Failed => ClaimOutcome.SoldOut,
            _ => ClaimOutcome.AlreadySettled,
        };
    }

    /// <summary>Marks the claim failed if it is still in flight. True for the one caller that did (compensation happens once).</summary>
    public static async Task<bool> FailAsync(IDocumentStore store, Guid claimId, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            $"update {Table(store)} set status = 'failed', settled_at = now() where claim_id = $1 and status = 'accepted'", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = claimId });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// PostgreSQL's truth for the Redis gates, per policy (one, or all when <paramref name="policyId"/> is null):
    /// the quantity and the users who hold a coupon or a claim in flight.
    /// </summary>
    public static async Task<List<PolicyTruth>> TruthAsync(NpgsqlDataSource db, IDocumentStore store, long? policyId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            $"""
             select p.id, (p.data ->> 'Quantity')::int,
                    array(select c.user_id from {Table(store)} c where c.policy_id = p.id and c.status <> 'failed'
                          union
                          select k.user_id from {Coupons(store)} k where (k.data ->> 'PolicyId')::bigint = p.id)
             from {Policies(store)} p
             where $1::bigint is null or p.id = $1
             order by p.id
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)policyId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        var truths = new List<PolicyTruth>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            truths.Add(new PolicyTruth(reader.GetInt64(0), reader.GetInt32(1), reader.GetFieldValue<long[]>(2)));
        }

        return truths;
    }

    /// <summary>Forgets every claim (a reset that deletes the policies and coupons too).</summary>
    public static async Task ClearAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"delete from {Table(store)}", connection);
        await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>A policy as PostgreSQL sees it: its quantity, and who holds a coupon or a claim in flight.</summary>
public sealed record PolicyTruth(long PolicyId, int Quantity, long[] Requested);
