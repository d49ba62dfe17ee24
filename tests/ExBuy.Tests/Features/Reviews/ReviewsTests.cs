using ExBuy.Features.Reviews;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Reviews;

public sealed class ReviewsTests(AppFixture app) : IntegrationContext(app)
{
    private async Task<int> ReviewCount()
    {
        await using var session = Store.QuerySession();
        return await session.Query<Review>().CountAsync(Ct);
    }

    [Fact]
    public async Task creating_a_review_answers_201_with_the_product_name()
    {
        var product = await Store.AddProduct(name: "Cookbook");

        var created = (await Host.PostJson("/api/reviews/", $$"""{"product":{{product.Id}},"user_id":100,"rating":5,"body":"Great product!"}""", 201)).AsObject();

        created.Select(p => p.Key).ShouldBe(["id", "product", "product_name", "user_id", "rating", "body", "created_at"]);
        created["product"]!.GetValue<long>().ShouldBe(product.Id);
        created["product_name"]!.GetValue<string>().ShouldBe("Cookbook");
        created["rating"]!.GetValue<int>().ShouldBe(5);

        var detail = await Host.GetJson($"/api/products/{product.Id}");
        detail["review_count"]!.GetValue<long>().ShouldBe(1);
    }

    [Theory]
    [InlineData("""{"product":PID,"user_id":1,"rating":0,"body":"x"}""", "rating")]
    [InlineData("""{"product":PID,"user_id":1,"rating":6,"body":"x"}""", "rating")]
    [InlineData("""{"product":PID,"user_id":1,"body":"x"}""", "rating")]
    [InlineData("""{"product":PID,"user_id":0,"rating":3,"body":"x"}""", "user_id")]
    [InlineData("""{"product":PID,"rating":3,"body":"x"}""", "user_id")]
    [InlineData("""{"product":PID,"user_id":1,"rating":3,"body":""}""", "body")]
    [InlineData("""{"user_id":1,"rating":3,"body":"x"}""", "product")]
    [InlineData("""{"product":424242,"user_id":1,"rating":3,"body":"x"}""", "product")]
    public async Task invalid_reviews_are_400s_and_nothing_is_stored(string template, string field)
    {
        var product = await Store.AddProduct();
        var problem = await Host.PostJson("/api/reviews", template.Replace("PID", product.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), 400);
        problem.ErrorFields().ShouldContain(field);
        (await ReviewCount()).ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"product":1,"user_id":1,"rating":"five","body":"x"}""")]
    [InlineData("""{"product":1,"user_id":1,"rating":3.5,"body":"x"}""")]
    [InlineData("""{"product":"abc","user_id":1,"rating":3,"body":"x"}""")]
    [InlineData("""{"product":1,"user_id":1,"rating":3,"body":"x" """)]
    [InlineData("""not json""")]
    public async Task malformed_or_mistyped_json_is_400(string json)
    {
        await Store.AddProduct();
        await Host.PostJson("/api/reviews", json, 400);
        (await ReviewCount()).ShouldBe(0);
    }

    [Fact]
    public async Task reviews_list_is_paged_newest_first_and_filtered()
    {
        var lamp = await Store.AddProduct(name: "Lamp");
        var desk = await Store.AddProduct(name: "Desk");
        var start = DateTimeOffset.UtcNow.AddHours(-5);
        for (var i = 0; i < 120; i++)
        {
            await Store.AddReview(i % 2 == 0 ? lamp.Id : desk.Id, (i % 5) + 1, userId: i % 3 == 0 ? 42 : 7, createdAt: start.AddSeconds(i));
        }

        var page = await Host.GetJson("/api/reviews");
        page["count"]!.GetValue<long>().ShouldBe(120);
        page["results"]!.AsArray().Count.ShouldBe(100);
        page["next"]!.GetValue<string>().ShouldBe("http://localhost/api/reviews/?page=2");
        var times = page["results"]!.AsArray().Select(r => DateTimeOffset.Parse(r!["created_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        times.ShouldBe(times.OrderByDescending(t => t));

        var lampOnly = await Host.GetJson($"/api/reviews?product_id={lamp.Id}");
        lampOnly["count"]!.GetValue<long>().ShouldBe(60);
        lampOnly["results"]!.AsArray().ShouldAllBe(r => r!["product_name"]!.GetValue<string>() == "Lamp");

        var lampBy42 = await Host.GetJson($"/api/reviews?product_id={lamp.Id}&user_id=42");
        lampBy42["count"]!.GetValue<long>().ShouldBe(20);

        await Host.GetJson("/api/reviews?page=3", 404);
    }

    [Fact]
    public async Task reviews_list_optimize_returns_the_same_body()
    {
        var a = await Store.AddProduct(name: "A");
        var b = await Store.AddProduct(name: "B");
        for (var i = 0; i < 10; i++)
        {
            await Store.AddReview(i % 2 == 0 ? a.Id : b.Id, 3, createdAt: DateTimeOffset.UtcNow.AddMinutes(-i));
        }

        var naive = await Host.GetText("/api/reviews");
        var optimized = await Host.GetText("/api/reviews?optimize=true");
        optimized.ShouldBe(naive);
    }

    [Theory]
    [InlineData("product_id=0", "product_id")]
    [InlineData("user_id=abc", "user_id")]
    [InlineData("page=-1", "page")]
    public async Task bad_review_filters_are_400s(string query, string field)
    {
        (await Host.GetJson($"/api/reviews?{query}", 400)).ErrorFields().ShouldContain(field);
    }

    [Fact]
    public async Task product_reviews_are_an_array_newest_first_with_a_limit()
    {
        var product = await Store.AddProduct(name: "Headphones");
        var other = await Store.AddProduct(name: "Other");
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        for (var i = 0; i < 5; i++)
        {
            await Store.AddReview(product.Id, i + 1, createdAt: start.AddMinutes(i));
        }

        await Store.AddReview(other.Id, 1);

        var reviews = (await Host.GetJson($"/api/products/{product.Id}/reviews/")).AsArray();
        reviews.Select(r => r!["rating"]!.GetValue<int>()).ShouldBe([5, 4, 3, 2, 1]);
        reviews.ShouldAllBe(r => r!["product_name"]!.GetValue<string>() == "Headphones");

        (await Host.GetText($"/api/products/{product.Id}/reviews?optimize=true")).ShouldBe(await Host.GetText($"/api/products/{product.Id}/reviews"));
        (await Host.GetJson($"/api/products/{product.Id}/reviews?limit=2")).AsArray().Count.ShouldBe(2);
        (await Host.GetText($"/api/products/{product.Id}/reviews?limit=2&optimize=true")).ShouldBe(await Host.GetText($"/api/products/{product.Id}/reviews?limit=2"));
        (await Host.GetJson($"/api/products/{product.Id}/reviews?limit=0", 400)).ErrorFields().ShouldContain("limit");
        await Host.GetJson("/api/products/999999/reviews", 404);
        await Host.GetJson("/api/products/999999/reviews?optimize=true", 404);

        // A product without reviews is an empty array on both paths, not a 404.
        (await Host.GetJson($"/api/products/{(await Store.AddProduct(name: "Quiet")).Id}/reviews?optimize=true")).AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task every_review_list_answers_the_same_on_both_paths()
    {
        var a = await Store.AddProduct(name: "Lamp");
        var b = await Store.AddProduct(name: "Desk");
        var start = DateTimeOffset.UtcNow.AddHours(-5);
        for (var i = 0; i < 230; i++)
        {
            // Equal creation times in threes: the id breaks the ties on both paths.
            await Store.AddReview(i % 3 == 0 ? a.Id : b.Id, 1 + (i % 5), userId: 40 + (i % 4), createdAt: start.AddSeconds(i / 3));
        }

        foreach (var query in new[] { "", "page=2", "page=3", $"product_id={a.Id}", $"product_id={b.Id}&page=2", "user_id=41", $"user_id=42&product_id={b.Id}", "user_id=999" })
        {
            (await Host.GetText($"/api/reviews?optimize=true&{query}")).ShouldBe(
                (await Host.GetText($"/api/reviews?optimize=false&{query}")).Replace("optimize=false", "optimize=true"), query);
        }

        await Host.GetJson("/api/reviews?optimize=true&page=4", 404);
        await Host.GetJson($"/api/reviews?optimize=true&product_id={a.Id}&page=2", 404);
        (await Host.GetJson("/api/reviews?optimize=true&user_id=999"))["count"]!.GetValue<long>().ShouldBe(0);
    }
}
