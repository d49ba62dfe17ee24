using Marten;
using Npgsql;

namespace ExBuy.Tests.Infrastructure;

/// <summary>
/// Waits until the sales projection has applied every event committed so far. Marten's own
/// WaitForNonStaleProjectionData compares against the high-water mark, which itself trails new events by a
/// polling interval, so right after an append it can report "not stale" too early.
/// </summary>
public static class ProjectionWaits
{
    public static async Task CatchUpAsync(this IDocumentStore store, NpgsqlDataSource db, TimeSpan? timeout = null, string shard = "ProductSales")
    {
        await using var command = db.CreateCommand($"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events");
        var target = (long)(await command.ExecuteScalarAsync())!;
        if (target == 0)
        {
            return; // no event yet: nothing to apply (and a shard records no progress before its first event)
        }

        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var progress = await store.Advanced.AllProjectionProgress();
            var sales = progress.Where(p => p.ShardName.StartsWith(shard, StringComparison.Ordinal)).ToList();
            if (sales.Count > 0 && sales.All(p => p.Sequence >= target))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{shard} did not reach event {target}: {string.Join(", ", progress.Select(p => $"{p.ShardName}={p.Sequence}"))}");
            }

            await Task.Delay(50);
        }
    }
}
