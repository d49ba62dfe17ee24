using System.Text;
using Alba;
using ExBuy.Features.Users;
using ExBuy.Tests.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Http;
using Shouldly;

namespace ExBuy.Tests.Platform.Security;

/// <summary>
/// A web page open in the developer's browser may send a "simple" request (GET/HEAD/POST with no custom header and a
/// form or text content type, or none) to 127.0.0.1 without asking first, and a DNS-rebinding page reaches the API
/// under its own host name. Neither may wipe or set up the shop.
/// </summary>
public sealed class BrowserAndHostTests(AppFixture app) : IntegrationContext(app)
{
    private async Task<(int Status, string Body)> Send(HttpMethod method, string url, string? body, string? contentType, params (string Name, string Value)[] headers)
    {
        using var client = Host.Server.CreateClient();
        using var message = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }
        else if (contentType is not null)
        {
            // A body-less request with a content type (what persona-a's setup sends).
            message.Content = new ByteArrayContent([]);
            message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        foreach (var (name, value) in headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(message, Ct);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private async Task<string[]> UserNames()
    {
        await using var session = Store.QuerySession();
        return (await session.Query<ShopUser>().Select(u => u.Name).ToListAsync(Ct)).Order(StringComparer.Ordinal).ToArray();
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "text/plain")]
    [InlineData("""{"userCount":1}""", "text/plain;charset=UTF-8")]
    [InlineData("userCount=1", "application/x-www-form-urlencoded")]
    [InlineData("--x\r\nContent-Disposition: form-data; name=\"userCount\"\r\n\r\n1\r\n--x--\r\n", "multipart/form-data; boundary=x")]
    public async Task an_init_a_web_page_can_send_cross_site_is_refused_and_wipes_nothing(string? body, string? contentType)
    {
        await Host.InitShop("""{"userCount":2}""");
        await Host.UserId("newcomer");
        var before = await UserNames();

        var (status, answer) = await Send(HttpMethod.Post, "/init", body, contentType);

        status.ShouldBe(415);
        answer.ShouldContain("application/json");
        answer.ShouldContain("X-ExBuy-Admin");
        (await UserNames()).ShouldBe(before);
        before.ShouldContain("newcomer");
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("Application/JSON; charset=utf-8")]
    public async Task an_init_with_a_json_content_type_and_no_body_still_runs(string contentType)
    {
        await Host.UserId("newcomer");

        var (status, _) = await Send(HttpMethod.Post, "/init", null, contentType);

        status.ShouldBe(200);
        (await UserNames()).ShouldNotContain("newcomer");
    }

    [Theory]
    [InlineData("X-ExBuy-Admin")]
    [InlineData("X-Admin-Key")]
    public async Task an_init_with_a_custom_header_and_no_content_type_still_runs(string header)
    {
        // In the local profile the loopback caller is admin; the header's value is not what matters here, only that
        // a browser must ask before sending it.
        var (status, _) = await Send(HttpMethod.Post, "/init", null, null, (header, "1"));

        status.ShouldBe(200);
        (await UserNames()).Length.ShouldBe(ExBuy.Features.Seeding.Init.InitEndpoint.DefaultUsers);
    }

    [Fact]
    public async Task a_flash_sale_setup_and_an_unsafe_lock_type_need_a_request_a_page_cannot_send_cross_site()
    {
        var (setup, setupBody) = await Send(HttpMethod.Post, "/api/flash-sales", null, null);
        setup.ShouldBe(415, setupBody);
        await using (var session = Store.QuerySession())
        {
            (await session.Query<ExBuy.Features.Catalog.Product>().CountAsync(Ct)).ShouldBe(0);
        }

        var (none, noneBody) = await Send(HttpMethod.Post, "/api/flash-sales/1/purchase?lock_type=none", """{"user_id":1,"quantity":1}""", "text/plain");
        none.ShouldBe(415, noneBody);

        // Other profiles: refused before the key is even looked at, so a page cannot guess its way in either.
        await using var production = await App.StartHostWithAsync(("ExBuy:Profile", "production"), ("ExBuy:AdminKey", "a-long-enough-admin-key-0123456789"));
        await production.Scenario(s =>
        {
            s.Post.Text("userCount=1").ToUrl("/init");
            s.WithRequestHeader("Content-Type", "application/x-www-form-urlencoded");
            s.StatusCodeShouldBe(415);
        });
        await production.Scenario(s =>
        {
            s.Post.Url("/init");
            s.WithRequestHeader("X-Admin-Key", "a-long-enough-admin-key-0123456789");
            s.StatusCodeShouldBe(200);
        });
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:8080")]
    [InlineData("127.0.0.1.nip.io")]
    public async Task the_local_profile_refuses_a_foreign_host_on_reads_and_on_init(string host)
    {
        await Host.UserId("newcomer");
        var before = await UserNames();

        await Host.Scenario(s =>
        {
            s.Get.Url("/api/products");
            s.ConfigureHttpContext(c => c.Request.Host = new HostString(host));
            s.StatusCodeShouldBe(400);
        });
        await Host.Scenario(s =>
        {
            s.Post.Url("/init");
            s.WithRequestHeader("Content-Type", "application/json");
            s.ConfigureHttpContext(c => c.Request.Host = new HostString(host));
            s.StatusCodeShouldBe(400);
        });

        (await UserNames()).ShouldBe(before);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:8080")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("[::1]:8080")]
    [InlineData("host.docker.internal:8080")]
    [InlineData("LOCALHOST")]
    public async Task the_local_profile_answers_loopback_host_names(string host)
    {
        await Host.Scenario(s =>
        {
            s.Get.Url("/api/products");
            s.ConfigureHttpContext(c => c.Request.Host = new HostString(host));
            s.StatusCodeShouldBe(200);
        });
    }

    [Fact]
    public async Task configured_host_names_are_answered_and_other_profiles_take_them_from_allowed_hosts()
    {
        await using var local = await App.StartHostWithAsync(("ExBuy:AllowedHosts", "api;lb"));
        foreach (var (host, status) in new[] { ("api:8080", 200), ("lb", 200), ("localhost", 200), ("evil.example", 400) })
        {
            await local.Scenario(s =>
            {
                s.Get.Url("/api/products");
                s.ConfigureHttpContext(c => c.Request.Host = new HostString(host));
                s.StatusCodeShouldBe(status);
            });
        }

        await using var production = await App.StartHostWithAsync(("ExBuy:Profile", "production"), ("ExBuy:AdminKey", "a-long-enough-admin-key-0123456789"), ("AllowedHosts", "shop.example"));
        foreach (var (host, status) in new[] { ("shop.example", 200), ("localhost", 400), ("evil.example", 400) })
        {
            await production.Scenario(s =>
            {
                s.Get.Url("/api/products");
                s.ConfigureHttpContext(c => c.Request.Host = new HostString(host));
                s.StatusCodeShouldBe(status);
            });
        }
    }
}
