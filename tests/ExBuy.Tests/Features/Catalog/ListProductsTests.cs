using System.Text.Json.Nodes;
using ExBuy.Features.Catalog;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Catalog;

public sealed class ListProductsTests(AppFixture app) : IntegrationContext(app)
{
    private static List<long> Ids(JsonNode page) => page["results"]!.AsArray().Select(p => p!["id"]!.GetValue<long>()).ToList();

    [Fact]
    public async Task pages_hold_100_products_newest_first_with_drf_links()
    {
        var products = await Store.AddProducts(250);

        var first = await Host.GetJson("/api/products/");
        first["count"]!.GetValue<long>().ShouldBe(250);
        first["previous"].ShouldBeNull();
        first["next"]!.GetValue<string>().ShouldBe("http://localhost/api/products/?page=2");
        Ids(first).ShouldBe(products.OrderByDescending(p => p.CreatedAt).Take(100).Select(p => p.Id));

        var third = await Host.GetJson("/api/products?page=3");
        Ids(third).Count.ShouldBe(50);
        third["next"].ShouldBeNull();
        third["previous"]!.GetValue<string>().ShouldBe("http://localhost/api/products/?page=2");

        var second = await Host.GetJson("/api/products?page=2&ordering=price");
        second["previous"]!.GetValue<string>().ShouldBe("http://localhost/api/products/?ordering=price");
        second["next"]!.GetValue<string>().ShouldBe("http://localhost/api/products/?ordering=price&page=3");
    }

    [Fact]
    public async Task a_page_past_the_end_is_404_but_an_empty_first_page_is_not()
    {
        var empty = await Host.GetJson("/api/products");
        empty["count"]!.GetValue<long>().ShouldBe(0);
        empty["results"]!.AsArray().Count.ShouldBe(0);

        await Store.AddProducts(100);
        (await Host.GetJson("/api/products?page=2", 404))["detail"]!.GetValue<string>().ShouldBe("Invalid page.");
    }

    [Fact]
    public async Task list_items_carry_exactly_the_listed_fields_with_money_as_strings()
    {
        await Store.AddProduct(name: "Gaming Laptop", price: 129m, stock: 3);
        var item = (await Host.GetJson("/api/products"))["results"]![0]!.AsObject();

        item.Select(p => p.Key).ShouldBe(["id", "name", "price", "stock", "category", "updated_at"]);
        item["price"]!.GetValue<string>().ShouldBe("129.00");
        item["updated_at"]!.GetValue<string>().ShouldEndWith("Z");
    }

    [Fact]
    public async Task filters_by_category_price_range_and_text()
    {
        await Store.AddProduct(name: "Cheap Phone", price: 50m, category: "electronics");
        await Store.AddProduct(name: "Fancy Phone", price: 900m, category: "electronics");
        await Store.AddProduct(name: "Blue Shirt", price: 60m, category: "clothing", description: "A shirt for your PHONE calls");
        await Store.AddProduct(name: "Novel", price: 20m, category: "books");

        async Task<List<string>> Names(string query) =>
            (await Host.GetJson($"/api/products?{query}&ordering=name"))["results"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();

        (await Names("category=electronics")).ShouldBe(["Cheap Phone", "Fancy Phone"]);
        (await Names("min_price=55&max_price=900")).ShouldBe(["Blue Shirt", "Fancy Phone"]);
        (await Names("min_price=60.00&max_price=60.00")).ShouldBe(["Blue Shirt"]);
        (await Names("q=phone")).ShouldBe(["Blue Shirt", "Cheap Phone", "Fancy Phone"]);
        (await Names("q=PHONE&category=electronics&max_price=100")).ShouldBe(["Cheap Phone"]);
        (await Names("category=&q=")).Count.ShouldBe(4);
    }

    [Theory]
    [InlineData("price")]
    [InlineData("-price")]
    [InlineData("created_at")]
    [InlineData("-created_at")]
    [InlineData("name")]
    [InlineData("-name")]
    [InlineData("stock")]
    [InlineData("-stock")]
    public async Task every_allowed_ordering_sorts_with_id_as_tie_breaker(string ordering)
    {
        var products = await Store.AddProducts(30, i => new TestProduct
        {
            Name = $"Item {(i * 7) % 30:D2}", Price = (i * 13) % 10, Stock = (i * 11) % 5, Category = "home",
            CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-(i * 17 % 30)), UpdatedAt = DateTimeOffset.UtcNow,
        });

        var field = ordering.TrimStart('-');
        Func<TestProduct, IComparable> key = field switch
        {
            "price" => p => p.Price,
            "created_at" => p => p.CreatedAt,
            "name" => p => p.Name,
            _ => p => p.Stock,
        };
        var expected = ordering.StartsWith('-')
            ? products.OrderByDescending(key).ThenByDescending(p => p.Id)
            : products.OrderBy(key).ThenBy(p => p.Id);

        foreach (var optimize in new[] { "false", "true" })
        {
            Ids(await Host.GetJson($"/api/products?ordering={ordering}&optimize={optimize}")).ShouldBe(expected.Select(p => p.Id));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("?category=books&ordering=price")]
    [InlineData("?q=product&min_price=15&max_price=200&ordering=-stock&page=2")]
    public async Task optimize_true_returns_the_same_body(string query)
    {
        await Store.AddProducts(220);
        var sep = query.Length == 0 ? "?" : "&";
        var naive = await Host.GetText($"/api/products{query}{sep}optimize=false");
        var optimized = await Host.GetText($"/api/products{query}{sep}optimize=true");
        optimized.Replace("optimize=true", "optimize=X", StringComparison.Ordinal)
            .ShouldBe(naive.Replace("optimize=false", "optimize=X", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ordering=bogus", "ordering")]
    [InlineData("ordering=description", "ordering")]
    [InlineData("category=toys", "category")]
    [InlineData("min_price=abc", "min_price")]
    [InlineData("max_price=-1", "max_price")]
    [InlineData("min_price=10&max_price=5", "max_price")]
    [InlineData("page=0", "page")]
    [InlineData("page=abc", "page")]
    [InlineData("page=99999999999", "page")]
    [InlineData("optimize=maybe", "optimize")]
    public async Task bad_query_parameters_are_400s_naming_the_field(string query, string field)
    {
        var problem = await Host.GetJson($"/api/products?{query}", 400);
        problem.ErrorFields().ShouldContain(field);
    }

    [Fact]
    public async Task an_overlong_search_text_is_rejected()
    {
        var problem = await Host.GetJson($"/api/products?q={new string('x', ProductFilter.MaxQueryLength + 1)}", 400);
        problem.ErrorFields().ShouldContain("q");
    }
}
