using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Redis;
using ExBuy.Tests.Infrastructure;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Seeding;

/// <summary><c>POST /init</c> replaces the shop: what the previous shop kept in Redis goes with it, run after run.</summary>
public sealed class InitRedisCleanupTests(AppFixture app) : IntegrationContext(app)
{
    private IConnectionMultiplexer Redis => Host.Services.GetRequiredService<IConnectionMultiplexer>();

    private async Task<List<string>> Keys(string pattern)
    {
        var keys = new List<string>();
        await foreach (var key in RedisSetup.ScanAsync(Redis, pattern))
        {
            keys.Add(key.ToString());
        }

        return keys;
    }

    [Fact]
    public async Task several_inits_in_a_row_leave_only_the_current_policies_coupon_keys()
    {
        ShopSetup shop = null!;
        for (var run = 0; run < 4; run++)
        {
            shop = await Host.InitShop();

            // A claim in every run, so the requested sets exist too (a gate with no claim has only its counter).
            var user = await Host.UserId("u1");
            foreach (var policy in shop.PolicyIds)
            {
                (await Host.Services.GetRequiredService<CouponGate>().AdmitAsync(policy, user)).ShouldBe(Admission.Admitted);
            }
        }

        var expected = shop.PolicyIds.SelectMany(id => new[] { CouponGate.Requested(id).ToString(), CouponGate.Remaining(id).ToString() });
        (await Keys("exbuy:coupon:*")).ShouldBe(expected, ignoreOrder: true);
    }

    [Fact]
    public async Task several_inits_in_a_row_leave_only_the_current_products_stock_keys()
    {
        ShopSetup shop = null!;
        for (var run = 0; run < 3; run++)
        {
            shop = await Host.InitShop();
        }

        (await Keys("exbuy:stock:*")).ShouldBe(shop.ProductIds.Select(id => RedisStock.Key(id).ToString()), ignoreOrder: true);
    }
}
