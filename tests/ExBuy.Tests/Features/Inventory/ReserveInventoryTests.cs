using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Marten;
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
        var product = await Store.AddProduct(stock: 4);

        // The shared host runs with nothing configured: the documented default, atomic.
        await Host.PostJson("/api/inventory/reserve", $$"""{"product_id":{{product.Id}},"quantity":1}""", 200);
        (await ReservationLockTypes()).ShouldBe(["atomic"]);

        // A host configured with another default uses that one, for requests that name none only.
        await using (var rowByDefault = await App.StartHostWithAsync(($"{ConcurrencyOptions.Section}:DefaultLockType", "row")))
        {
            await rowByDefault.PostJson("/api/inventory/reserve", $$"""{"product_id":{{product.Id}},"quantity":1}""", 200);
            (await ReservationLockTypes()).ShouldBe(["atomic", "row"]);
            await rowByDefault.PostJson("/api/inventory/reserve?lock_type=optimistic", $$"""{"product_id":{{product.Id}},"quantity":1}""", 200);
            (await ReservationLockTypes()).ShouldBe(["atomic", "row", "optimistic"]);
        }

        (await Store.Reload(product.Id)).Stock.ShouldBe(1);
        await Host.ShouldPassAudit();
    }

    /// <summary>The strategy each reservation ran with, as its event recorded it, oldest first.</summary>
    private async Task<List<string>> ReservationLockTypes()
    {
        await using var session = Store.QuerySession();
        var events = await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "stock_reserved").OrderBy(e => e.Sequence).ToListAsync(Ct);
        return events.Select(e => ((StockReserved)e.Data).LockType).ToList();
    }
}
