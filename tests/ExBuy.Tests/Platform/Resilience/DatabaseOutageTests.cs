using System.Text.Json.Nodes;
using Alba;
using ExBuy.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Shouldly;
using Wolverine;

namespace ExBuy.Tests.Platform.Resilience;

/// <summary>
/// PostgreSQL going away under a running API: a second API whose connections go through a relay the test can cut
/// (resetting every open connection and refusing new ones, as a stopped server does) and restore.
/// </summary>
public sealed class DatabaseOutageTests(AppFixture app) : IntegrationContext(app)
{
    private static async Task<(int Status, JsonNode? Body, string? ContentType)> Get(IAlbaHost host, string url)
    {
        var result = await host.Scenario(s =>
        {
            s.Get.Url(url);
            s.IgnoreStatusCode();
        });
        var text = await result.ReadAsTextAsync();
        return (result.Context.Response.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text), result.Context.Response.ContentType);
    }

    [Fact]
    public async Task without_postgresql_the_api_answers_503_problems_and_recovers_by_itself()
    {
        var product = await Store.AddProduct(stock: 10);
        var sale = await Host.SetUpFlashSale(10);
        var direct = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? AppFixture.DefaultPostgres);
        await using var proxy = new SwitchableTcpProxy(direct.Host!, direct.Port);
        proxy.Start();
        var viaProxy = new NpgsqlConnectionStringBuilder(direct.ConnectionString) { Port = proxy.Port, Timeout = 3 };
        await using var dataSource = NpgsqlDataSource.Create(viaProxy.ConnectionString);

        await using var host = await AlbaHost.For<Program>(builder =>
        {
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Redis"] = Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? AppFixture.DefaultRedis,
                ["ConnectionStrings:RedlockNodes"] = App.RedlockNodes,
                ["ExBuy:DataDirectory"] = App.DataDirectory,
                ["ExBuy:Profile"] = "local",
                ["ExBuy:ProjectionDaemon"] = "Solo", // its daemon through the proxy, as before leadership existed
                ["ExBuy:Stock:SweepIntervalMs"] = "100",
                ["ExBuy:Stock:ReconcileIntervalMs"] = "100",
                ["ExBuy:Coupons:RecoveryIntervalSeconds"] = "0", // the shared schema's claims are other tests' business
                ["Logging:LogLevel:Default"] = "None", // the outage makes every background agent log its failures
            }));
            builder.ConfigureServices(services =>
            {
                // Program reads the connection string while it builds, before this host's configuration applies: the
                // data source that every PostgreSQL user resolves is replaced instead.
                services.AddSingleton(dataSource);
                services.RunWolverineInSoloMode();
                services.DisableAllExternalWolverineTransports();
            });
        });
        (await Get(host, $"/api/products/{product.Id}")).Status.ShouldBe(200);

        proxy.Stop();
        foreach (var url in new[] { $"/api/products/{product.Id}", "/api/products", "/api/audit" })
        {
            for (var i = 0; i < 3; i++)
            {
                var (status, body, contentType) = await Get(host, url);
                status.ShouldBe(503, url);
                contentType.ShouldBe("application/problem+json");
                body!["status"]!.GetValue<int>().ShouldBe(503);
                body["title"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
                body["detail"]!.GetValue<string>().ShouldContain("database");
            }
        }

        // A sale through the atomic gate: Redis takes its units, PostgreSQL cannot; the units go back to Redis.
        var reserve = await host.Scenario(s =>
        {
            HttpScenarios.WithQuery(s.Post.RawJson($$"""{"product_id":{{sale}},"quantity":2}"""), "/api/inventory/reserve?lock_type=atomic");
            s.StatusCodeShouldBe(503);
        });
        (await reserve.ReadAsTextAsync()).ShouldContain("database");
        (await Host.Services.GetRequiredService<ExBuy.Features.Inventory.RedisStock>().GetAsync(sale)).ShouldBe(10);

        proxy.Start();
        var recovered = false;
        for (var attempt = 0; attempt < 100 && !recovered; attempt++)
        {
            recovered = (await Get(host, $"/api/products/{product.Id}")).Status == 200;
            if (!recovered)
            {
                await Task.Delay(100, Ct);
            }
        }

        recovered.ShouldBeTrue("the API serves again once PostgreSQL is back, without a restart");
        (await Get(host, "/api/products")).Status.ShouldBe(200);
        await Host.PostJson("/api/inventory/reserve?lock_type=atomic", $$"""{"product_id":{{sale}},"quantity":2}""", 200);
        await Host.ShouldPassAudit();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested
            .ShouldBeFalse("no background service stopped the host while the database was away");
    }
}
