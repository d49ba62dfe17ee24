using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Platform.Observability;

public sealed class MetricsTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task metrics_show_http_routes_stock_strategies_locks_and_coupons()
    {
        var product = await Store.AddProduct(stock: 5);
        await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":1}]""", "row");
        await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":1}]""", "pessimistic"); // acquires the lock: not left to another test
        await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":9}]""", "pessimistic", status: 400);
        var shop = await Host.InitShop("""{"userCount":1}""");
        await Host.ClaimAndWait(await Host.UserId("u1"), shop.PolicyIds[0]);
        await Host.GetJson($"/api/products/{product.Id}?optimize=true");

        var metrics = await Host.GetText("/metrics");
        metrics.ShouldContain("exbuy_catalog_reads_total{route=\"detail\",source=\"memory\"}");
        metrics.ShouldContain("exbuy_catalog_snapshot_loads_total");

        metrics.ShouldContain("http_request_duration_seconds");
        metrics.ShouldContain("exbuy_stock_take_seconds_count{lock_type=\"row\",outcome=\"taken\"}");
        metrics.ShouldContain("exbuy_stock_take_seconds_count{lock_type=\"pessimistic\",outcome=\"insufficient\"}");
        metrics.ShouldContain("exbuy_lock_wait_seconds_count{lock=\"row\",acquired=\"true\"}");
        metrics.ShouldContain("exbuy_lock_wait_seconds_count{lock=\"pessimistic\",acquired=\"true\"}");
        metrics.ShouldContain("exbuy_coupon_claims_total{result=\"admitted\"}");
        metrics.ShouldContain("exbuy_coupon_claims_total{result=\"issued\"}");
        metrics.ShouldContain("exbuy_db_command_seconds_count{kind=\"batch\",outcome=\"ok\"}");
        metrics.ShouldContain("exbuy_db_saved_changes_total");
        metrics.ShouldContain("exbuy_stock_holds_open 0");
    }

    [Fact]
    public async Task the_queue_depth_gauge_counts_wolverine_inbox_envelopes()
    {
        var store = Store;
        await using (var connection = store.Storage.Database.CreateConnection())
        {
            await connection.OpenAsync(Ct);
            // Two envelopes parked in the durable inbox, as a stalled durable queue would leave them.
            await using var command = new Npgsql.NpgsqlCommand(
                $"insert into {store.Options.DatabaseSchemaName}.wolverine_incoming_envelopes (id, status, owner_id, body, message_type, received_at) " +
                "values (gen_random_uuid(), 'Scheduled', 0, '\\x00', 'exbuy.test', 'local://test'), (gen_random_uuid(), 'Scheduled', 0, '\\x00', 'exbuy.test', 'local://test')",
                connection);
            await command.ExecuteNonQueryAsync(Ct);
        }

        try
        {
            (await Host.GetText("/metrics")).ShouldContain("exbuy_wolverine_incoming_envelopes{status=\"Scheduled\",message_type=\"exbuy.test\"} 2");
        }
        finally
        {
            await using var connection = store.Storage.Database.CreateConnection();
            await connection.OpenAsync(Ct);
            await using var command = new Npgsql.NpgsqlCommand($"delete from {store.Options.DatabaseSchemaName}.wolverine_incoming_envelopes where message_type = 'exbuy.test'", connection);
            await command.ExecuteNonQueryAsync(Ct);
        }
    }
}
