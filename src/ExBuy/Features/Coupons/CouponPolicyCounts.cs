using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Coupons;

/// <summary>
/// A policy's counts in PostgreSQL: quantity and issued count (its <see cref="CouponPolicyStock"/> row), coupon rows,
/// claims in flight and how many of them are stuck.
/// </summary>
public sealed record CouponPolicyCounts(long PolicyId, int Quantity, int Issued, long Coupons, long InFlight, long Stuck)
{
    /// <summary>One policy, or every policy when <paramref name="policyId"/> is null. Ages use the database clock.</summary>
    public static async Task<List<CouponPolicyCounts>> ReadAsync(NpgsqlDataSource db, IDocumentStore store, TimeSpan stuckAfter, long? policyId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await ReadAsync(connection, store, stuckAfter, policyId, ct);
    }

    /// <summary>The same on the caller's connection, in its transaction if it has one (the audit's snapshot).</summary>
    public static async Task<List<CouponPolicyCounts>> ReadAsync(NpgsqlConnection connection, IDocumentStore store, TimeSpan stuckAfter, long? policyId, CancellationToken ct)
    {
        // Hand-written: one statement over the counters, the claims and the coupons, in the audit's snapshot too.
        await using var command = new NpgsqlCommand(CouponsSql.PolicyCounts(store), connection);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)policyId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = stuckAfter, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Interval });
        var rows = new List<CouponPolicyCounts>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new CouponPolicyCounts(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
        }

        return rows;
    }
}
