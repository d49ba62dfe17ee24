using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Observability;
using Marten;
using Npgsql;

namespace ExBuy.Features.ShopFlow.Coupons;

/// <summary>
/// Wolverine handler for an admitted claim (durable local queue "coupons": an accepted claim survives a crash).
/// The policy's issued count rises only through a conditional UPDATE (<c>issued &lt; quantity</c>), and the coupon
/// is inserted in the same transaction under a unique (policy, user) index. When the database refuses, the
/// Redis admission is compensated.
/// </summary>
public static class IssueCouponHandler
{
    public static async Task Handle(IssueCoupon message, IDocumentStore store, CouponGate gate, TimeProvider clock, CancellationToken ct)
    {
        // The id is taken before the transaction: never wait for a second pooled connection while holding a row lock.
        var couponId = await IdSequences.NextAsync<Coupon>(store, ct);
        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(ct);

        var policy = await TryIssueAsync(session, message.PolicyId, ct);
        if (policy is null)
        {
            await gate.ReleaseAsync(message.PolicyId, message.UserId, soldOut: true);
            ExBuyMetrics.Coupons.WithLabels("compensated").Inc();
            return;
        }

        var now = clock.GetUtcNow();
        session.Insert(new Coupon
        {
            Id = couponId,
            PolicyId = policy.Id,
            UserId = message.UserId,
            Discount = policy.Discount,
            IssuedAt = now,
            ExpiresAt = now.AddDays(policy.ValidDays),
        });

        try
        {
            await session.SaveChangesAsync(ct);
            ExBuyMetrics.Coupons.WithLabels("issued").Inc();
        }
        catch (Exception e) when (PostgresErrors.IsUniqueViolation(e))
        {
            ExBuyMetrics.Coupons.WithLabels("compensated").Inc();
            // The user already holds one (the Redis set was lost or flushed): the database said no.
            await gate.ReleaseAsync(message.PolicyId, message.UserId, soldOut: false);
        }
    }

    private static async Task<CouponPolicy?> TryIssueAsync(IDocumentSession session, long policyId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"""
             update {session.DocumentStore.Options.DatabaseSchemaName}.mt_doc_couponpolicy
             set data = data || jsonb_build_object('Issued', (data ->> 'Issued')::int + 1),
                 mt_last_modified = now()
             where id = $1 and (data ->> 'Issued')::int < (data ->> 'Quantity')::int
             returning data
             """,
            session.Connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = policyId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? session.DocumentStore.Options.Serializer().FromJson<CouponPolicy>(reader, 0) : null;
    }
}
