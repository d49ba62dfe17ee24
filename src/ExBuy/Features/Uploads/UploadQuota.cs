using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Uploads;

/// <summary>
/// The upload quota (<see cref="UploadOptions"/>) over the stored rows. <see cref="RefusalAsync"/> is the early look
/// (before a byte is written); <see cref="InsertAsync"/> is the rule itself, counted in the transaction that inserts
/// the row under a transaction-level advisory lock, so concurrent uploads are counted one after another and never
/// pass the quota together.
/// </summary>
public sealed class UploadQuota(IDocumentStore store, NpgsqlDataSource db, IOptions<UploadOptions> options)
{
    /// <summary>A message when a file of <paramref name="size"/> bytes would pass the quota now; null when it fits.</summary>
    public async Task<string?> RefusalAsync(long size, CancellationToken ct)
    {
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(UploadedFile), ct);
        await using var command = db.CreateCommand(UploadsSql.CountAndBytes(store));
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return Refusal(reader.GetInt64(0), reader.GetInt64(1), size);
    }

    private string? Refusal(long files, long bytes, long size)
    {
        var limits = options.Value;
        if (files + 1 > limits.MaxFiles)
        {
            return $"The upload quota is full: {files} of {limits.MaxFiles} files stored. Delete uploads (DELETE /api/uploads/{{id}}) to make room.";
        }

        if (bytes + size > limits.MaxTotalBytes)
        {
            return $"The upload quota is full: {bytes} of {limits.MaxTotalBytes} bytes stored, this file needs {size} more. Delete uploads (DELETE /api/uploads/{{id}}) to make room.";
        }

        return null;
    }

    /// <summary>
    /// Inserts the row if it fits the quota, counting under the lock in the inserting transaction; false (nothing
    /// inserted) when it does not.
    /// </summary>
    public async Task<bool> InsertAsync(UploadedFile file, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var take = new NpgsqlCommand(UploadsSql.TakeQuotaLock, connection, transaction))
        {
            await take.ExecuteNonQueryAsync(ct);
        }

        // A statement of its own after the lock: it sees every upload committed before this one took it.
        await using (var count = new NpgsqlCommand(UploadsSql.CountAndBytes(store), connection, transaction))
        await using (var reader = await count.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            if (Refusal(reader.GetInt64(0), reader.GetInt64(1), file.Size) is not null)
            {
                return false;
            }
        }

        await using (var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction)))
        {
            session.Insert(file);
            await session.SaveChangesAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>The message for an insert the quota refused (it raced another upload to the last room).</summary>
    public string Full => $"The upload quota is full ({options.Value.MaxFiles} files, {options.Value.MaxTotalBytes} bytes). Delete uploads (DELETE /api/uploads/{{id}}) to make room.";
}
