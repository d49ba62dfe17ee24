using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Observability;
using Marten;
using Npgsql;

namespace ExBuy.Features.Coupons;

/// <summary>
/// Wolverine handler for an admitted claim (durable local queue "coupons": an accepted claim survives a crash).
/// The policy's issued count rises only through a conditional UPDATE (<c>issued &lt; quantity</c>), and the coupon
/// is inserted by the same statement under a unique (policy, user) index: one autocommitted statement, so the
/// policy row — the one row every claim of a rush writes — is locked only while that statement runs, not across
/// round trips to the application (as a Marten unit of work it was: 8 ms a statement at 500 claimers, waiting on
/// that row). When the database refuses, the Redis admission is compensated.
/// </summary>
public static class IssueCouponHandler
{
    public static async Task Handle(IssueCoupon message, IDocumentStore store, CouponGate gate, TimeProvider clock, CancellationToken ct)
    {
        var couponId = await IdSequences.NextAsync<Coupon>(store, ct);
        var now = clock.GetUtcNow();
        try
        {
            if (await TryIssueAsync(store, message, couponId, now, ct))
            {
                ExBuyMetrics.Coupons.WithLabels("issued").Inc();
                return;
            }

            await gate.ReleaseAsync(message.PolicyId, message.UserId, soldOut: true);
        }
        catch (Exception e) when (PostgresErrors.IsUniqueViolation(e))
        {
            // The user already holds one (the Redis set was lost or flushed): the database said no.
            await gate.ReleaseAsync(message.PolicyId, message.UserId, soldOut: false);
        }

        ExBuyMetrics.Coupons.WithLabels("compensated").Inc();
    }

    /// <returns>False when the policy is sold out (or gone).</returns>
    private static async Task<bool> TryIssueAsync(IDocumentStore store, IssueCoupon message, long couponId, DateTimeOffset now, CancellationToken ct)
    {
        var schema = store.Options.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        // The coupon's JSON is built from the policy row the UPDATE returns, in Marten's document shape.
        await using var command = new NpgsqlCommand(
            $"""
             with policy as (
                 update {schema}.mt_doc_couponpolicy
                 set data = data || jsonb_build_object('Issued', (data ->> 'Issued')::int + 1), mt_last_modified = now()
                 where id = $1 and (data ->> 'Issued')::int < (data ->> 'Quantity')::int
                 returning (data ->> 'Discount')::bigint as discount, coalesce((data ->> 'ValidDays')::int, 3) as valid_days)
             insert into {schema}.mt_doc_coupon (id, data, mt_version, mt_dotnet_type, mt_last_modified, user_id)
             select $3, jsonb_build_object('Id', $3, 'PolicyId', $1, 'UserId', $2, 'Discount', p.discount, 'IssuedAt', $4::timestamptz,
                                           'ExpiresAt', $4::timestamptz + make_interval(days => p.valid_days), 'UsedByOrderId', null, 'Version', 0),
                    1, $5, now(), $2
             from policy p
             returning id
             """,
            connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = message.PolicyId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = message.UserId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = couponId });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = typeof(Coupon).FullName! });
        return await command.ExecuteScalarAsync(ct) is not null;
    }
}
