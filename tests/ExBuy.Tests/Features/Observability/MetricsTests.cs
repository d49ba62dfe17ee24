using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Observability;

public sealed class MetricsTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task metrics_show_http_routes_stock_strategies_locks_and_coupons()
    {
        var product = await Store.AddProduct(stock: 5);
        await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":1}]""", "row");
        await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":9}]""", "pessimistic", status: 400);
        var shop = await Host.InitShop("""{"userCount":1}""");
        await Host.ClaimAndWait(await Host.UserId("u1"), shop.PolicyIds[0]);

        var metrics = await Host.GetText("/metrics");

        metrics.ShouldContain("http_request_duration_seconds");
        metrics.ShouldContain("exbuy_stock_take_seconds_count{lock_type=\"row\",outcome=\"taken\"}");
        metrics.ShouldContain("exbuy_stock_take_seconds_count{lock_type=\"pessimistic\",outcome=\"insufficient\"}");
        metrics.ShouldContain("exbuy_lock_wait_seconds_count{lock=\"row\",acquired=\"true\"}");
        metrics.ShouldContain("exbuy_lock_wait_seconds_count{lock=\"pessimistic\",acquired=\"true\"}");
        metrics.ShouldContain("exbuy_coupon_claims_total{result=\"admitted\"}");
        metrics.ShouldContain("exbuy_coupon_claims_total{result=\"issued\"}");
    }
}
