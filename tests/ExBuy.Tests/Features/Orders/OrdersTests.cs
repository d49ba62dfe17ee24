using System.Globalization;
using ExBuy.Features.Orders;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Orders;

public sealed class OrdersTests(AppFixture app) : IntegrationContext(app)
{
    private async Task<int> OrderCount()
    {
        await using var session = Store.QuerySession();
        return await session.Query<Order>().CountAsync(Ct);
    }

    [Theory]
    [MemberData(nameof(LockTypeData.All), MemberType = typeof(LockTypeData))]
    public async Task placing_an_order_takes_stock_and_captures_prices(string lockType)
    {
        var laptop = await Store.AddProduct(name: "Laptop", price: 1200m, stock: 10);
        var mouse = await Store.AddProduct(name: "Mouse", price: 25.5m, stock: 5);

        var order = (await Host.PlaceOrder(42, $$"""[{"product_id":{{laptop.Id}},"quantity":2},{"product_id":{{mouse.Id}},"quantity":1},{"product_id":{{laptop.Id}},"quantity":1}]""", lockType)).AsObject();

        order.Select(p => p.Key).ShouldBe(["id", "user_id", "status", "total_price", "items", "created_at", "updated_at"]);
        order["status"]!.GetValue<string>().ShouldBe("pending");
        order["user_id"]!.GetValue<long>().ShouldBe(42);
        order["total_price"]!.GetValue<string>().ShouldBe("3625.50");
        var items = order["items"]!.AsArray();
        items.Count.ShouldBe(3);
        items[0]!.AsObject().Select(p => p.Key).ShouldBe(["id", "product", "product_name", "quantity", "unit_price", "subtotal"]);
        items[0]!["unit_price"]!.GetValue<string>().ShouldBe("1200.00");
        items[0]!["subtotal"]!.GetValue<string>().ShouldBe("2400.00");
        items[1]!["product_name"]!.GetValue<string>().ShouldBe("Mouse");
        items.Select(i => i!["id"]!.GetValue<long>()).Distinct().Count().ShouldBe(3);

        (await Store.Reload(laptop.Id)).Stock.ShouldBe(7);
        (await Store.Reload(mouse.Id)).Stock.ShouldBe(4);
        await Host.ShouldPassAudit();

        var id = order["id"]!.GetValue<long>();
        (await Host.GetText($"/api/orders/{id}/")).ShouldBe(order.ToJsonString());
    }

    [Fact]
    public async Task the_price_is_the_one_at_order_time()
    {
        var product = await Store.AddProduct(price: 10m, stock: 5);
        var order = await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":1}]""");

        await using (var session = Store.LightweightSession())
        {
            var reloaded = await session.LoadAsync<ExBuy.Features.Catalog.Product>(product.Id, Ct);
            reloaded!.Price = 99m;
            session.Update(reloaded);
            await session.SaveChangesAsync(Ct);
        }

