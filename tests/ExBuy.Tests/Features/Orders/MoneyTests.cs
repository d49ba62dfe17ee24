using ExBuy.Features.Coupons;
using ExBuy.Features.Orders;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.Orders;

/// <summary>Money is exact, a cancelled paid order gives its money and coupon back once, and a reused key is refused.</summary>
public sealed class MoneyTests(AppFixture app) : IntegrationContext(app)
{
    private async Task<(long User, long Product)> UserWithBalance(decimal balance, decimal price, int stock = 100)
    {
        await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        if (balance > 0)
        {
            await Host.Charge(user, balance);
        }

        var product = await Store.AddProduct(price: price, stock: stock);
        return (user, product.Id);
    }

    [Fact]
    public async Task a_price_with_cents_is_charged_to_the_cent()
    {
        var (user, product) = await UserWithBalance(10_000, price: 1_999.99m);

        var placed = await Host.PostJson("/orders", OrderBody(user, null, Items([product], quantity: 2)), 201);

        placed["totalAmount"]!.GetValue<decimal>().ShouldBe(3_999.98m);
        placed["totalAmount"]!.ToJsonString().ShouldBe("3999.98");
        (await Host.Balance(user)).ShouldBe(6_000.02m);
        (await Host.GetJson($"/users/{user}/balance"))["balance"]!.ToJsonString().ShouldBe("6000.02");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task fifty_cents_is_not_a_free_order()
    {
        var (user, product) = await UserWithBalance(0, price: 0.50m);

        (await Host.PostJson("/orders", OrderBody(user, null, Items([product])), 400))["error"]!.GetValue<string>().ShouldContain("Insufficient balance");

        await Host.Charge(user, 0.5m);
        (await Host.PostJson("/orders", OrderBody(user, null, Items([product])), 201))["totalAmount"]!.ToJsonString().ShouldBe("0.5");
        (await Host.Balance(user)).ShouldBe(0m);
        await Host.ShouldPassAudit();
    }

    [Theory]
    [InlineData("0.001")]
    [InlineData("12.345")]
    public async Task a_charge_finer_than_a_cent_is_refused(string amount)
    {
        var (user, _) = await UserWithBalance(0, price: 1m);
        (await Host.PostJson($"/users/{user}/balance", $$"""{"amount":{{amount}}}""", 400)).ErrorFields().ShouldContain("amount");
        (await Host.Balance(user)).ShouldBe(0m);
    }

    [Fact]
    public async Task whole_amounts_stay_integers_on_the_wire()
    {
        var (user, product) = await UserWithBalance(10_000, price: 2_000.00m);
        (await Host.GetJson($"/users/{user}/balance"))["balance"]!.ToJsonString().ShouldBe("10000");
        (await Host.PostJson("/orders", OrderBody(user, null, Items([product], quantity: 4)), 201))["totalAmount"]!.ToJsonString().ShouldBe("8000");
    }

    [Fact]
    public async Task cancelling_a_paid_order_refunds_it_and_frees_its_coupon_exactly_once_under_concurrent_cancels()
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        await Host.Charge(user, 10_000);
        (await Host.ClaimAndWait(user, shop.PolicyIds[0])).ShouldBe(201);
        var coupon = (await Host.Coupons(user)).ShouldHaveSingleItem();
        var orderId = (await Host.PostJson("/orders", OrderBody(user, coupon, Items(shop.ProductIds)), 201))["orderId"]!.GetValue<long>();
        (await Host.Balance(user)).ShouldBe(2_000m);

        var cancels = await Host.FireAsync(8, _ => (HttpMethod.Patch, $"/api/orders/{orderId}", """{"status":"cancelled"}"""));

        cancels.ShouldAllBe(r => r.Status == 200);
        (await Host.Balance(user)).ShouldBe(10_000m);
        (await Host.Coupons(user)).ShouldBe([coupon]);
        await using (var session = Store.QuerySession())
        {
            var refunds = await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "balance_refunded").CountAsync(Ct);
            refunds.ShouldBe(1);
            (await session.LoadAsync<Coupon>(coupon, Ct))!.UsedByOrderId.ShouldBeNull();
        }

        await Host.ShouldPassAudit();

