using ExBuy.Features.Coupons;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Coupons;

/// <summary>Each coupon check of the audit, seen failing: every test breaks exactly one invariant behind the API's back.</summary>
public sealed class CouponAuditTests(AppFixture app) : IntegrationContext(app)
{
    private IDatabase Redis => Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

    private async Task Sql(string sql)
    {
        await using var command = Host.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(sql);
        await command.ExecuteNonQueryAsync(Ct);
    }

    [Fact]
    public async Task a_claim_in_flight_is_counted_and_a_counter_that_ignores_it_is_reported()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        await Host.AcceptClaimWithoutIssuing(policy, await Host.UserId("u1"));
        await Host.ShouldPassAudit();

        await Redis.StringSetAsync(CouponGate.Remaining(policy), 3);

        var violation = (await Host.Audit()).Violations.ShouldHaveSingleItem();
        violation.Invariant.ShouldBe("redis_coupon_counter_matches_database");
        violation.Detail.ShouldContain("in flight 1");
    }

    [Fact]
    public async Task redis_coupon_requested_matches_database_catches_a_holder_missing_from_the_requested_set()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var u1 = await Host.UserId("u1");
        (await Host.ClaimAndWait(u1, policy)).ShouldBe(201);
        await Host.ShouldPassAudit();

        await Redis.SortedSetRemoveAsync(CouponGate.Requested(policy), u1);

        (await Host.Audit()).Violations.ShouldHaveSingleItem().Invariant.ShouldBe("redis_coupon_requested_matches_database");
    }

    [Fact]
    public async Task coupon_claims_not_stuck_catches_a_claim_stuck_in_flight()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        await Host.AcceptClaimWithoutIssuing(policy, await Host.UserId("u1"), age: TimeSpan.FromHours(1));

        (await Host.Audit()).Violations.ShouldHaveSingleItem().Invariant.ShouldBe("coupon_claims_not_stuck");
        var stock = await Host.GetJson($"/api/coupon-policies/{policy}/stock");
        stock["in_flight"]!.GetValue<long>().ShouldBe(1);
        stock["stuck"]!.GetValue<long>().ShouldBe(1);
        stock["consistent"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task coupon_claim_issued_once_catches_a_coupon_whose_claim_is_not_issued()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        var u1 = await Host.UserId("u1");
        (await Host.ClaimAndWait(u1, shop.PolicyIds[0])).ShouldBe(201);
        await Host.ShouldPassAudit();

        await Sql($"update {CouponClaims.Table(Store)} set status = 'failed' where user_id = {u1}");

        (await Host.Audit()).Violations.ShouldHaveSingleItem().Invariant.ShouldBe("coupon_claim_issued_once");
    }
}
