using ExBuy.Features.Rankings;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Rankings;

public sealed class TopProductsTests(AppFixture app) : IntegrationContext(app)
{
    private Task CatchUp() => Store.CatchUpAsync(Host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>());

    [Fact]
    public async Task top_products_come_from_the_order_events_by_revenue()
    {
        var cheap = await Store.AddProduct(name: "Cheap", price: 5m, stock: 100);
        var pricey = await Store.AddProduct(name: "Pricey", price: 300m, stock: 100);
        var middle = await Store.AddProduct(name: "Middle", price: 40m, stock: 100);
        var tied = await Store.AddProduct(name: "Tied", price: 120m, stock: 100);
        var gone = await Store.AddProduct(name: "Gone", price: 1000m, stock: 100);

        await Host.PlaceOrder(1, $$"""[{"product_id":{{cheap.Id}},"quantity":10},{"product_id":{{middle.Id}},"quantity":1}]""");
        await Host.PlaceOrder(2, $$"""[{"product_id":{{pricey.Id}},"quantity":1},{"product_id":{{middle.Id}},"quantity":2}]""");
        var cancelled = await Host.PlaceOrder(3, $$"""[{"product_id":{{pricey.Id}},"quantity":2}]""");
        await Host.PatchJson($"/api/orders/{cancelled["id"]}", """{"status":"cancelled"}""", 200);
        // Revenue 120 like Middle's: the lower id comes first. A product whose only order was cancelled is not listed.
        await Host.PlaceOrder(4, $$"""[{"product_id":{{tied.Id}},"quantity":1}]""");
        var undone = await Host.PlaceOrder(5, $$"""[{"product_id":{{gone.Id}},"quantity":1}]""");
        await Host.PatchJson($"/api/orders/{undone["id"]}", """{"status":"cancelled"}""", 200);
        await CatchUp();

        var top = (await Host.GetJson("/api/stats/top-products?limit=10")).AsArray();

        top.Select(t => t!["product_name"]!.GetValue<string>()).ShouldBe(["Pricey", "Middle", "Tied", "Cheap"]);
        top[0]!.AsObject().Select(p => p.Key).ShouldBe(["product_id", "product_name", "total_quantity", "total_revenue", "order_count"]);
        top[0]!["total_quantity"]!.GetValue<long>().ShouldBe(1);
        top[0]!["total_revenue"]!.GetValue<string>().ShouldBe("300.00");
        top[0]!["order_count"]!.GetValue<long>().ShouldBe(1);
        top[1]!["total_quantity"]!.GetValue<long>().ShouldBe(3);
        top[1]!["total_revenue"]!.GetValue<string>().ShouldBe("120.00");
        top[1]!["order_count"]!.GetValue<long>().ShouldBe(2);
        (await Host.GetJson("/api/stats/top-products?limit=1")).AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task rebuilding_the_projection_from_the_events_gives_the_same_numbers()
    {
        var products = await Store.AddProducts(8, i => new TestProduct
        {
            Name = $"P{i}", Price = 3m + i, Stock = 1000, Category = "food", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        });
        var responses = await Host.FireAsync(60, i =>
            (HttpMethod.Post, "/api/orders?lock_type=optimistic", $$"""{"user_id":{{i + 1}},"items":[{"product_id":{{products[i % 8].Id}},"quantity":{{1 + (i % 3)}}},{"product_id":{{products[(i * 3) % 8].Id}},"quantity":1}]}"""));
        responses.ShouldAllBe(r => r.Status == 201);
        await CatchUp();
        var before = await Host.GetText("/api/stats/top-products?limit=100");

        await using (var session = Store.LightweightSession())
        {
            session.DeleteWhere<ProductSales>(_ => true);
            await session.SaveChangesAsync(Ct);
        }

        (await Host.GetJson("/api/stats/top-products")).AsArray().ShouldBeEmpty();

        using var daemon = await Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<ProductSalesProjection>(TimeSpan.FromSeconds(60), Ct);
        await CatchUp();

        (await Host.GetText("/api/stats/top-products?limit=100")).ShouldBe(before);
        (await Host.GetJson("/api/stats/top-products?limit=100")).AsArray().Count.ShouldBe(8);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=abc")]
    public async Task limit_is_validated(string query)
    {
        (await Host.GetJson($"/api/stats/top-products?{query}", 400)).ErrorFields().ShouldContain("limit");
    }
}