        // The coupon can pay for a new order; the refunded order itself is not revived.
        (await Host.PostJson("/orders", OrderBody(user, coupon, Items([shop.ProductIds[0]])), 201))["totalAmount"]!.GetValue<decimal>().ShouldBe(0m);
        (await Host.PatchJson($"/api/orders/{orderId}", """{"status":"pending"}""", 409))["error"]!.GetValue<string>().ShouldContain("cannot be revived");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task an_idempotency_key_reused_with_another_body_is_422_and_charges_nothing()
    {
        var (user, product) = await UserWithBalance(10_000, price: 1_000m);
        var first = await Host.PostJson("/orders", OrderBody(user, null, Items([product])), 201, headers: [("Idempotency-Key", "k-1")]);

        var problem = await Host.PostJson("/orders", OrderBody(user, null, Items([product], quantity: 3)), 422, headers: [("Idempotency-Key", "k-1")]);
        problem["title"]!.GetValue<string>().ShouldContain("Idempotency-Key");
        problem["status"]!.GetValue<int>().ShouldBe(422);

        var replay = await Host.PostJson("/orders", OrderBody(user, null, Items([product])), 201, headers: [("Idempotency-Key", "k-1")]);
        replay.ToJsonString().ShouldBe(first.ToJsonString());
        (await Host.Balance(user)).ShouldBe(9_000m);
        await using var session = Store.QuerySession();
        (await session.Query<Order>().CountAsync(Ct)).ShouldBe(1);
    }

    private async Task<(long User, long Coupon, long OrderId)> PaidOrderWithoutCoupon()
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        await Host.Charge(user, 10_000);
        (await Host.ClaimAndWait(user, shop.PolicyIds[0])).ShouldBe(201);
        var coupon = (await Host.Coupons(user)).ShouldHaveSingleItem();
        var orderId = (await Host.PostJson("/orders", OrderBody(user, null, Items([shop.ProductIds[0]])), 201))["orderId"]!.GetValue<long>();
        await Host.ShouldPassAudit();
        return (user, coupon, orderId);
    }

    [Fact]
    public async Task one_refund_per_cancelled_paid_order_catches_a_refund_for_an_order_that_was_not_cancelled()
    {
        var (user, _, orderId) = await PaidOrderWithoutCoupon();
        await using (var session = Store.LightweightSession())
        {
            session.Events.Append($"balance-{user}", new ExBuy.Features.Balance.BalanceRefunded(user, 2_000, orderId, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(Ct);
        }

        var violation = (await Host.Audit()).Violations.ShouldHaveSingleItem();
        violation.Invariant.ShouldBe("one_refund_per_cancelled_paid_order");
        violation.Subject.ShouldBe($"order {orderId}");
    }

    [Fact]
    public async Task coupon_use_matches_order_catches_a_coupon_used_by_an_order_that_does_not_name_it()
    {
        var (_, coupon, orderId) = await PaidOrderWithoutCoupon();
        await using (var session = Store.LightweightSession())
        {
            var stored = (await session.LoadAsync<Coupon>(coupon, Ct))!;
            stored.UsedByOrderId = orderId;
            session.Update(stored);
            await session.SaveChangesAsync(Ct);
        }

        var violation = (await Host.Audit()).Violations.ShouldHaveSingleItem();
        violation.Invariant.ShouldBe("coupon_use_matches_order");
        violation.Subject.ShouldBe($"coupon {coupon}, order {orderId}");
    }

    [Fact]
    public async Task a_new_init_after_orders_paid_with_coupons_leaves_a_clean_audit()
    {
        // Every persona run starts with POST /init, which deletes the previous scenario's coupons; their orders stay.
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = await Host.UserId("u1");
        await Host.Charge(user, 10_000);
        (await Host.ClaimAndWait(user, shop.PolicyIds[0])).ShouldBe(201);
        var coupon = (await Host.Coupons(user)).ShouldHaveSingleItem();
        await Host.PostJson("/orders", OrderBody(user, coupon, Items([shop.ProductIds[0]])), 201);

        await Host.InitShop("""{"userCount":1}""");

        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task cancelled_paid_order_refunded_catches_a_cancelled_paid_order_that_kept_its_money()
    {
        var (user, product) = await UserWithBalance(10_000, price: 1_000m);
        var orderId = (await Host.PostJson("/orders", OrderBody(user, null, Items([product])), 201))["orderId"]!.GetValue<long>();
        await using (var session = Store.LightweightSession())
        {
            var order = (await session.LoadAsync<Order>(orderId, Ct))!;
            order.Status = OrderStatuses.Cancelled;
            session.Update(order);
            await session.SaveChangesAsync(Ct);
        }

        (await Host.Audit()).Violations.Select(v => v.Invariant).ShouldBe(["cancelled_paid_order_refunded"]);
    }
}
