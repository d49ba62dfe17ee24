using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using ExBuy.Features.Reviews;
using ExBuy.Features.Users;
using ExBuy.Features.Uploads;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Platform.Http;

/// <summary>The 500s the generated bad input found, each as a plain case: a 400 that names the field, and nothing written.</summary>
public sealed class InputGuardTests(AppFixture app) : IntegrationContext(app)
{
    private async Task<(int Status, JsonNode Body)> Send(HttpMethod method, string url, string? body, string? contentType = "application/json")
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

        using var response = await client.SendAsync(message, Ct);
        return ((int)response.StatusCode, HttpScenarios.Parse(await response.Content.ReadAsStringAsync(Ct)));
    }

    private async Task<int> Count<T>()
        where T : notnull
    {
        await using var session = Store.QuerySession();
        return await session.Query<T>().CountAsync(Ct);
    }

    [Theory]
    [InlineData("--x\r\n")]
    [InlineData("garbage")]
    [InlineData("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc")]
    public async Task a_truncated_or_malformed_multipart_upload_is_400_on_file(string body)
    {
        var (status, problem) = await Send(HttpMethod.Post, "/api/uploads", body, "multipart/form-data; boundary=x");

        status.ShouldBe(400);
        problem.ErrorFields().ShouldBe(["file"]);
        (await Count<UploadedFile>()).ShouldBe(0);
    }

    [Fact]
    public async Task an_upload_whose_part_content_type_holds_a_nul_is_400_on_file()
    {
        const string body = "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/pl\0ain\r\n\r\nabc\r\n--x--\r\n";

        var (status, problem) = await Send(HttpMethod.Post, "/api/uploads", body, "multipart/form-data; boundary=x");

        status.ShouldBe(400);
        problem.ErrorFields().ShouldBe(["file"]);
        (await Count<UploadedFile>()).ShouldBe(0);
    }

    [Fact]
    public async Task a_null_item_in_a_paid_order_is_400_on_that_item()
    {
        var shop = await Host.InitShop("""{"userCount":1}""");

        var (status, problem) = await Send(HttpMethod.Post, "/orders", $$"""{"userId":{{shop.UserIds[0]}},"items":[null]}""");

        status.ShouldBe(400);
        problem.ErrorFields().ShouldBe(["items[0]"]);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_nul_in_a_json_string_is_400_on_that_field()
    {
        var product = await Store.AddProduct();

        var (status, problem) = await Send(HttpMethod.Post, "/api/reviews", $$"""{"product":{{product.Id}},"user_id":1,"rating":5,"body":"great\u0000"}""");
        status.ShouldBe(400);
        problem.ErrorFields().ShouldBe(["body"]);
        (await Count<Review>()).ShouldBe(0);

        (status, problem) = await Send(HttpMethod.Post, "/api/flash-sales", """{"name":"\u0000","stock":5}""");
        status.ShouldBe(400);
        problem.ErrorFields().ShouldBe(["name"]);
    }

    [Theory]
    [InlineData("/users/id?name=u%001", "name")]
    [InlineData("/api/products?q=lap%00top", "q")]
    [InlineData("/api/search/products?q=%00", "q")]
    [InlineData("/api/products?ordering=name&%00=1", "query")]
    public async Task a_nul_in_the_query_string_is_400_on_that_parameter(string url, string field)
    {
        var (status, problem) = await Send(HttpMethod.Get, url, null);

        status.ShouldBe(400);
        problem.ErrorFields().ShouldBe([field]);
        (await Count<ShopUser>()).ShouldBe(0);
    }

    [Fact]
    public async Task init_refuses_a_body_that_is_not_utf8_json_and_changes_nothing()
    {
        using var client = Host.Server.CreateClient();
        using var notUtf8 = new ByteArrayContent([(byte)'{', (byte)'"', 0xff, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
        notUtf8.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var refused = await client.PostAsync("/init", notUtf8, Ct);
        ((int)refused.StatusCode).ShouldBe(400);

        // text/plain is what a page may send cross-site without asking: refused before the body is read.
        var (status, problem) = await Send(HttpMethod.Post, "/init", """{"userCount":1}""", "text/plain");
        status.ShouldBe(415);
        problem["detail"]!.GetValue<string>().ShouldContain("application/json");
        (await Count<ShopUser>()).ShouldBe(0);

        // What the scenario sends still works: no body at all, or JSON.
        (await Host.InitShop()).ProductIds.Count.ShouldBe(5);
        (await Host.InitShop("""{"userCount":1}""")).UserIds.Count.ShouldBe(2);
    }

    [Fact]
    public async Task a_user_id_below_one_is_400_on_the_coupon_list()
    {
        var (status, problem) = await Send(HttpMethod.Get, "/users/0/coupons", null);

        status.ShouldBe(400);
        problem.ErrorFields().ShouldBe(["user_id"]);
        (await Host.GetJson("/users/12345/coupons")).AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task an_unknown_openapi_document_is_a_json_404()
    {
        (await Host.GetJson("/openapi/v2.json", 404))["detail"]!.GetValue<string>().ShouldBe("Not found.");
        (await Host.GetJson("/openapi/v1.json"))["openapi"].ShouldNotBeNull();
    }
}
