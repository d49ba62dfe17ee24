using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Catalog;

public sealed class SearchProductsTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task search_returns_a_plain_array_filtered_by_text_category_price_and_stock()
    {
        var inStock = await Store.AddProduct(name: "Laptop Stand", price: 30m, stock: 5, category: "home");
        await Store.AddProduct(name: "Laptop Pro", price: 1500m, stock: 0, category: "electronics");
        var cheap = await Store.AddProduct(name: "Gaming laptop", price: 700m, stock: 2, category: "electronics");
        await Store.AddProduct(name: "Desk", price: 80m, stock: 9, category: "home");

        async Task<List<long>> Ids(string query) =>
            (await Host.GetJson($"/api/search/products/?{query}")).AsArray().Select(p => p!["id"]!.GetValue<long>()).ToList();

        (await Ids("q=LAPTOP&in_stock=true")).ShouldBe([inStock.Id, cheap.Id]);
        (await Ids("q=laptop&category=electronics&max_price=1000")).ShouldBe([cheap.Id]);
        (await Ids("q=laptop&min_price=31")).Count.ShouldBe(2);
        (await Ids("q=nothing-matches")).ShouldBeEmpty();
        (await Ids("limit=1")).Count.ShouldBe(1);
    }

    [Theory]
    [InlineData("in_stock=yes", "in_stock")]
    [InlineData("category=garden", "category")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("min_price=x", "min_price")]
    [InlineData("q=a%00b", "q")]
    public async Task bad_search_parameters_are_400s(string query, string field)
    {
        (await Host.GetJson($"/api/search/products?{query}", 400)).ErrorFields().ShouldContain(field);
    }
}
