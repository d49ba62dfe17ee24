using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Alba;
using ExBuy.Features.Uploads;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Uploads;

/// <summary>
/// Uploads cannot fill the disk PostgreSQL and Redis share: a quota of bytes and files (<c>ExBuy:Uploads</c>), a delete
/// route that frees it, and no file on disk without its row — not from an aborted upload, a failed insert or a crash.
/// </summary>
public sealed class UploadVolumeTests(AppFixture app) : IntegrationContext(app)
{
    private const string AdminKey = "volume-tests-admin-key-7f3c9a1e5b2d4680";

    private static MultipartFormDataContent Form(int size, string fileName = "data.bin")
    {
        var file = new ByteArrayContent(RandomNumberGenerator.GetBytes(size));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent { { file, "file", fileName } };
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> Upload(IAlbaHost host, int size, int status)
    {
        var result = await host.Scenario(s =>
        {
            s.Post.MultipartFormData(Form(size)).ToUrl("/api/uploads");
            s.StatusCodeShouldBe(status);
        });
        return HttpScenarios.Parse(await result.ReadAsTextAsync());
    }

    private static string[] FilesUnder(string dataDirectory)
    {
        var root = Path.Combine(dataDirectory, "uploads");
        return Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories) : [];
    }

    private async Task<List<UploadedFile>> Rows()
    {
        await using var session = Store.QuerySession();
        return [.. await session.Query<UploadedFile>().ToListAsync(Ct)];
    }

