using System.Net;
using System.Text;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Platform.Http;

/// <summary>
/// Request bodies are capped at the edge (ExBuy:Http:MaxBodyBytes, 1 MiB): a 9 MB invalid order was read, validated item
/// by item and answered after 5.9 s with a 59 MB error list. Uploads keep their own 10 MB limit, answered as the
/// contract says.
/// </summary>
public sealed class RequestBodyLimitTests(AppFixture app) : IntegrationContext(app)
{
    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string url, HttpContent content)
    {
        using var client = Host.Server.CreateClient();
        using var response = await client.PostAsync(url, content, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task a_json_body_over_the_cap_is_a_413_before_anything_reads_it()
    {
        var product = await Store.AddProduct(stock: 1_000_000);
        var items = string.Join(',', Enumerable.Range(0, 300_000).Select(_ => $$"""{"product_id":{{product.Id}},"quantity":0}"""));
        var body = $$"""{"user_id":1,"items":[{{items}}]}""";
        body.Length.ShouldBeGreaterThan(8_000_000);

        var (status, answer) = await PostAsync("/api/orders", new StringContent(body, Encoding.UTF8, "application/json"));

        status.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        answer.Length.ShouldBeLessThan(1_000, "a short JSON error, not a list of every item's error");
        answer.ShouldContain("ExBuy:Http:MaxBodyBytes");
        await using var session = Store.QuerySession();
        (await session.Query<ExBuy.Features.Orders.Order>().CountAsync(Ct)).ShouldBe(0);
    }

    [Fact]
    public async Task a_body_under_the_cap_still_reaches_its_validation()
    {
        var (status, _) = await PostAsync("/api/orders", new StringContent("""{"user_id":1,"items":[]}""", Encoding.UTF8, "application/json"));

        status.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task an_upload_over_the_json_cap_is_still_taken()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(new byte[2 * 1024 * 1024]), "file", "two-megabytes.bin");

        var (status, answer) = await PostAsync("/api/uploads", form);

        status.ShouldBe(HttpStatusCode.Created, answer);
    }
}
