using System.Text;
using System.Text.Json.Nodes;
using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>
/// <c>lock_type=none</c> outside the local profile needs the admin key on every route that takes stock. The
/// profile is switched per request (<see cref="ProfileOverride"/>), never on the shared host.
/// </summary>
public sealed class UnsafeStrategyTests(AppFixture app) : IntegrationContext(app)
{
    public static TheoryData<string> StockTakingRoutes => ["orders", "bulk", "reserve", "flash-sale", "revive", "paid-order"];

    private sealed record Attempt(HttpMethod Method, string Url, string Body, long ProductId, int Success);

    /// <summary>Sets up what the route needs and returns a request that takes one unit of a product with <c>none</c>.</summary>
    private async Task<Attempt> Prepare(string route)
    {
        switch (route)
        {
            case "orders":
            {
                var product = await Store.AddProduct(stock: 10);
                return new(HttpMethod.Post, "/api/orders?lock_type=none", $$"""{"user_id":1,"items":[{"product_id":{{product.Id}},"quantity":1}]}""", product.Id, 201);
            }

            case "bulk":
            {
                var product = await Store.AddProduct(stock: 10);
                return new(HttpMethod.Post, "/api/orders/bulk?lock_type=none", $$"""{"orders":[{"user_id":1,"items":[{"product_id":{{product.Id}},"quantity":1}]}]}""", product.Id, 201);
            }

            case "reserve":
            {
                var product = await Store.AddProduct(stock: 10);
                return new(HttpMethod.Post, "/api/inventory/reserve?lock_type=none", $$"""{"product_id":{{product.Id}},"quantity":1}""", product.Id, 200);
            }

            case "flash-sale":
            {
                var product = await Host.SetUpFlashSale(10);
                return new(HttpMethod.Post, $"/api/flash-sales/{product}/purchase?lock_type=none", """{"user_id":1}""", product, 201);
            }

            case "revive":
            {
                var product = await Store.AddProduct(stock: 10);
                var order = (await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":1}]"""))["id"]!.GetValue<long>();
                await Host.PatchJson($"/api/orders/{order}", """{"status":"cancelled"}""", 200);
                return new(HttpMethod.Patch, $"/api/orders/{order}?lock_type=none", """{"status":"pending"}""", product.Id, 200);
            }

            case "paid-order":
            {
                var shop = await Host.InitShop("""{"userCount":1,"productCount":1}""");
                await Host.Charge(shop.UserIds[0], 10_000);
                return new(HttpMethod.Post, "/orders?lock_type=none", ShopFlowScenarios.OrderBody(shop.UserIds[0], null, ShopFlowScenarios.Items(shop.ProductIds)), shop.ProductIds[0], 201);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(route), route, null);
        }
    }

    private async Task<(int Status, JsonNode? Body)> Send(Attempt attempt, string? profile, string? adminKey)
    {
        using var client = Host.Server.CreateClient();
        using var message = new HttpRequestMessage(attempt.Method, attempt.Url)
        {
            Content = new StringContent(attempt.Body, Encoding.UTF8, "application/json"),
        };
        if (profile is not null)
        {
            message.Headers.Add(ProfileOverride.Header, profile);
        }

        if (adminKey is not null)
        {
            message.Headers.Add("X-Admin-Key", adminKey);
        }

        using var response = await client.SendAsync(message, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    private async Task<int> Stock(long productId) => (await Store.Reload(productId)).Stock;

    [Theory]
    [MemberData(nameof(StockTakingRoutes))]
    public async Task outside_the_local_profile_none_without_the_admin_key_is_403_and_takes_nothing(string route)
    {
        var attempt = await Prepare(route);
        var stock = await Stock(attempt.ProductId);

        foreach (var key in new[] { null, "wrong", "" })
        {
            var (status, problem) = await Send(attempt, "production", key);

            status.ShouldBe(403);
            problem.ShouldNotBeNull().ErrorFields().ShouldBe(["lock_type"]);
            problem["status"]!.GetValue<int>().ShouldBe(403);
            problem["detail"]!.GetValue<string>().ShouldContain("X-Admin-Key");
        }

        (await Stock(attempt.ProductId)).ShouldBe(stock);
        await Host.ShouldPassAudit();
    }

    [Theory]
    [MemberData(nameof(StockTakingRoutes))]
    public async Task outside_the_local_profile_none_with_the_admin_key_takes_the_stock(string route)
    {
        var attempt = await Prepare(route);
        var stock = await Stock(attempt.ProductId);

        (await Send(attempt, "production", ProfileOverride.AdminKey)).Status.ShouldBe(attempt.Success);

        (await Stock(attempt.ProductId)).ShouldBe(stock - 1);
    }

    [Theory]
    [MemberData(nameof(StockTakingRoutes))]
    public async Task in_the_local_profile_none_stays_open_to_a_loopback_caller(string route)
    {
        var attempt = await Prepare(route);
        var stock = await Stock(attempt.ProductId);

        (await Send(attempt, profile: null, adminKey: null)).Status.ShouldBe(attempt.Success);

        (await Stock(attempt.ProductId)).ShouldBe(stock - 1);
    }

    [Theory]
    [InlineData("atomic")]
    [InlineData("row")]
    [InlineData("")]
    public async Task outside_the_local_profile_the_safe_strategies_need_no_key(string lockType)
    {
        var product = await Store.AddProduct(stock: 10);
        var attempt = new Attempt(HttpMethod.Post, $"/api/orders?lock_type={lockType}", $$"""{"user_id":1,"items":[{"product_id":{{product.Id}},"quantity":1}]}""", product.Id, 201);

        (await Send(attempt, "production", adminKey: null)).Status.ShouldBe(201);
        (await Stock(product.Id)).ShouldBe(9);
    }

    [Fact]
    public async Task none_named_in_the_body_instead_of_the_query_is_judged_alike()
    {
        var product = await Store.AddProduct(stock: 10);
        var attempt = new Attempt(HttpMethod.Post, "/api/orders", $$"""{"user_id":1,"lock_type_name":"none","items":[{"product_id":{{product.Id}},"quantity":1}]}""", product.Id, 201);

        // The request binds its lock_type from the JSON body too (lock_type_name): the guard judges the bound value.
        var (status, problem) = await Send(attempt, "production", adminKey: null);

        status.ShouldBe(403);
        problem.ShouldNotBeNull().ErrorFields().ShouldBe(["lock_type"]);
        (await Stock(product.Id)).ShouldBe(10);
    }

    [Fact]
    public async Task the_openapi_document_describes_lock_type_and_the_damage_of_none_where_it_is_offered()
    {
        var document = await Host.GetJson("/openapi/v1.json");
        var offered = new List<string>();
        foreach (var (path, operations) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                var parameter = operation!["parameters"]?.AsArray().FirstOrDefault(p => p!["name"]!.GetValue<string>() == LockTypeParameter.Name);
                if (parameter is null)
                {
                    continue;
                }

                offered.Add($"{method.ToUpperInvariant()} {path}");
                parameter["in"]!.GetValue<string>().ShouldBe("query");
                parameter["schema"]!["enum"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(LockTypes.Names);
                var description = parameter["description"]!.GetValue<string>();
                description.ShouldContain("erases what safe strategies did to the same product");
                description.ShouldContain("X-Admin-Key");
            }
        }

        offered.Order().ShouldBe(
        [
            "PATCH /api/orders/{id}", "POST /api/flash-sales/{id}/purchase", "POST /api/inventory/reserve", "POST /api/orders",
            "POST /api/orders/bulk", "POST /orders",
        ]);
    }
}
