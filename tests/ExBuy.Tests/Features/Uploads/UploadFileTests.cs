using System.Net.Http.Headers;
using System.Security.Cryptography;
using ExBuy.Features.Uploads;
using ExBuy.Features.Uploads.UploadFile;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Uploads;

public sealed class UploadFileTests(AppFixture app) : IntegrationContext(app)
{
    private static MultipartFormDataContent Form(byte[] bytes, string fileName = "report.pdf", string field = "file", string contentType = "application/pdf")
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return new MultipartFormDataContent { { file, field, fileName } };
    }

    private async Task<List<UploadedFile>> Stored()
    {
        await using var session = Store.QuerySession();
        return (await session.Query<UploadedFile>().ToListAsync(Ct)).ToList();
    }

    private async Task<System.Text.Json.Nodes.JsonNode> Upload(MultipartFormDataContent form, int status)
    {
        var result = await Host.Scenario(s =>
        {
            s.Post.MultipartFormData(form).ToUrl("/api/uploads/");
            s.StatusCodeShouldBe(status);
        });
        return HttpScenarios.Parse(await result.ReadAsTextAsync());
    }

    private int FilesOnDisk()
    {
        var root = Path.Combine(App.DataDirectory, "uploads");
        return Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories).Length : 0;
    }

    [Fact]
    public async Task a_file_is_stored_with_its_metadata()
    {
        var bytes = RandomNumberGenerator.GetBytes(200_000);

        var body = await Upload(Form(bytes, "../../etc/quarterly report.pdf"), 201);

        body["filename"]!.GetValue<string>().ShouldBe("quarterly_report.pdf");
        body["size"]!.GetValue<long>().ShouldBe(bytes.Length);
        body["content_type"]!.GetValue<string>().ShouldBe("application/pdf");
        body["status"]!.GetValue<string>().ShouldBe("uploaded");

        var stored = (await Stored()).ShouldHaveSingleItem();
        stored.Sha256.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var path = Path.GetFullPath(Path.Combine(App.DataDirectory, stored.StoredPath));
        path.ShouldStartWith(Path.GetFullPath(App.DataDirectory));
        (await File.ReadAllBytesAsync(path, Ct)).ShouldBe(bytes);
    }

    [Fact]
    public async Task exactly_ten_megabytes_is_accepted()
    {
        await Upload(Form(new byte[UploadFileEndpoint.MaxFileBytes]), 201);
    }

    [Fact]
    public async Task more_than_ten_megabytes_is_400_and_nothing_is_stored()
    {
        var filesBefore = FilesOnDisk();
        var problem = await Upload(Form(new byte[UploadFileEndpoint.MaxFileBytes + 1]), 400);
        problem.ErrorFields().ShouldContain("file");
        (await Stored()).ShouldBeEmpty();
        FilesOnDisk().ShouldBe(filesBefore);
    }

    [Fact]
    public async Task a_missing_or_empty_file_is_400()
    {
        (await Upload(Form([1, 2, 3], field: "attachment"), 400)).ErrorFields().ShouldContain("file");
        (await Upload(Form([]), 400)).ErrorFields().ShouldContain("file");
        (await Stored()).ShouldBeEmpty();
    }

    [Fact]
    public async Task a_non_multipart_body_is_400()
    {
        var problem = await Host.PostJson("/api/uploads", """{"file":"abc"}""", 400);
        problem.ErrorFields().ShouldContain("file");
    }

    [Theory]
    [InlineData("photo.jpg", "photo.jpg")]
    [InlineData("C:\\Users\\me\\photo.jpg", "photo.jpg")]
    [InlineData("...", "upload")]
    [InlineData("r\u00e9sum\u00e9 (1).pdf", "r\u00e9sum\u00e9__1_.pdf")]
    public void file_names_are_made_safe(string given, string expected) =>
        UploadFileEndpoint.SafeFileName(given).ShouldBe(expected);
}
