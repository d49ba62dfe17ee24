using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Catalog;

public sealed class GetProductTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task detail_has_every_field_and_review_statistics()
    {
        var product = await Store.AddProduct(name: "Reading Lamp", price: 24.5m, stock: 4, category: "home", description: "Warm light");
        await Store.AddReview(product.Id, 5);
        await Store.AddReview(product.Id, 4);
        await Store.AddReview(product.Id, 4);
        var other = await Store.AddProduct(name: "Other");
        await Store.AddReview(other.Id, 1);

        var detail = (await Host.GetJson($"/api/products/{product.Id}")).AsObject();

        detail.Select(p => p.Key).ShouldBe(
            ["id", "name", "description", "price", "stock", "category", "created_at", "updated_at", "review_count", "average_rating"]);
        detail["id"]!.GetValue<long>().ShouldBe(product.Id);
        detail["description"]!.GetValue<string>().ShouldBe("Warm light");
        detail["price"]!.GetValue<string>().ShouldBe("24.50");
        detail["review_count"]!.GetValue<long>().ShouldBe(3);
        detail["average_rating"]!.GetValue<decimal>().ShouldBe(4.33m);
    }

    [Fact]
    public async Task average_rating_is_null_without_reviews()
    {
        var product = await Store.AddProduct();
        var detail = await Host.GetJson($"/api/products/{product.Id}?optimize=true");
        detail["review_count"]!.GetValue<long>().ShouldBe(0);
        detail["average_rating"].ShouldBeNull();
    }

    [Fact]
    public async Task optimized_and_naive_paths_return_identical_bodies()
    {
        var product = await Store.AddProduct(price: 3.1m);
        await Store.AddReview(product.Id, 2);
        await Store.AddReview(product.Id, 3);

        var naive = await Host.GetText($"/api/products/{product.Id}");
        var optimized = await Host.GetText($"/api/products/{product.Id}/?optimize=true");
        optimized.ShouldBe(naive);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("true")]
    public async Task unknown_product_is_404(string optimize)
    {
        await Store.AddProduct();
        (await Host.GetJson($"/api/products/987654?optimize={optimize}", 404))["detail"]!.GetValue<string>().ShouldBe("Not found.");
        await Host.GetJson("/api/products/0", 404);
        await Host.GetJson("/api/products/-5", 404);
    }
}
