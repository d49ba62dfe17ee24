using ExBuy.Features.Coupons;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using Wolverine.Tracking;

namespace ExBuy.Tests.Features.Coupons;

/// <summary>Claims with <c>lock_type=batched</c>: their rows commit in groups, exactly the quantity admitted and issued.</summary>
public sealed class BatchedClaimTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task a_batched_coupon_rush_records_and_issues_exactly_the_quantity_in_at_most_one_commit_per_claim()
    {
        var shop = await Host.InitShop("""{"userCount":600,"couponQuantity":200,"policyCount":1}""");
        await using var session = Store.QuerySession();
        var users = (await session.Query<ExBuy.Features.Users.ShopUser>().Select(u => u.Id).ToListAsync(Ct)).ToList();
        var claims = Host.Services.GetRequiredService<BatchedClaims>();
        var attempts = claims.Attempts;
        List<TimedResponse> responses = [];

        await Host.ExecuteAndWaitAsync(async () =>
        {
            responses = await Host.FireAsync(800, i => (HttpMethod.Post, $"/coupons?userId={users[i % users.Count]}&policyId={shop.PolicyIds[0]}&lock_type=batched", null));
        }, 60_000);
        TimingLog.Record($"batched coupon rush 800 claims for 200, {claims.Attempts - attempts} commits", responses, ConcurrentRequests.LastWallClock);

        responses.ShouldAllBe(r => r.Status == 201 || r.Status == 409, string.Join("\n", responses.Where(r => r.Status is not (201 or 409)).Take(3).Select(r => r.Body)));
        responses.Count(r => r.Status == 201).ShouldBe(200);
        // Every admitted claim went through the batches (how many claims shared one depends on the machine; logged).
        (claims.Attempts - attempts).ShouldBeInRange(1, 200);
        var coupons = await session.Query<Coupon>().ToListAsync(Ct);
        coupons.Count.ShouldBe(200);
        coupons.Select(c => c.UserId).Distinct().Count().ShouldBe(200);
        var stock = await Host.GetJson($"/api/coupon-policies/{shop.PolicyIds[0]}/stock");
        stock["issued"]!.GetValue<int>().ShouldBe(200);
        stock["coupons"]!.GetValue<long>().ShouldBe(200);
        stock["in_flight"]!.GetValue<long>().ShouldBe(0);
        stock["consistent"]!.GetValue<bool>().ShouldBeTrue();
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task an_unknown_lock_type_on_a_claim_is_a_400_and_nothing_is_claimed()
    {
        var shop = await Host.InitShop("""{"userCount":1,"couponQuantity":5,"policyCount":1}""");
        var user = await Host.UserId("u1");

        await Host.Scenario(s =>
        {
            HttpScenarios.WithQuery(s.Post.Url("/coupons"), $"/coupons?userId={user}&policyId={shop.PolicyIds[0]}&lock_type=fastest");
            s.StatusCodeShouldBe(400);
        });

        var stock = await Host.GetJson($"/api/coupon-policies/{shop.PolicyIds[0]}/stock");
        stock["redis_requested"]!.GetValue<long>().ShouldBe(0);
        (await Host.Coupons(user)).ShouldBeEmpty();
    }
}
