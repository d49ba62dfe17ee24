using System.Diagnostics;
using System.Text;
using Alba;
using ExBuy.Features.Coupons;
using ExBuy.Infrastructure.Hosting;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Platform.Hosting;

/// <summary>
/// Three API instances on the same PostgreSQL and Redis (the shared host and two more), the buyers spread over them
/// round-robin as a load balancer would: a flash sale of 100 units to 300 buyers and, at the same time, a coupon rush
/// of 300 users for 100 coupons give exact outcomes and a clean audit, for every strategy that promises not to oversell.
/// </summary>
public sealed class MultiInstanceTests(AppFixture app) : IntegrationContext(app)
{
    private sealed record Answer(int Status, string Body, string Instance);

    /// <summary>
    /// Client <c>i</c> talks to instance <c>i mod n</c>; it asks again while <paramref name="again"/> says so (a 409
    /// "busy" while stock is left), as the single-instance contention tests do.
    /// </summary>
    private static async Task<List<Answer>> Spread(
        IReadOnlyList<IAlbaHost> instances, int clients, Func<int, (string Url, string? Json)> request, Func<Answer, Task<bool>> again)
    {
        var http = instances.Select(i =>
        {
            var client = i.Server.CreateClient();
            client.Timeout = TimeSpan.FromMinutes(5);
            return client;
        }).ToList();
        try
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var tasks = Enumerable.Range(0, clients).Select(async i =>
            {
                var (url, json) = request(i);
                await start.Task;
                for (var attempt = 1; ; attempt++)
                {
                    using var message = new HttpRequestMessage(HttpMethod.Post, url);
                    if (json is not null)
                    {
                        message.Content = new StringContent(json, Encoding.UTF8, "application/json");
                    }

                    using var response = await http[i % http.Count].SendAsync(message);
                    var answer = new Answer(
                        (int)response.StatusCode,
                        await response.Content.ReadAsStringAsync(),
                        response.Headers.GetValues(ExBuyInstance.HeaderName).Single());
                    if (attempt >= 1_000 || !await again(answer))
                    {
                        return answer;
                    }
                }
            }).ToList();
            start.SetResult();
            return [.. await Task.WhenAll(tasks)];
        }
        finally
        {
            http.ForEach(c => c.Dispose());
        }
    }

    [Theory]
    [MemberData(nameof(LockTypeData.Safe), MemberType = typeof(LockTypeData))]
    public async Task a_flash_sale_and_a_coupon_rush_spread_over_three_instances_give_exact_outcomes(string lockType)
    {
        // Three pools of 100 would exceed the test server's 300 connections (row locks hold one per waiting buyer): the
        // two added instances get 60 each, as a deployment divides the server's connections among its instances.
        var pool = new Npgsql.NpgsqlConnectionStringBuilder(App.ConnectionStrings.Postgres) { MaxPoolSize = 60 }.ConnectionString;
        await using var second = await App.StartHostWithAsync(("ExBuy:InstanceId", "instance-2"), ("ConnectionStrings:Postgres", pool));
        await using var third = await App.StartHostWithAsync(("ExBuy:InstanceId", "instance-3"), ("ConnectionStrings:Postgres", pool));
        IAlbaHost[] instances = [Host, second, third];
        var productId = await Host.SetUpFlashSale(100);
        var shop = await Host.InitShop("""{"userCount":300,"couponQuantity":100,"policyCount":1}""");
        var (policy, firstUser) = (shop.PolicyIds[0], shop.UserIds[0]);

        async Task<int> DbStock() => (await Host.GetJson($"/api/flash-sales/{productId}/stock"))["db_stock"]!.GetValue<int>();
        var watch = Stopwatch.StartNew();
        var sale = Spread(
            instances, 300, i => ($"/api/flash-sales/{productId}/purchase?lock_type={lockType}", $$"""{"user_id":{{i + 1}}}"""),
            async a => a.Status == 409 && await DbStock() > 0);
        var rush = Spread(instances, 300, i => ($"/coupons?userId={firstUser + i}&policyId={policy}", null), _ => Task.FromResult(false));
        var (bought, claimed) = (await sale, await rush);
        TimingLog.Note($"3 instances, {lockType}: flash sale 300->100 and coupon rush 300->100 together in {watch.ElapsedMilliseconds} ms");

        // Every instance took part, and each answered as the contract says.
        bought.Select(a => a.Instance).Distinct().Count().ShouldBe(3);
        bought.Count(a => a.Status == 201).ShouldBe(100);
        bought.Where(a => a.Status != 201).ShouldAllBe(a => a.Status == 409);
        bought.Where(a => a.Status == 201).Select(a => HttpScenarios.Parse(a.Body)["remaining_stock"]!.GetValue<int>()).Distinct().Count().ShouldBe(100);
        var stock = await second.GetJson($"/api/flash-sales/{productId}/stock");
        stock["db_stock"]!.GetValue<int>().ShouldBe(0);
        stock["sold"]!.GetValue<long>().ShouldBe(100);
        stock["oversold"]!.GetValue<long>().ShouldBe(0);
        stock["consistent"]!.GetValue<bool>().ShouldBeTrue();

        claimed.Count(a => a.Status == 201).ShouldBe(100, string.Join("\n", claimed.Where(a => a.Status is not (201 or 409)).Take(3).Select(a => a.Body)));
        claimed.Where(a => a.Status != 201).ShouldAllBe(a => a.Status == 409);
        var winners = claimed.Select((a, i) => (a, User: firstUser + i)).Where(x => x.a.Status == 201).Select(x => x.User).ToHashSet();

        // Each instance issues the coupons it accepted from its own durable queue; all 100, one per winner.
        await Eventually.WaitUntilAsync(async () => await IssuedAsync(policy) == 100, TimeSpan.FromSeconds(60), "100 coupons issued");
        await using (var query = Store.QuerySession())
        {
            var holders = await query.Query<Coupon>().Where(c => c.PolicyId == policy).Select(c => c.UserId).ToListAsync(Ct);
            holders.Order().ShouldBe(winners.Order());
        }

        (await Host.Services.GetRequiredService<CouponGate>().RemainingAsync(policy)).ShouldBe(0);
        await third.ShouldPassAudit();
    }

    private async Task<int> IssuedAsync(long policy)
    {
        await using var query = Store.QuerySession();
        return await query.Query<Coupon>().CountAsync(c => c.PolicyId == policy, Ct);
    }
}
