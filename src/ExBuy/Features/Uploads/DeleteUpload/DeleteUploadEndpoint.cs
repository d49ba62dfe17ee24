using ExBuy.Infrastructure;
using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Security;
using FastEndpoints;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Uploads.DeleteUpload;

public sealed class DeleteUploadRequest
{
    public long Id { get; set; }
}

/// <summary>
/// <c>DELETE /api/uploads/{id}</c> (admin): deletes the row, then the file, and so frees their share of the quota. In
/// that order: a file that cannot be deleted is left to <see cref="UploadSweeper"/> (no row names it any more); the
/// other order could leave a row whose file is gone.
/// </summary>
public sealed class DeleteUploadEndpoint(IDocumentSession session, IOptions<ExBuyOptions> options) : Endpoint<DeleteUploadRequest>
{
    public override void Configure()
    {
        Delete("/api/uploads/{id:long}");
        PreProcessor<AdminOnly<DeleteUploadRequest>>();
        Tags("uploads", "admin");
    }

    public override async Task HandleAsync(DeleteUploadRequest req, CancellationToken ct)
    {
        var file = await session.LoadAsync<UploadedFile>(req.Id, ct);
        if (file is null)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("No such upload.")));
            return;
        }

        session.Delete(file);
        await session.SaveChangesAsync(ct);

        var dataDirectory = Path.GetFullPath(options.Value.DataDirectory);
        var path = Path.GetFullPath(Path.Combine(dataDirectory, file.StoredPath));
        if (path.StartsWith(Path.Combine(dataDirectory, UploadStorage.Folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            UploadStorage.TryDelete(path);
        }

        await Send.NoContentAsync(ct);
    }
}
