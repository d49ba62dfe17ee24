using ExBuy.Features.Coupons;
using Shouldly;

namespace ExBuy.UnitTests.Deciders;

public sealed class CouponIssueDeciderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static readonly long[] Ids = [501, 502, 503, 504, 505, 506];

    private static ClaimToIssue Claim(int n, long policy = 1, int secondsAgo = 0) =>
        new(new Guid($"00000000-0000-0000-0000-{n:D12}"), policy, 100 + n, Now.AddSeconds(-secondsAgo));

    private static Dictionary<long, PolicyStockRow> Stock(params (long Policy, int Quantity, int Issued)[] rows) =>
        rows.ToDictionary(r => r.Policy, r => new PolicyStockRow(new CouponPolicy { Id = r.Policy, Discount = 2_000, ValidDays = 3 }, r.Quantity, r.Issued));

    [Fact]
    public void every_claim_gets_a_coupon_while_units_are_left()
    {
        var d = CouponIssueDecider.Decide([Claim(1), Claim(2)], Stock((1, 10, 3)), Ids, Now);

        d.Coupons.Select(c => (c.Id, c.UserId, c.ClaimId)).ShouldBe([(501L, 101L, (Guid?)Claim(1).ClaimId), (502L, 102L, Claim(2).ClaimId)]);
        d.Coupons.ShouldAllBe(c => c.PolicyId == 1 && c.Discount == 2_000 && c.IssuedAt == Now && c.ExpiresAt == Now.AddDays(3) && c.UsedByOrderId == null);
        d.IssuedByPolicy.ShouldBe(new Dictionary<long, int> { [1] = 2 });
        d.SoldOut.ShouldBeEmpty();
    }

    [Fact]
    public void the_first_come_get_the_last_units_and_the_rest_are_sold_out()
    {
        // Claim 3 was accepted first, claim 1 last: acceptance time decides, not the order they were handed in.
        var d = CouponIssueDecider.Decide([Claim(1, secondsAgo: 1), Claim(2, secondsAgo: 2), Claim(3, secondsAgo: 3)], Stock((1, 5, 3)), Ids, Now);

        d.Coupons.Select(c => c.ClaimId).ShouldBe([Claim(3).ClaimId, Claim(2).ClaimId]);
        d.IssuedByPolicy[1].ShouldBe(2);
        d.SoldOut.ShouldBe([Claim(1).ClaimId]);
    }

    [Fact]
    public void a_full_policy_issues_nothing()
    {
        var d = CouponIssueDecider.Decide([Claim(1), Claim(2)], Stock((1, 4, 4)), Ids, Now);

        d.Coupons.ShouldBeEmpty();
        d.IssuedByPolicy.ShouldBeEmpty();
        d.SoldOut.Count.ShouldBe(2);
    }

    [Fact]
    public void a_policy_without_a_counter_issues_nothing() =>
        CouponIssueDecider.Decide([Claim(1, policy: 9)], Stock((1, 4, 0)), Ids, Now).SoldOut.ShouldBe([Claim(1, policy: 9).ClaimId]);

    [Fact]
    public void policies_are_counted_apart_and_coupon_ids_are_used_once_each()
    {
        var d = CouponIssueDecider.Decide([Claim(1, policy: 1), Claim(2, policy: 2), Claim(3, policy: 1), Claim(4, policy: 2)], Stock((1, 1, 0), (2, 9, 0)), Ids, Now);

        d.IssuedByPolicy.ShouldBe(new Dictionary<long, int> { [1] = 1, [2] = 2 });
        d.Coupons.Select(c => c.Id).ShouldBe([501L, 502L, 503L]);
        d.Coupons.Select(c => c.Id).ShouldBeUnique();
        d.SoldOut.Count.ShouldBe(1);
    }

    [Fact]
    public void a_counter_already_past_its_quantity_hands_out_nothing() =>
        CouponIssueDecider.Decide([Claim(1)], Stock((1, 2, 3)), Ids, Now).Coupons.ShouldBeEmpty();
}