    private static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), $"exbuy-volume-{Guid.NewGuid():N}");

    [Fact]
    public async Task a_full_quota_of_bytes_or_files_is_507_and_nothing_is_written()
    {
        var directory = NewDataDirectory();
        await using var host = await App.StartHostWithAsync(
            ("ExBuy:DataDirectory", directory), ("ExBuy:Uploads:MaxTotalBytes", "250000"), ("ExBuy:Uploads:MaxFiles", "3"));

        await Upload(host, 100_000, 201);
        await Upload(host, 100_000, 201);

        // 300,000 bytes would pass the byte quota.
        var full = await Upload(host, 100_000, 507);
        full["error"]!.GetValue<string>().ShouldContain("quota");
        (await Rows()).Count.ShouldBe(2);
        FilesUnder(directory).Length.ShouldBe(2);

        await Upload(host, 40_000, 201);

        // A fourth file would pass the file quota, however small.
        (await Upload(host, 10, 507))["error"]!.GetValue<string>().ShouldContain("quota");
        (await Rows()).Count.ShouldBe(3);
        FilesUnder(directory).Length.ShouldBe(3);
        (await Rows()).Sum(r => r.Size).ShouldBe(240_000);
    }

    [Fact]
    public async Task deleting_an_upload_removes_its_file_and_row_and_frees_the_quota()
    {
        var directory = NewDataDirectory();
        await using var host = await App.StartHostWithAsync(
            ("ExBuy:DataDirectory", directory), ("ExBuy:Uploads:MaxFiles", "1"),
            ("ExBuy:Profile", "production"), ("ExBuy:AdminKey", AdminKey));

        var id = (await Upload(host, 5_000, 201))["id"]!.GetValue<long>();
        await Upload(host, 5_000, 507);

        // Admin-only: without the key the file stays.
        await host.Scenario(s =>
        {
            s.Delete.Url($"/api/uploads/{id}");
            s.StatusCodeShouldBe(403);
        });
        FilesUnder(directory).Length.ShouldBe(1);

        await host.Scenario(s =>
        {
            s.Delete.Url($"/api/uploads/{id}");
            s.WithRequestHeader("X-Admin-Key", AdminKey);
            s.StatusCodeShouldBe(204);
        });
        (await Rows()).ShouldBeEmpty();
        FilesUnder(directory).ShouldBeEmpty();

        await host.Scenario(s =>
        {
            s.Delete.Url($"/api/uploads/{id}");
            s.WithRequestHeader("X-Admin-Key", AdminKey);
            s.StatusCodeShouldBe(404);
        });

        await Upload(host, 5_000, 201);
        FilesUnder(directory).Length.ShouldBe(1);
    }

    [Fact]
    public async Task a_failed_insert_leaves_no_file()
    {
        await Upload(Host, 10, 201); // the table exists
        var before = FilesUnder(App.DataDirectory).Length;
        var table = $"{Store.Options.DatabaseSchemaName}.mt_doc_uploadedfile";
        var db = Host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>();
        await using (var refuse = db.CreateCommand(
            $"""
             create or replace function {Store.Options.DatabaseSchemaName}.test_refuse_upload() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$;
             create trigger test_refuse_upload before insert on {table} for each row execute function {Store.Options.DatabaseSchemaName}.test_refuse_upload();
             """))
        {
            await refuse.ExecuteNonQueryAsync(Ct);
        }

        try
        {
            await Upload(Host, 50_000, 500);
        }
        finally
        {
            await using var allow = db.CreateCommand($"drop trigger test_refuse_upload on {table}; drop function {Store.Options.DatabaseSchemaName}.test_refuse_upload();");
            await allow.ExecuteNonQueryAsync(Ct);
        }

        FilesUnder(App.DataDirectory).Length.ShouldBe(before);
        (await Rows()).Count.ShouldBe(1);
    }

    /// <summary>A body that sends the form's start and part of the file, then fails, as a client that goes away.</summary>
    private sealed class AbortingContent(int sendBeforeFailing) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var head = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"u8.ToArray();
            await stream.WriteAsync(head);
            var chunk = new byte[16 * 1024];
            for (var sent = 0; sent < sendBeforeFailing; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk);
                await stream.FlushAsync();
            }

            throw new IOException("the client went away");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task an_aborted_upload_leaves_no_file_and_no_row()
    {
        var before = FilesUnder(App.DataDirectory);
        using var client = Host.Server.CreateClient();
        var content = new AbortingContent(2 * 1024 * 1024);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        try
        {
            using var response = await client.PostAsync("/api/uploads", content, Ct);
            response.StatusCode.ShouldNotBe(HttpStatusCode.Created);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // The client's own send failed: what matters is what the server left.
        }

        await Eventually.WaitUntilAsync(() => Task.FromResult(FilesUnder(App.DataDirectory).Length == before.Length), TimeSpan.FromSeconds(10), "no file left by the aborted upload");
        FilesUnder(App.DataDirectory).ShouldBe(before, ignoreOrder: true);
        (await Rows()).ShouldBeEmpty();
    }

    [Fact]
    public async Task partial_and_orphan_files_left_by_a_crash_are_swept_at_start_and_stored_uploads_stay()
    {
        var directory = NewDataDirectory();
        string kept;
        await using (var first = await App.StartHostWithAsync(("ExBuy:DataDirectory", directory)))
        {
            await Upload(first, 1_000, 201);
            kept = FilesUnder(directory).ShouldHaveSingleItem();
        }

        // What a crash leaves: a file being written (temp name) and a file moved into place whose row never committed.
        var day = Path.Combine(directory, "uploads", "2026", "01", "02");
        Directory.CreateDirectory(day);
        var orphan = Path.Combine(day, $"{Guid.NewGuid():N}-orphan.bin");
        var partial = Path.Combine(day, $"{Guid.NewGuid():N}-report.pdf.part");
        await File.WriteAllBytesAsync(orphan, new byte[1_000], Ct);
        await File.WriteAllBytesAsync(partial, new byte[1_000], Ct);
        foreach (var file in new[] { orphan, partial, kept })
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-2));
        }

        await using var second = await App.StartHostWithAsync(("ExBuy:DataDirectory", directory), ("ExBuy:Uploads:SweepIntervalSeconds", "3600"));
        await Eventually.WaitUntilAsync(() => Task.FromResult(!File.Exists(orphan) && !File.Exists(partial)), TimeSpan.FromSeconds(30), "the start-up sweep removed the leftovers");
        FilesUnder(directory).ShouldBe([kept]);
        (await Rows()).ShouldHaveSingleItem().Size.ShouldBe(1_000);
    }
}
