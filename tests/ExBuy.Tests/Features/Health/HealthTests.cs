using Alba;
using ExBuy.Infrastructure.Hosting;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Health;

public sealed class HealthTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task health_answers_ok_and_names_the_instance()
    {
        var body = await Host.GetJson("/api/health");
        var instance = Host.Services.GetRequiredService<ExBuyInstance>().Id;
        instance.ShouldBe($"{Environment.MachineName}-{Environment.ProcessId}"); // none configured
        body.ToJsonString().ShouldBe($$"""{"status":"ok","instance":"{{instance}}"}""");
        var ready = await Host.GetJson("/api/health/ready");
        ready["instance"]!.GetValue<string>().ShouldBe(instance);
        ready["projection_daemon"]!.GetValue<string>().ShouldBe("solo"); // the shared test host runs it unconditionally
    }

    [Theory]
    [InlineData("GET", "/api/health", 200)]
    [InlineData("GET", "/api/products", 200)]
    [InlineData("GET", "/api/no-such-route", 404)]
    [InlineData("GET", "/api/products/999999", 404)]
    [InlineData("PUT", "/api/products", 405)]
    [InlineData("POST", "/api/orders", 400)]
    [InlineData("GET", "/api/products?ordering=nope", 400)]
    public async Task every_response_names_the_instance_that_answered(string method, string url, int status)
    {
        using var client = Host.Server.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method == "POST")
        {
            request.Content = new StringContent("{", System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request, Ct);
        ((int)response.StatusCode).ShouldBe(status);
        response.Headers.GetValues(ExBuyInstance.HeaderName).ShouldBe([Host.Services.GetRequiredService<ExBuyInstance>().Id]);
    }

    [Fact]
    public async Task a_configured_instance_id_names_the_instance()
    {
        await using var named = await App.StartHostWithAsync(("ExBuy:InstanceId", "api-7"));
        var result = await named.Scenario(s =>
        {
            s.Get.Url("/api/health");
            s.Header(ExBuyInstance.HeaderName).SingleValueShouldEqual("api-7");
        });
        (await result.ReadAsTextAsync()).ShouldBe("""{"status":"ok","instance":"api-7"}""");
    }

    [Fact]
    public async Task an_instance_id_that_cannot_be_a_header_value_stops_the_start()
    {
        var failure = await Should.ThrowAsync<Exception>(async () =>
        {
            await using var bad = await App.StartHostWithAsync(("ExBuy:InstanceId", "api 1\r\nX-Evil: 1"));
        });
        failure.ToString().ShouldContain("ExBuy:InstanceId");
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
