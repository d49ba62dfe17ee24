using ExBuy.Tests.Infrastructure;
using Shouldly;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.Orders;

/// <summary>What a product page shows is what an order charges, on both surfaces, to the cent.</summary>
public sealed class PriceParityTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task the_shop_surface_shows_the_price_an_order_charges_for_a_price_with_cents()
    {
        await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        var product = await Store.AddProduct(price: 129.47m, stock: 10);

        var shown = (await Host.GetJson($"/products/{product.Id}"))["price"]!.GetValue<decimal>();
        var listedOnExBuy = decimal.Parse((await Host.GetJson($"/api/products/{product.Id}"))["price"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        shown.ShouldBe(listedOnExBuy, "both surfaces show one price");

        // Charge exactly the shown price × quantity: the order must go through and take exactly that.
        await Host.Charge(user, shown * 3);
        var placed = await Host.PostJson("/orders", OrderBody(user, null, Items([product.Id], quantity: 3)), 201);

        placed["totalAmount"]!.GetValue<decimal>().ShouldBe(shown * 3);
        (await Host.Balance(user)).ShouldBe(0m, "the balance debited is exactly the shown price times the quantity");
        shown.ShouldBe(129.47m);
    }
}
