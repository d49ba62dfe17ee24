using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Health;

public sealed class HealthTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task health_answers_ok()
    {
        var body = await Host.GetJson("/api/health");
        body.ToJsonString().ShouldBe("""{"status":"ok"}""");
    }

    [Fact]
    public async Task readiness_reports_postgres_and_redis()
    {
        var body = await Host.GetJson("/api/health/ready/");
        body["status"]!.GetValue<string>().ShouldBe("ok");
        body["checks"]!["postgres"]!["status"]!.GetValue<string>().ShouldBe("ok");
        body["checks"]!["redis"]!["status"]!.GetValue<string>().ShouldBe("ok");
    }

    [Fact]
    public async Task unknown_routes_are_json_404s()
    {
        var body = await Host.GetJson("/api/no-such-route", 404);
        body["detail"]!.GetValue<string>().ShouldBe("Not found.");

        var nonNumericId = await Host.GetJson("/api/products/abc", 404);
        nonNumericId["detail"]!.GetValue<string>().ShouldBe("Not found.");
    }

    [Fact]
    public async Task a_wrong_method_is_a_json_405()
    {
        var result = await Host.Scenario(s =>
        {
            s.Put.Json(new { }).ToUrl("/api/products");
            s.StatusCodeShouldBe(405);
        });
        HttpScenarios.Parse(await result.ReadAsTextAsync())["detail"]!.GetValue<string>().ShouldBe("Method Not Allowed");
    }
}
