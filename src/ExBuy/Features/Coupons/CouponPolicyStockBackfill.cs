using Marten;
using Npgsql;

namespace ExBuy.Features.Coupons;

/// <summary>
/// Upgrades a database written before the coupon counters had their own table: policies whose quantity and issued count
/// still live only in their document get their <c>coupon_policy_stock</c> row with those figures. Runs once at start;
/// a policy that has its row is never touched, so running it again changes nothing.
/// </summary>
public sealed partial class CouponPolicyStockBackfill(IDocumentStore store, ILogger<CouponPolicyStockBackfill> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        // Reads the old document fields; writes only the Coupons slice's own table. Counts above the quantity (which the
        // old layout could not prevent) are capped, so the row satisfies its constraint; the audit still compares them
        // with the coupons that exist.
        await using var command = new NpgsqlCommand(
            $"""
             insert into {CouponPolicyStock.Table(store)} (policy_id, quantity, issued)
             select p.id, q.quantity, least(greatest(coalesce((p.data ->> 'Issued')::int, 0), 0), q.quantity)
             from {store.Options.DatabaseSchemaName}.mt_doc_couponpolicy p
             cross join lateral (select greatest(coalesce((p.data ->> 'Quantity')::int, 0), 0) as quantity) q
             where p.data ? 'Quantity'
               and not exists (select 1 from {CouponPolicyStock.Table(store)} s where s.policy_id = p.id)
             on conflict (policy_id) do nothing
             """,
            connection);
        var added = await command.ExecuteNonQueryAsync(cancellationToken);
        if (added > 0)
        {
            Backfilled(logger, added);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Gave {Count} coupon policies written before the counter table their coupon_policy_stock rows")]
    private static partial void Backfilled(ILogger logger, int count);
}
