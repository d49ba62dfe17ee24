using ExBuy.Infrastructure.Marten;
using Marten;
using Npgsql;

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

/// <summary>An accepted claim as the issuance loads it (locked, still <c>accepted</c>).</summary>
public sealed record ClaimToIssue(Guid ClaimId, long PolicyId, long UserId, DateTimeOffset CreatedAt);

/// <summary>A policy's counter as the issuance loads it (row locked), with the policy document the coupons copy.</summary>
public sealed record PolicyStockRow(CouponPolicy Policy, int Quantity, int Issued);

/// <summary>What one issuance commits: the coupons, the counter increments, the claims settled either way.</summary>
public sealed record IssueDecision(
    IReadOnlyList<Coupon> Coupons,
    IReadOnlyDictionary<long, int> IssuedByPolicy,
    IReadOnlyList<Guid> SoldOut);

/// <summary>
/// Which accepted claims get a coupon: per policy, first come (by the database's acceptance time, then claim id) while
/// the locked counter has units left; the rest are sold out. Pure: no I/O, no clock. It does not state the bound
/// itself — it hands out what the counter row says is left, <c>quantity − issued</c>, and the table's check
/// constraint (<see cref="CouponPolicyStock.WithinQuantity"/>) refuses the commit if it ever handed out more.
/// </summary>
public static class CouponIssueDecider
{
    /// <param name="claims">The claims still accepted, each of them locked.</param>
    /// <param name="stock">The counters of their policies (locked); a policy without one (deleted) issues nothing.</param>
    /// <param name="couponIds">Fresh coupon ids, at least as many as <paramref name="claims"/>, used in order.</param>
    /// <param name="now">The issue time the coupons carry.</param>
    public static IssueDecision Decide(IReadOnlyList<ClaimToIssue> claims, IReadOnlyDictionary<long, PolicyStockRow> stock, IReadOnlyList<long> couponIds, DateTimeOffset now)
    {
        var coupons = new List<Coupon>(claims.Count);
        var issued = new Dictionary<long, int>();
        var soldOut = new List<Guid>();
        foreach (var policy in claims.GroupBy(c => c.PolicyId))
        {
            var left = stock.TryGetValue(policy.Key, out var row) ? Math.Max(row.Quantity - row.Issued, 0) : 0;
            foreach (var claim in policy.OrderBy(c => c.CreatedAt).ThenBy(c => c.ClaimId))
            {
                if (left == 0)
                {
                    soldOut.Add(claim.ClaimId);
                    continue;
                }

                left--;
                coupons.Add(new Coupon
                {
                    Id = couponIds[coupons.Count], PolicyId = claim.PolicyId, UserId = claim.UserId, ClaimId = claim.ClaimId,
                    Discount = row!.Policy.Discount, IssuedAt = now, ExpiresAt = now.AddDays(row.Policy.ValidDays),
                });
                issued[claim.PolicyId] = issued.GetValueOrDefault(claim.PolicyId) + 1;
            }
        }

        return new IssueDecision(coupons, issued, soldOut);
    }
}

/// <summary>
/// Issues accepted claims, any number at once, in one transaction: Load (one round trip: the claims still
/// <c>accepted</c>, locked in claim-id order so two issuers never deadlock; their policies' counters, locked; fresh
/// coupon ids), Decide (<see cref="CouponIssueDecider"/>), Commit (one round trip and the commit: the counter raised
/// once per policy, the coupons inserted as Marten documents, every claim settled <c>issued</c> with its coupon id or
/// <c>failed</c>). A claim that is no longer accepted is not loaded, so a redelivery does nothing; the claim rows stay
/// locked until the commit, so a second delivery running at the same time waits and then finds them settled.
/// </summary>
public static class CouponIssuance
{
    public static async Task<IReadOnlyDictionary<Guid, ClaimOutcome>> IssueAsync(IDocumentStore store, IReadOnlyCollection<Guid> claimIds, DateTimeOffset now, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(ct);
        var (claims, stock, couponIds) = await LoadAsync(session, claimIds, ct);
        var outcomes = claimIds.ToDictionary(id => id, _ => ClaimOutcome.AlreadySettled);
        if (claims.Count == 0)
        {
            return outcomes;
        }

        var decision = CouponIssueDecider.Decide(claims, stock, couponIds, now);
        foreach (var (policyId, count) in decision.IssuedByPolicy)
        {
            session.QueueSqlCommand(CouponsSql.QueueRaiseIssued(store), count, policyId);
        }

        if (decision.Coupons.Count > 0)
        {
            session.Insert(decision.Coupons.ToArray());
            session.QueueSqlCommand(
                CouponsSql.QueueSettleIssued(store),
                decision.Coupons.Select(c => c.ClaimId!.Value).ToArray(), decision.Coupons.Select(c => c.Id).ToArray());
        }

        if (decision.SoldOut.Count > 0)
        {
            session.QueueSqlCommand(
                CouponsSql.QueueSettleSoldOut(store),
                decision.SoldOut.ToArray());
        }

        // Not the caller's token: once the claims are decided the unit of work finishes; a commit cut off half-way may
        // land on the server anyway, and the handler must learn what happened by running again, not by guessing.
        await session.SaveChangesAsync(CancellationToken.None);
        foreach (var coupon in decision.Coupons)
        {
            outcomes[coupon.ClaimId!.Value] = ClaimOutcome.Issued;
        }

        foreach (var claimId in decision.SoldOut)
        {
            outcomes[claimId] = ClaimOutcome.SoldOut;
        }

        return outcomes;
    }

    private static async Task<(List<ClaimToIssue> Claims, Dictionary<long, PolicyStockRow> Stock, List<long> CouponIds)> LoadAsync(
        IDocumentSession session, IReadOnlyCollection<Guid> claimIds, CancellationToken ct)
    {
        var store = session.DocumentStore;
        var connection = session.Connection ?? throw new InvalidOperationException("Begin the session's transaction first.");
        var ids = claimIds.ToArray();
        await using var batch = new NpgsqlBatch(connection);
        var lockClaims = new NpgsqlBatchCommand(CouponsSql.LockAcceptedClaims(store));
        lockClaims.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        batch.BatchCommands.Add(lockClaims);
        var lockStock = new NpgsqlBatchCommand(CouponsSql.LockCountersWithPolicies(store));
        lockStock.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        batch.BatchCommands.Add(lockStock);
        var newIds = new NpgsqlBatchCommand(CouponsSql.NewCouponIds(store));
        newIds.Parameters.Add(new NpgsqlParameter<int> { TypedValue = ids.Length });
        batch.BatchCommands.Add(newIds);

        var claims = new List<ClaimToIssue>(ids.Length);
        var stock = new Dictionary<long, PolicyStockRow>();
        var couponIds = new List<long>(ids.Length);
        var serializer = store.Options.Serializer();
        await using var reader = await batch.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            claims.Add(new ClaimToIssue(reader.GetGuid(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var policy = serializer.FromJson<CouponPolicy>(reader, 2);
            stock[policy.Id] = new PolicyStockRow(policy, reader.GetInt32(0), reader.GetInt32(1));
        }

        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            couponIds.Add(reader.GetInt64(0));
        }

        return (claims, stock, couponIds);
    }
}
