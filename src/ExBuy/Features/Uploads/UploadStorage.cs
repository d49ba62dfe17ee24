namespace ExBuy.Features.Uploads;

/// <summary>
/// Where an upload's bytes go, and how they get there: written under a temp name beside their place
/// (<c>….part</c>), moved into place only when complete, and deleted when anything fails on the way — an aborted
/// request, a full disk, a refused insert — so the folder holds no partial file and no file without its row (what a
/// crash still leaves, <see cref="UploadSweeper"/> removes).
/// </summary>
public static class UploadStorage
{
    /// <summary>The folder under the data directory that holds the uploads (and nothing else).</summary>
    public const string Folder = "uploads";

    public const string TempSuffix = ".part";

    /// <summary>Deletes a file if it is there; a failure is left to the sweeper rather than failing the request again.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The sweeper deletes it later: no row names it.
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/> through a temp file, hashing it on the way;
    /// nothing is at <paramref name="target"/> (nor at the temp name) unless the whole copy succeeded.
    /// </summary>
    public static async Task<string> WriteAsync(Stream source, string target, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = target + TempSuffix;
        try
        {
            string sha256;
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await source.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), ct);
                }

                await output.FlushAsync(ct);
                sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            File.Move(temp, target, overwrite: false);
            return sha256;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }
}
