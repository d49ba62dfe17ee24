using ExBuy.Features.Coupons;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Platform.Resilience;

/// <summary>
/// A client's <c>X-Request-Id</c> is stored with what its request commits (each event's correlation id, a claim's
/// <c>request_id</c>), so the outcome checker can tell what every answer's request really did. Checked in the real
/// tables the checker reads.
/// </summary>
public sealed class RequestIdTests(AppFixture app) : IntegrationContext(app)
{
    private NpgsqlDataSource Db => Host.Services.GetRequiredService<NpgsqlDataSource>();

    private string Schema => Store.Options.DatabaseSchemaName;

    [Fact]
    public async Task every_event_a_request_commits_carries_its_request_id()
    {
        var shop = await Host.InitShop("""{"userCount":1,"productCount":1,"policyCount":1,"couponQuantity":1}""");
        var (user, product) = (shop.UserIds[0], shop.ProductIds[0]);
        await Host.PostJson($"/users/{user}/balance", """{"amount":100000}""", 201, [("X-Request-Id", "charge-1")]);
        var placed = await Host.PostJson("/orders", ShopFlowScenarios.OrderBody(user, null, ShopFlowScenarios.Items([product])), 201, [("X-Request-Id", "order-1")]);
        await Host.PostJson("/api/inventory/reserve?lock_type=row", $$"""{"product_id":{{product}},"quantity":1}""", 200, [("X-Request-Id", "reserve-1")]);

        (await EventTypesOf("charge-1")).ShouldBe(["balance_charged"]);
        (await EventTypesOf("order-1")).ShouldBe(["balance_debited", "order_placed"]);
        (await EventTypesOf("reserve-1")).ShouldBe(["stock_reserved"]);
        placed["orderId"]!.GetValue<long>().ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task a_claim_row_carries_its_request_id()
    {
        var shop = await Host.InitShop("""{"userCount":1,"productCount":1,"policyCount":1,"couponQuantity":5}""");
        var result = await Host.Scenario(s =>
        {
            s.Post.Url($"/coupons?userId={shop.UserIds[0]}&policyId={shop.PolicyIds[0]}");
            s.WithRequestHeader("X-Request-Id", "claim-1");
            s.StatusCodeShouldBe(201);
            s.Header("X-Request-Id").SingleValueShouldEqual("claim-1");
        });
        result.ShouldNotBeNull();

        await using var command = Db.CreateCommand($"select count(*) from {CouponClaims.Table(Store)} where request_id = 'claim-1' and user_id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = shop.UserIds[0] });
        ((long)(await command.ExecuteScalarAsync(Ct))!).ShouldBe(1);
    }

    [Fact]
    public async Task without_the_header_nothing_is_stamped()
    {
        var product = await Store.AddProduct(stock: 5);
        await Host.PostJson("/api/inventory/reserve?lock_type=row", $$"""{"product_id":{{product.Id}},"quantity":1}""", 200);

        await using var command = Db.CreateCommand($"select count(*) from {Schema}.mt_events where type = 'stock_reserved' and correlation_id is not null");
        ((long)(await command.ExecuteScalarAsync(Ct))!).ShouldBe(0);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    [InlineData("")]
    public async Task a_malformed_request_id_is_a_400_that_changes_nothing(string id)
    {
        var product = await Store.AddProduct(stock: 5);

        var problem = await Host.PostJson("/api/inventory/reserve?lock_type=row", $$"""{"product_id":{{product.Id}},"quantity":1}""", 400, [("X-Request-Id", id)]);

        problem["detail"]!.GetValue<string>().ShouldContain("X-Request-Id");
        (await ExBuy.Features.Inventory.ProductStock.ReadAsync(Store, [product.Id], Ct))[product.Id].Stock.ShouldBe(5);
    }

    [Fact]
    public async Task a_request_id_too_long_is_a_400()
    {
        var product = await Store.AddProduct(stock: 5);

        await Host.PostJson("/api/inventory/reserve?lock_type=row", $$"""{"product_id":{{product.Id}},"quantity":1}""", 400, [("X-Request-Id", new string('a', 101))]);

        (await ExBuy.Features.Inventory.ProductStock.ReadAsync(Store, [product.Id], Ct))[product.Id].Stock.ShouldBe(5);
    }

    private async Task<List<string>> EventTypesOf(string requestId)
    {
        await using var command = Db.CreateCommand($"select type from {Schema}.mt_events where correlation_id = $1 order by type");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = requestId });
        var types = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            types.Add(reader.GetString(0));
        }

        return types;
    }
}
