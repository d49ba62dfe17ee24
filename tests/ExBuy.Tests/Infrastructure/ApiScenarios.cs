using System.Text.Json.Nodes;
using Alba;
using ExBuy.Features.Audit;
using ExBuy.Features.Catalog;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Infrastructure;

public static class ApiScenarios
{
    public static async Task<JsonNode> PlaceOrder(this IAlbaHost host, long userId, string items, string lockType = "row", int status = 201) =>
        await host.PostJson($"/api/orders?lock_type={lockType}", $$"""{"user_id":{{userId}},"items":{{items}}}""", status);

    public static async Task<long> SetUpFlashSale(this IAlbaHost host, int stock)
    {
        var sale = await host.PostJson("/api/flash-sales", $$"""{"name":"Limited sneakers","stock":{{stock}},"price":"99.00"}""", 201);
        return sale["product_id"]!.GetValue<long>();
    }

    public static async Task<AuditResponse> Audit(this IAlbaHost host)
    {
        var result = await host.Scenario(s =>
        {
            s.Get.Url("/api/audit");
            s.StatusCodeShouldBe(200);
        });
        var node = HttpScenarios.Parse(await result.ReadAsTextAsync());
        var violations = node["violations"]!.AsArray()
            .Select(v => new AuditViolation(v!["invariant"]!.GetValue<string>(), v["subject"]!.GetValue<string>(), v["detail"]!.GetValue<string>()))
            .ToList();
        var checkedCounts = node["checked"]!.AsObject().ToDictionary(c => c.Key, c => c.Value!.GetValue<long>());
        return new AuditResponse(node["ok"]!.GetValue<bool>(), checkedCounts, node["violation_count"]!.GetValue<long>(), violations);
    }

    public static async Task ShouldPassAudit(this IAlbaHost host)
    {
        var audit = await host.Audit();
        audit.Violations.ShouldBeEmpty();
        audit.Ok.ShouldBeTrue();
    }
}