        var again = await Host.GetJson($"/api/orders/{order["id"]}");
        again["total_price"]!.GetValue<string>().ShouldBe("10.00");
        again["items"]![0]!["unit_price"]!.GetValue<string>().ShouldBe("10.00");
    }

    [Fact]
    public async Task not_enough_stock_is_a_400_error_and_changes_nothing()
    {
        var a = await Store.AddProduct(stock: 10);
        var b = await Store.AddProduct(stock: 1);

        var refusal = await Host.PlaceOrder(1, $$"""[{"product_id":{{a.Id}},"quantity":3},{"product_id":{{b.Id}},"quantity":2}]""", status: 400);

        refusal["error"]!.GetValue<string>().ShouldContain($"product {b.Id}");
        (await Store.Reload(a.Id)).Stock.ShouldBe(10);
        (await Store.Reload(b.Id)).Stock.ShouldBe(1);
        (await OrderCount()).ShouldBe(0);
    }

    [Fact]
    public async Task an_unknown_product_is_404_and_changes_nothing()
    {
        var a = await Store.AddProduct(stock: 10);
        var refusal = await Host.PlaceOrder(1, $$"""[{"product_id":{{a.Id}},"quantity":1},{"product_id":987654,"quantity":1}]""", status: 404);
        refusal["error"]!.GetValue<string>().ShouldContain("987654");
        (await Store.Reload(a.Id)).Stock.ShouldBe(10);
        (await OrderCount()).ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"user_id":1,"items":[]}""", "items")]
    [InlineData("""{"user_id":1}""", "items")]
    [InlineData("""{"items":[{"product_id":1,"quantity":1}]}""", "user_id")]
    [InlineData("""{"user_id":1,"items":[{"product_id":1,"quantity":0}]}""", "items[0].quantity")]
    [InlineData("""{"user_id":1,"items":[{"product_id":1,"quantity":-2}]}""", "items[0].quantity")]
    [InlineData("""{"user_id":1,"items":[{"quantity":1}]}""", "items[0].product_id")]
    [InlineData("""{"user_id":1,"items":[{"product_id":1,"quantity":10001}]}""", "items[0].quantity")]
    public async Task invalid_orders_are_400s_naming_the_field(string json, string field)
    {
        await Store.AddProduct(stock: 10);
        var problem = await Host.PostJson("/api/orders", json, 400);
        problem.ErrorFields().ShouldContain(field);
        (await OrderCount()).ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"user_id":"x","items":[]}""")]
    [InlineData("""{"user_id":1,"items":{"product_id":1}}""")]
    [InlineData("""{"user_id":1,"items":[{"product_id":1,"quantity":1.5}]}""")]
    [InlineData("""{"user_id":1,""")]
    public async Task malformed_order_json_is_400(string json)
    {
        await Store.AddProduct(stock: 10);
        await Host.PostJson("/api/orders", json, 400);
        (await OrderCount()).ShouldBe(0);
    }

    [Fact]
    public async Task an_unknown_lock_type_is_400()
    {
        var product = await Store.AddProduct(stock: 10);
        var problem = await Host.PostJson("/api/orders?lock_type=magic", $$"""{"user_id":1,"items":[{"product_id":{{product.Id}},"quantity":1}]}""", 400);
        problem.ErrorFields().ShouldContain("lock_type");
        (await Store.Reload(product.Id)).Stock.ShouldBe(10);
    }

    [Fact]
    public async Task order_detail_is_404_for_unknown_ids_and_optimize_changes_nothing_in_the_body()
    {
        await Host.GetJson("/api/orders/31337", 404);
        var product = await Store.AddProduct(stock: 10);
        var order = await Host.PlaceOrder(3, $$"""[{"product_id":{{product.Id}},"quantity":2}]""");
        var id = order["id"]!.GetValue<long>();
        (await Host.GetText($"/api/orders/{id}?optimize=true")).ShouldBe(await Host.GetText($"/api/orders/{id}?optimize=false"));
    }

    [Fact]
    public async Task status_changes_and_cancelling_returns_the_stock_once()
    {
        var product = await Store.AddProduct(stock: 10);
        var order = await Host.PlaceOrder(3, $$"""[{"product_id":{{product.Id}},"quantity":4}]""");
        var url = $"/api/orders/{order["id"]}";

        (await Host.PatchJson(url, """{"status":"processing"}""", 200))["status"]!.GetValue<string>().ShouldBe("processing");
        (await Store.Reload(product.Id)).Stock.ShouldBe(6);

        (await Host.PatchJson(url + "/", """{"status":"cancelled"}""", 200))["status"]!.GetValue<string>().ShouldBe("cancelled");
        (await Store.Reload(product.Id)).Stock.ShouldBe(10);

        (await Host.PatchJson(url, """{"status":"cancelled"}""", 200))["status"]!.GetValue<string>().ShouldBe("cancelled");
        (await Store.Reload(product.Id)).Stock.ShouldBe(10);
        await Host.ShouldPassAudit();

        // Live again: the stock is taken again, and a second cancellation returns it again.
        (await Host.PatchJson(url, """{"status":"shipped"}""", 200))["status"]!.GetValue<string>().ShouldBe("shipped");
        (await Store.Reload(product.Id)).Stock.ShouldBe(6);
        await Host.PatchJson(url, """{"status":"cancelled"}""", 200);
        (await Store.Reload(product.Id)).Stock.ShouldBe(10);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task reviving_a_cancelled_order_needs_its_stock_back()
    {
        var product = await Store.AddProduct(stock: 5);
        var order = await Host.PlaceOrder(3, $$"""[{"product_id":{{product.Id}},"quantity":4}]""");
        var url = $"/api/orders/{order["id"]}";
        await Host.PatchJson(url, """{"status":"cancelled"}""", 200);
        await Host.PlaceOrder(4, $$"""[{"product_id":{{product.Id}},"quantity":3}]""");

        (await Host.PatchJson(url, """{"status":"pending"}""", 400))["error"]!.GetValue<string>().ShouldContain("Not enough stock");

        (await Host.GetJson(url))["status"]!.GetValue<string>().ShouldBe("cancelled");
        (await Store.Reload(product.Id)).Stock.ShouldBe(2);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task historical_seeded_orders_change_status_without_moving_stock()
    {
        await new ExBuy.Features.Seeding.CatalogSeeder(Store, TimeProvider.System, Host.Services.GetServices<ExBuy.Infrastructure.Marten.IModuleReset>()).SeedAsync(new ExBuy.Features.Seeding.SeedPlan(5, 20, 0, 100), _ => { }, Ct);
        await using var session = Store.QuerySession();
        var seeded = await session.Query<Order>().Where(o => o.Status != OrderStatuses.Cancelled).FirstAsync(Ct);
        var stockBefore = (await Store.Reload(seeded.Items[0].ProductId)).Stock;

        await Host.PatchJson($"/api/orders/{seeded.Id}", """{"status":"cancelled"}""", 200);
        await Host.PatchJson($"/api/orders/{seeded.Id}", """{"status":"delivered"}""", 200);

        (await Store.Reload(seeded.Items[0].ProductId)).Stock.ShouldBe(stockBefore);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task concurrent_cancellations_return_the_stock_exactly_once()
    {
        var product = await Store.AddProduct(stock: 10);
        var order = await Host.PlaceOrder(3, $$"""[{"product_id":{{product.Id}},"quantity":4}]""");

        var responses = await Host.FireAsync(20, _ => (HttpMethod.Patch, $"/api/orders/{order["id"]}", """{"status":"cancelled"}"""));

        responses.ShouldAllBe(r => r.Status == 200);
        (await Store.Reload(product.Id)).Stock.ShouldBe(10);
        await Host.ShouldPassAudit();
    }

    [Theory]
    [InlineData("""{"status":"lost"}""")]
    [InlineData("""{"status":""}""")]
    [InlineData("""{}""")]
    public async Task invalid_statuses_are_400s(string json)
    {
        var product = await Store.AddProduct(stock: 10);
        var order = await Host.PlaceOrder(3, $$"""[{"product_id":{{product.Id}},"quantity":1}]""");
        (await Host.PatchJson($"/api/orders/{order["id"]}", json, 400)).ErrorFields().ShouldContain("status");
        (await Host.GetJson($"/api/orders/{order["id"]}"))["status"]!.GetValue<string>().ShouldBe("pending");
        await Host.PatchJson("/api/orders/999999", """{"status":"shipped"}""", 404);
    }

    [Fact]
    public async Task bulk_orders_are_created_together()
    {
        var a = await Store.AddProduct(stock: 100);
        var b = await Store.AddProduct(stock: 100);
        var orders = string.Join(",", Enumerable.Range(1, 50).Select(i => $$"""{"user_id":{{i}},"items":[{"product_id":{{a.Id}},"quantity":1},{"product_id":{{b.Id}},"quantity":2}]}"""));

        var result = await Host.PostJson("/api/orders/bulk/?lock_type=optimistic", $$"""{"orders":[{{orders}}]}""", 201);

        result["created"]!.GetValue<int>().ShouldBe(50);
        var ids = result["order_ids"]!.AsArray().Select(i => i!.GetValue<long>()).ToList();
        ids.Distinct().Count().ShouldBe(50);
        ids.ShouldBe(ids.Order());
        (await Store.Reload(a.Id)).Stock.ShouldBe(50);
        (await Store.Reload(b.Id)).Stock.ShouldBe(0);
        (await OrderCount()).ShouldBe(50);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task bulk_orders_are_all_or_nothing()
    {
        var a = await Store.AddProduct(stock: 100);
        var b = await Store.AddProduct(stock: 3);
        var orders = string.Join(",", Enumerable.Range(1, 4).Select(i => $$"""{"user_id":{{i}},"items":[{"product_id":{{a.Id}},"quantity":1},{"product_id":{{b.Id}},"quantity":1}]}"""));

        (await Host.PostJson("/api/orders/bulk", $$"""{"orders":[{{orders}}]}""", 400))["error"]!.GetValue<string>().ShouldContain($"product {b.Id}");

        (await Store.Reload(a.Id)).Stock.ShouldBe(100);
        (await Store.Reload(b.Id)).Stock.ShouldBe(3);
        (await OrderCount()).ShouldBe(0);
    }

    [Fact]
    public async Task bulk_requests_over_1000_orders_or_with_a_bad_order_are_400s()
    {
        var a = await Store.AddProduct(stock: 100_000);
        var many = string.Join(",", Enumerable.Range(1, 1001).Select(i => $$"""{"user_id":1,"items":[{"product_id":{{a.Id}},"quantity":1}]}"""));
        (await Host.PostJson("/api/orders/bulk", $$"""{"orders":[{{many}}]}""", 400)).ErrorFields().ShouldContain("orders");
        (await Host.PostJson("/api/orders/bulk", """{"orders":[]}""", 400)).ErrorFields().ShouldContain("orders");
        (await Host.PostJson("/api/orders/bulk", string.Create(CultureInfo.InvariantCulture, $$"""{"orders":[{"user_id":1,"items":[{"product_id":{{a.Id}},"quantity":1}]},{"user_id":0,"items":[]}]}"""), 400))
            .ErrorFields().ShouldContain("orders[1].user_id");
        (await OrderCount()).ShouldBe(0);
        (await Store.Reload(a.Id)).Stock.ShouldBe(100_000);
    }
}
