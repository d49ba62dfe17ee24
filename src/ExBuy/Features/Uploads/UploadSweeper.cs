using ExBuy.Infrastructure;
using ExBuy.Infrastructure.Hosting;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Uploads;

/// <summary>
/// Deletes the files under <c>uploads/</c> that no row names: a temp file (<c>*.part</c>) a crash left half-written, a
/// file moved into place whose insert never committed. Runs at start and every
/// <see cref="UploadOptions.SweepIntervalSeconds"/>. A file younger than <see cref="Grace"/> is left alone: it may be an
/// upload still on its way from temp name to committed row.
/// </summary>
public sealed partial class UploadSweeper(
    IDocumentStore store, NpgsqlDataSource db, IOptions<UploadOptions> options, IOptions<ExBuyOptions> exbuy, TimeProvider clock, ILogger<UploadSweeper> logger)
    : PeriodicPass(clock)
{
    /// <summary>Far longer than an upload takes from its temp file to its committed row (a 10 MB copy and an insert).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);

    private readonly TimeProvider clock = clock;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds);

    protected override bool RunAtStart => true;

    protected override Task RunPassAsync(CancellationToken ct) => SweepAsync(ct);

    protected override void PassFailed(Exception e) => SweepFailed(logger, e);

    /// <returns>How many files it deleted.</returns>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var dataDirectory = Path.GetFullPath(exbuy.Value.DataDirectory);
        var root = Path.Combine(dataDirectory, UploadStorage.Folder);
        if (!Directory.Exists(root))
        {
            return 0;
        }

        // Listed before the rows are read: a file whose row commits in between is then in the rows.
        var oldEnough = clock.GetUtcNow().UtcDateTime - Grace;
        var candidates = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => File.GetLastWriteTimeUtc(f) < oldEnough)
            .ToList();
        if (candidates.Count == 0)
        {
            return 0;
        }

        await store.Storage.Database.EnsureStorageExistsAsync(typeof(UploadedFile), ct);
        var named = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = db.CreateCommand(UploadsSql.StoredPaths(store)))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                named.Add(Path.GetFullPath(Path.Combine(dataDirectory, reader.GetString(0))));
            }
        }

        var deleted = 0;
        foreach (var file in candidates.Where(f => !named.Contains(Path.GetFullPath(f))))
        {
            try
            {
                File.Delete(file);
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                DeleteFailed(logger, file, e);
            }
        }

        if (deleted > 0)
        {
            Swept(logger, deleted);
        }

        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping the uploads folder failed; retrying on the next tick")]
    private static partial void SweepFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete the leftover upload file {File}")]
    private static partial void DeleteFailed(ILogger logger, string file, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Files} upload files no row names (temp files or orphans a crash left)")]
    private static partial void Swept(ILogger logger, int files);
}
