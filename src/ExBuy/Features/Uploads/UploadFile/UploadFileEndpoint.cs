using ExBuy.Infrastructure;
using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Marten;
using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Uploads.UploadFile;

public sealed record UploadFileResponse(long Id, string Filename, long Size, string ContentType, string Status);

/// <summary>
/// <c>POST /api/uploads</c>, multipart field <c>file</c>, at most 10 MB. The form is read by hand so that an
/// oversized body is refused from its Content-Length (or once 10 MB have streamed in) instead of being
/// buffered first. Under the quota (<see cref="UploadQuota"/>; full: 507, nothing written); the bytes reach their place
/// only whole (<see cref="UploadStorage"/>) and leave it again when the row's insert fails.
/// </summary>
public sealed class UploadFileEndpoint(IDocumentStore store, UploadQuota quota, IOptions<ExBuyOptions> options, TimeProvider clock)
    : EndpointWithoutRequest<UploadFileResponse>
{
    public const long MaxFileBytes = 10 * 1024 * 1024;

    private const int MaxContentTypeLength = 200;

    // Multipart framing around the file: boundaries, part headers, other small fields.
    private const long FormOverheadBytes = 64 * 1024;

    public override void Configure()
    {
        Post("/api/uploads");
        // Not AllowFileUploads(): its multipart-only route metadata would turn a JSON body into a 415 from routing,
        // where the contract wants the 400 "no file" answer below.
        Tags("uploads");
        // The edge's body cap (ExBuy:Http:MaxBodyBytes) is not this route's: its own 10 MB limit is answered below, as
        // the contract says (400).
        Options(b => b.WithMetadata(new Microsoft.AspNetCore.Mvc.DisableRequestSizeLimitAttribute()));
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        if (!HttpContext.Request.HasFormContentType)
        {
            await Refuse("Send the file as multipart/form-data in the field \"file\".", ct);
            return;
        }

        if (HttpContext.Request.ContentLength > MaxFileBytes + FormOverheadBytes)
        {
            await Refuse(TooLarge, ct);
            return;
        }

        // Full already: refused before the body is read.
        if (await quota.RefusalAsync(1, ct) is { } full)
        {
            await Send.ResultAsync(ErrorMessage.Result(StatusCodes.Status507InsufficientStorage, full));
            return;
        }

        if (HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFileBytes + FormOverheadBytes;
        }

        IFormFile? file;
        try
        {
            var form = await HttpContext.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = MaxFileBytes + FormOverheadBytes }, ct);
            file = form.Files.GetFile("file");
        }
        // A truncated or malformed body (no closing boundary, garbage instead of parts) surfaces as an IOException
        // from the multipart reader; it is the client's fault like the others.
        catch (Exception e) when ((e is InvalidDataException or IOException) && !ct.IsCancellationRequested)
        {
            await Refuse(e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } ? TooLarge : "The multipart body could not be read.", ct);
            return;
        }

        if (file is null)
        {
            await Refuse("No file was submitted.", ct);
            return;
        }

        if (file.Length == 0)
        {
            await Refuse("The submitted file is empty.", ct);
            return;
        }

        if (file.Length > MaxFileBytes)
        {
            await Refuse(TooLarge, ct);
            return;
        }

        // Stored as given: a control character (NUL above all) would not fit PostgreSQL's text.
        if (file.ContentType is { } type && (type.Length > MaxContentTypeLength || type.Any(char.IsControl)))
        {
            await Refuse("The file's Content-Type is not a valid media type.", ct);
            return;
        }

        if (await quota.RefusalAsync(file.Length, ct) is { } refusal)
        {
            await Send.ResultAsync(ErrorMessage.Result(StatusCodes.Status507InsufficientStorage, refusal));
            return;
        }

        var stored = await Store(file, ct);
        var absolute = Path.GetFullPath(Path.Combine(options.Value.DataDirectory, stored.StoredPath));
        bool inserted;
        try
        {
            stored.Id = await IdSequences.NextAsync<UploadedFile>(store, ct);
            inserted = await quota.InsertAsync(stored, ct);
        }
        catch
        {
            // No row, no file: a failed insert (or an abort here) takes the file back out.
            UploadStorage.TryDelete(absolute);
            throw;
        }

        if (!inserted)
        {
            // Another upload took the last room meanwhile.
            UploadStorage.TryDelete(absolute);
            await Send.ResultAsync(ErrorMessage.Result(StatusCodes.Status507InsufficientStorage, quota.Full));
            return;
        }

        await Send.ResponseAsync(
            new UploadFileResponse(stored.Id, stored.FileName, stored.Size, stored.ContentType, "uploaded"),
            StatusCodes.Status201Created,
            ct);
    }

    private static string TooLarge => $"The file is larger than {MaxFileBytes / (1024 * 1024)} MB.";

    private async Task<UploadedFile> Store(IFormFile file, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var fileName = SafeFileName(file.FileName);
        var relative = Path.Combine(UploadStorage.Folder, now.ToString("yyyy/MM/dd", System.Globalization.CultureInfo.InvariantCulture), $"{Guid.CreateVersion7():N}-{fileName}");
        var absolute = Path.GetFullPath(Path.Combine(options.Value.DataDirectory, relative));
        string sha256;
        await using (var source = file.OpenReadStream())
        {
            sha256 = await UploadStorage.WriteAsync(source, absolute, ct);
        }

        return new UploadedFile
        {
            FileName = fileName,
            StoredPath = relative,
            Size = file.Length,
            ContentType = string.IsNullOrWhiteSpace(file.ContentType) ? "application/octet-stream" : file.ContentType,
            Sha256 = sha256,
            UploadedAt = now,
        };
    }

    /// <summary>Keeps the last path segment and replaces anything a file system or a shell would trip over.</summary>
    internal static string SafeFileName(string? name)
    {
        var leaf = Path.GetFileName((name ?? string.Empty).Replace('\\', '/'));
        var cleaned = new string(leaf.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray()).Trim('.');
        if (cleaned.Length == 0)
        {
            cleaned = "upload";
        }

        return cleaned.Length > 100 ? cleaned[^100..] : cleaned;
    }

    private async Task Refuse(string message, CancellationToken ct)
    {
        AddError(new FluentValidation.Results.ValidationFailure("file", message));
        await Send.ErrorsAsync(StatusCodes.Status400BadRequest, ct);
    }
}
