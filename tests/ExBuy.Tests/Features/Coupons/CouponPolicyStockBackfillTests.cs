using ExBuy.Features.Coupons;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Coupons;

/// <summary>A database written before the coupon counters had their own table keeps its counts after the upgrade.</summary>
public sealed class CouponPolicyStockBackfillTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task policies_whose_counts_lived_in_the_document_get_their_row_once()
    {
        var shop = await Host.InitShop("""{"userCount":1,"policyCount":2,"couponQuantity":5}""");
        var (legacy, current) = (shop.PolicyIds[0], shop.PolicyIds[1]);

        // The old layout: quantity and issued inside the policy's JSON, no counter row.
        await using (var session = Store.LightweightSession())
        {
            session.QueueSqlCommand($"delete from {CouponPolicyStock.Table(Store)} where policy_id = ?", legacy);
            session.QueueSqlCommand(
                $"update {Store.Options.DatabaseSchemaName}.mt_doc_couponpolicy set data = data || jsonb_build_object('Quantity', 40, 'Issued', 3) where id = ?", legacy);
            await session.SaveChangesAsync(Ct);
        }

        var backfill = ActivatorUtilities.CreateInstance<CouponPolicyStockBackfill>(Host.Services);
        await backfill.StartAsync(Ct);
        await backfill.StartAsync(Ct); // a second start changes nothing

        (await Counter(legacy)).ShouldBe((40, 3));
        (await Counter(current)).ShouldBe((5, 0), "a policy that had its row keeps it untouched");
    }

    private async Task<(int Quantity, int Issued)> Counter(long policyId)
    {
        await using var connection = Store.Storage.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand($"select quantity, issued from {CouponPolicyStock.Table(Store)} where policy_id = $1", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = policyId });
        await using var reader = await command.ExecuteReaderAsync(Ct);
        reader.Read().ShouldBeTrue();
        return (reader.GetInt32(0), reader.GetInt32(1));
    }
}
