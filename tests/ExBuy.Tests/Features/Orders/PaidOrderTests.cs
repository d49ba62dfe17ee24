using ExBuy.Features.Orders;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.Orders;

public sealed class PaidOrderTests(AppFixture app) : IntegrationContext(app)
{
    private async Task<int> OrderCount()
    {
        await using var session = Store.QuerySession();
        return await session.Query<Order>().CountAsync(Ct);
    }

    [Theory]
    [InlineData("row")]
    [InlineData("optimistic")]
    [InlineData("atomic")]
    [InlineData("pessimistic")]
    [InlineData("batched")]
    public async Task an_order_pays_from_the_balance_and_uses_the_coupon_once(string lockType)
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        await Host.Charge(user, 10_000);
        (await Host.ClaimAndWait(user, shop.PolicyIds[0])).ShouldBe(201);
        var coupon = (await Host.Coupons(user)).ShouldHaveSingleItem();

        var placed = await Host.PostJson($"/orders?lock_type={lockType}", OrderBody(user, coupon, Items(shop.ProductIds)), 201);

        placed["totalAmount"]!.GetValue<long>().ShouldBe(8_000);
        placed.AsObject().Select(p => p.Key).ShouldBe(["orderId", "totalAmount"]);
        (await Host.Balance(user)).ShouldBe(2_000);
        (await Host.Coupons(user)).ShouldBeEmpty();
        (await Store.Reload(shop.ProductIds[0])).Stock.ShouldBe(999_999);

        (await Host.PostJson("/orders", OrderBody(user, coupon, Items([shop.ProductIds[0]])), 409))["error"]!.GetValue<string>().ShouldContain("already been used");
        (await Host.Balance(user)).ShouldBe(2_000);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task insufficient_balance_is_a_400_and_nothing_happens()
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        await Host.Charge(user, 3_000);

        (await Host.PostJson("/orders", OrderBody(user, null, Items(shop.ProductIds.Take(2))), 400))["error"]!.GetValue<string>().ShouldContain("Insufficient balance");

        (await Host.Balance(user)).ShouldBe(3_000);
        (await Store.Reload(shop.ProductIds[0])).Stock.ShouldBe(1_000_000);
        (await OrderCount()).ShouldBe(0);
    }

    [Fact]
    public async Task the_same_idempotency_key_returns_the_first_result_and_charges_once()
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        await Host.Charge(user, 10_000);
        var body = OrderBody(user, null, Items([shop.ProductIds[0]]));

        var responses = await Host.FireAsync(10, _ => (HttpMethod.Post, "/orders", body), headers: [("Idempotency-Key", "retry-7")]);

        responses.ShouldAllBe(r => r.Status == 201);
        responses.Select(r => r.Body).Distinct().Count().ShouldBe(1);
        (await Host.Balance(user)).ShouldBe(8_000);
        (await OrderCount()).ShouldBe(1);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task sold_out_is_a_409_and_unknown_products_or_users_are_404s()
    {
        var shop = await Host.InitShop("""{"userCount":1,"stock":1}""");
        var user = await Host.UserId("u1");
        await Host.Charge(user, 100_000);

        await Host.PostJson("/orders", OrderBody(user, null, Items([shop.ProductIds[0]], quantity: 2)), 409);
        await Host.PostJson("/orders", OrderBody(user, null, Items([987654])), 404);
        await Host.PostJson("/orders", OrderBody(987654, null, Items([shop.ProductIds[0]])), 404);
        (await Host.Balance(user)).ShouldBe(100_000);
        (await OrderCount()).ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"userId":1,"items":[]}""", "items")]
    [InlineData("""{"items":[{"productId":1,"quantity":1}]}""", "user_id")]
    [InlineData("""{"userId":1,"items":[{"productId":1,"quantity":0}]}""", "items[0].quantity")]
    [InlineData("""{"userId":1,"couponId":0,"items":[{"productId":1,"quantity":1}]}""", "coupon_id")]
    public async Task invalid_paid_orders_are_400s(string json, string field)
    {
        await Host.InitShop("""{"userCount":1}""");
        (await Host.PostJson("/orders", json, 400)).ErrorFields().ShouldContain(field);
        (await OrderCount()).ShouldBe(0);
    }

    [Fact]
    public async Task a_coupon_that_was_never_issued_or_belongs_to_another_user_is_refused()
    {
        var shop = await Host.InitShop("""{"userCount":2}""");
        var (u1, u2) = (await Host.UserId("u1"), await Host.UserId("u2"));
        await Host.Charge(u1, 10_000);
        await Host.Charge(u2, 10_000);
        (await Host.ClaimAndWait(u1, shop.PolicyIds[0])).ShouldBe(201);
        var coupon = (await Host.Coupons(u1)).ShouldHaveSingleItem();

        await Host.PostJson("/orders", OrderBody(u2, coupon, Items([shop.ProductIds[0]])), 400);
        await Host.PostJson("/orders", OrderBody(u2, 987654, Items([shop.ProductIds[0]])), 400);
        (await Host.Balance(u2)).ShouldBe(10_000);
        (await OrderCount()).ShouldBe(0);
    }

    [Fact]
    public async Task one_coupon_in_two_concurrent_orders_pays_for_one_of_them_only()
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        await Host.Charge(user, 100_000);
        (await Host.ClaimAndWait(user, shop.PolicyIds[0])).ShouldBe(201);
        var coupon = (await Host.Coupons(user)).ShouldHaveSingleItem();

        var responses = await Host.FireAsync(2, _ => (HttpMethod.Post, "/orders", OrderBody(user, coupon, Items([shop.ProductIds[0], shop.ProductIds[1]]))));

        responses.Count(r => r.Status == 201).ShouldBe(1);
        responses.Count(r => r.Status == 409).ShouldBe(1);
        (await Host.Balance(user)).ShouldBe(100_000 - 2_000);
        (await OrderCount()).ShouldBe(1);
        await Host.ShouldPassAudit();
    }
}
