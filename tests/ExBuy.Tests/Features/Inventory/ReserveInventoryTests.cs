using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Inventory;

public sealed class ReserveInventoryTests(AppFixture app) : IntegrationContext(app)
{
    [Theory]
    [MemberData(nameof(LockTypeData.All), MemberType = typeof(LockTypeData))]
    public async Task reserving_takes_stock_with_every_strategy(string lockType)
    {
        var product = await Store.AddProduct(stock: 10);

        var body = (await Host.PostJson($"/api/inventory/reserve/?lock_type={lockType}", $$"""{"product_id":{{product.Id}},"quantity":4}""", 200)).AsObject();

        body.ToJsonString().ShouldBe($$"""{"product_id":{{product.Id}},"reserved":4,"remaining_stock":6}""");
        (await Store.Reload(product.Id)).Stock.ShouldBe(6);
        await Host.ShouldPassAudit();
    }

    [Theory]
    [MemberData(nameof(LockTypeData.Safe), MemberType = typeof(LockTypeData))]
    public async Task too_much_is_a_400_and_unknown_is_a_404(string lockType)
    {
        var product = await Store.AddProduct(stock: 3);
        (await Host.PostJson($"/api/inventory/reserve?lock_type={lockType}", $$"""{"product_id":{{product.Id}},"quantity":4}""", 400))["error"]!
            .GetValue<string>().ShouldContain("3 left, 4 requested");
        (await Host.PostJson($"/api/inventory/reserve?lock_type={lockType}", """{"product_id":987654,"quantity":1}""", 404))["error"]!
            .GetValue<string>().ShouldContain("987654");
        (await Store.Reload(product.Id)).Stock.ShouldBe(3);
        await Host.ShouldPassAudit();
    }

    [Theory]
    [InlineData("""{"product_id":1,"quantity":0}""", "quantity")]
    [InlineData("""{"product_id":0,"quantity":1}""", "product_id")]
    [InlineData("""{"quantity":1}""", "product_id")]
    [InlineData("""{"product_id":1}""", "quantity")]
    public async Task invalid_reservations_are_400s(string json, string field)
    {
        (await Host.PostJson("/api/inventory/reserve?lock_type=row", json, 400)).ErrorFields().ShouldContain(field);
    }

    [Fact]
    public async Task the_default_strategy_applies_without_lock_type()
    {
        var product = await Store.AddProduct(stock: 2);
        await Host.PostJson("/api/inventory/reserve", $$"""{"product_id":{{product.Id}},"quantity":2}""", 200);
        (await Store.Reload(product.Id)).Stock.ShouldBe(0);
    }
}
