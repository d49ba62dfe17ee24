using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Coupons;

public sealed class CouponPolicyStockRequest
{
    public long Id { get; init; }
}

/// <summary>
/// A coupon policy's counts side by side: the database's issued count, coupon rows and claims in flight (accepted,
/// not yet issued nor failed; <c>stuck</c>: those older than the bound), Redis's remaining counter (null when missing)
/// and requested set. Once the load has stopped, Redis remaining = quantity − issued − in flight and requested =
/// issued + in flight; <c>consistent</c> says whether they do, with nothing stuck.
/// </summary>
public sealed record CouponPolicyStockResponse(
    long PolicyId, int Quantity, int Issued, long Coupons, long? RedisRemaining, long RedisRequested, long InFlight, long Stuck, bool Settled, bool Consistent);

/// <summary><c>GET /api/coupon-policies/{id}/stock</c>: the coupon-rush check, as the flash sale has its stock check.</summary>
public sealed class CouponPolicyStockEndpoint(NpgsqlDataSource db, IDocumentStore store, CouponGate gate, IOptions<CouponOptions> options)
    : Endpoint<CouponPolicyStockRequest, CouponPolicyStockResponse>
{
    public override void Configure()
    {
        Get("/api/coupon-policies/{id:long}/stock");
        Tags("coupon-rush");
    }

    public override async Task HandleAsync(CouponPolicyStockRequest req, CancellationToken ct)
    {
        // Redis first: an issuance landing between the two reads then shows as issued, never as a lost admission.
        var requested = await gate.RequestedCountAsync(req.Id);
        var remaining = await gate.RemainingAsync(req.Id);
        var counts = await CouponPolicyCounts.ReadAsync(db, store, TimeSpan.FromSeconds(options.Value.StuckClaimSeconds), req.Id, ct);
        if (counts.Count == 0)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        var c = counts[0];
        var consistent = c.Issued <= c.Quantity && c.Coupons == c.Issued && c.Stuck == 0
                         && remaining == c.Quantity - c.Issued - c.InFlight && requested == c.Issued + c.InFlight;
        await Send.OkAsync(new CouponPolicyStockResponse(c.PolicyId, c.Quantity, c.Issued, c.Coupons, remaining, requested, c.InFlight, c.Stuck, c.InFlight == 0, consistent), ct);
    }
}

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
        var s = store.Options.DatabaseSchemaName;
        await using var command = new NpgsqlCommand(
            $"""
             select p.policy_id, p.quantity, p.issued,
                    (select count(*) from {s}.mt_doc_coupon k where (k.data ->> 'PolicyId')::bigint = p.policy_id),
                    (select count(*) from {CouponClaims.Table(store)} c where c.policy_id = p.policy_id and c.status = 'accepted'),
                    (select count(*) from {CouponClaims.Table(store)} c where c.policy_id = p.policy_id and c.status = 'accepted' and c.created_at < now() - $2)
             from {CouponPolicyStock.Table(store)} p
             where $1::bigint is null or p.policy_id = $1
             order by p.policy_id
             """, connection);
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
