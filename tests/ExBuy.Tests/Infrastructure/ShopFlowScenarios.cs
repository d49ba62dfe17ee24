using System.Text.Json.Nodes;
using Alba;
using Shouldly;
using Wolverine.Tracking;

namespace ExBuy.Tests.Infrastructure;

public sealed record ShopSetup(IReadOnlyList<long> PolicyIds, IReadOnlyList<long> ProductIds, IReadOnlyList<long> UserIds);

public static class ShopFlowScenarios
{
    public static async Task<ShopSetup> InitShop(this IAlbaHost host, string body = "")
    {
        var result = await host.Scenario(s =>
        {
            if (body.Length > 0)
            {
                s.Post.RawJson(body).ToUrl("/init");
            }
            else
            {
                // What the persona scripts send: no body, a JSON content type (a bare POST is refused as cross-site).
                s.Post.Url("/init");
                s.WithRequestHeader("Content-Type", "application/json");
            }

            s.StatusCodeShouldBe(200);
        });
        var node = HttpScenarios.Parse(await result.ReadAsTextAsync());
        return new ShopSetup(
            node["policyIds"]!.AsArray().Select(p => p!.GetValue<long>()).ToList(),
            node["productIds"]!.AsArray().Select(p => p!.GetValue<long>()).ToList(),
            node["userIds"]!.AsArray().Select(p => p!.GetValue<long>()).ToList());
    }

    public static async Task<long> UserId(this IAlbaHost host, string name) =>
        long.Parse(await host.GetText($"/users/id?name={name}"), System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<decimal> Balance(this IAlbaHost host, long userId) =>
        (await host.GetJson($"/users/{userId}/balance"))["balance"]!.GetValue<decimal>();

    public static Task<JsonNode> Charge(this IAlbaHost host, long userId, decimal amount, int status = 201) =>
        host.PostJson($"/users/{userId}/balance", $$"""{"amount":{{amount.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""", status);

    /// <summary>Claims and waits, with Wolverine's message tracking, until the issuance handler has run.</summary>
    public static async Task<int> ClaimAndWait(this IAlbaHost host, long userId, long policyId)
    {
        var status = 0;
        await host.ExecuteAndWaitAsync(async () =>
        {
            var result = await host.Scenario(s =>
            {
                HttpScenarios.WithQuery(s.Post.Url("/coupons"), $"/coupons?userId={userId}&policyId={policyId}");
                s.IgnoreStatusCode();
            });
            status = result.Context.Response.StatusCode;
        }, 30_000);
        return status;
    }

    /// <summary>
    /// A claim as the endpoint leaves it when the issuance queue has not run yet: admitted in Redis, its row accepted in
    /// PostgreSQL (created <paramref name="age"/> ago by the database clock), no message.
    /// </summary>
    public static async Task AcceptClaimWithoutIssuing(this IAlbaHost host, long policyId, long userId, TimeSpan? age = null, bool admit = true)
    {
        if (admit)
        {
            var gate = host.Services.GetRequiredService<ExBuy.Features.Coupons.CouponGate>();
            (await gate.AdmitAsync(policyId, userId)).ShouldBe(ExBuy.Features.Coupons.Admission.Admitted);
        }

        var store = host.Services.GetRequiredService<Marten.IDocumentStore>();
        await using var command = host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>().CreateCommand(
            $"insert into {ExBuy.Features.Coupons.CouponClaims.Table(store)} (claim_id, policy_id, user_id, created_at) values (gen_random_uuid(), $1, $2, now() - $3)");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = policyId });
        command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = userId });
        command.Parameters.Add(new Npgsql.NpgsqlParameter<TimeSpan> { TypedValue = age ?? TimeSpan.Zero, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Interval });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A policy's counter row as PostgreSQL holds it (<c>coupon_policy_stock</c>): quantity and issued count.</summary>
    public static async Task<(int Quantity, int Issued)> CouponCounter(this IAlbaHost host, long policyId)
    {
        var store = host.Services.GetRequiredService<Marten.IDocumentStore>();
        await using var command = host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>().CreateCommand(
            $"select quantity, issued from {ExBuy.Features.Coupons.CouponPolicyStock.Table(store)} where policy_id = $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = policyId });
        await using var reader = await command.ExecuteReaderAsync();
        (await reader.ReadAsync()).ShouldBeTrue($"policy {policyId} has no counter row");
        return (reader.GetInt32(0), reader.GetInt32(1));
    }

    /// <summary>Runs one statement against the test database, behind the API's back.</summary>
    public static async Task<int> Sql(this IAlbaHost host, string sql)
    {
        await using var command = host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>().CreateCommand(sql);
        return await command.ExecuteNonQueryAsync();
    }

    public static async Task<List<long>> Coupons(this IAlbaHost host, long userId) =>
        (await host.GetJson($"/users/{userId}/coupons")).AsArray().Select(c => c!["couponId"]!.GetValue<long>()).ToList();

    public static string Items(IEnumerable<long> productIds, int quantity = 1) =>
        "[" + string.Join(",", productIds.Select(id => $$"""{"productId":{{id}},"quantity":{{quantity}}}""")) + "]";

    public static string OrderBody(long userId, long? couponId, string items) =>
        $$"""{"userId":{{userId}},"couponId":{{(couponId is null ? "null" : couponId.ToString())}},"items":{{items}}}""";
}
