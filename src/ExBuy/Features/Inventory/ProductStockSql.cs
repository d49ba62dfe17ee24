using ExBuy.Features.Catalog;
using Marten;
using Npgsql;
using NpgsqlTypes;

namespace ExBuy.Features.Inventory;

/// <summary>
/// The hand-written statements on product rows, run on a Marten session's own connection and transaction.
/// Each one bumps Marten's revision (<c>mt_version</c>) with the stock, so an optimistic writer that loaded
/// the row before can never overwrite the change.
/// </summary>
public static class ProductStockSql
{
    /// <summary>The conditional update: takes the stock only if enough is left; null when the row refused.</summary>
    public static async Task<Product?> TryTakeAsync(IDocumentSession session, long productId, int quantity, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = Command(session, $"""
            update {Table(session)}
            set data = data || jsonb_build_object('Stock', (data ->> 'Stock')::int - $2, 'UpdatedAt', $3, 'Version', mt_version + 1),
                mt_version = mt_version + 1,
                mt_last_modified = now()
            where id = $1 and (data ->> 'Stock')::int >= $2
            returning data, mt_version
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = productId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = quantity });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await ReadProduct(session, command, ct);
    }

    /// <summary>Puts stock back (a cancelled order). Unconditional: returning never needs a check.</summary>
    public static async Task<Product?> ReturnAsync(IDocumentSession session, long productId, int quantity, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = Command(session, $"""
            update {Table(session)}
            set data = data || jsonb_build_object('Stock', (data ->> 'Stock')::int + $2, 'UpdatedAt', $3, 'Version', mt_version + 1),
                mt_version = mt_version + 1,
                mt_last_modified = now()
            where id = $1
            returning data, mt_version
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = productId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = quantity });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await ReadProduct(session, command, ct);
    }

    /// <summary>The unsafe write: sets the stock computed from an earlier read, whatever happened since.</summary>
    public static async Task OverwriteAsync(IDocumentSession session, long productId, int stock, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = Command(session, $"""
            update {Table(session)}
            set data = data || jsonb_build_object('Stock', $2, 'UpdatedAt', $3, 'Version', mt_version + 1),
                mt_version = mt_version + 1,
                mt_last_modified = now()
            where id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = productId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = stock });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// <c>SELECT … FOR UPDATE</c> in id order, waiting at most <paramref name="timeout"/> for each row, and returns
    /// the locked products as they are now: one round trip (timeout and select batched), so the locks are held
    /// for as little time as possible.
    /// </summary>
    public static async Task<Dictionary<long, Product>> LockRowsAsync(IDocumentSession session, IReadOnlyList<long> orderedIds, TimeSpan timeout, CancellationToken ct)
    {
        var connection = session.Connection ?? throw new InvalidOperationException("Begin the session's transaction first.");
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"set local lock_timeout = {(int)timeout.TotalMilliseconds}"));
        var select = new NpgsqlBatchCommand($"select data, mt_version from {Table(session)} where id = any($1) order by id for update");
        select.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = orderedIds.ToArray() });
        batch.BatchCommands.Add(select);

        var serializer = session.DocumentStore.Options.Serializer();
        var products = new Dictionary<long, Product>(orderedIds.Count);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var product = serializer.FromJson<Product>(reader, 0);
            product.Version = reader.GetInt32(1);
            products[product.Id] = product;
        }

        return products;
    }

    /// <summary>
    /// Marten commits a session's transaction only when it has queued operations; the statements above run
    /// at once and are not queued. This no-op makes sure <c>SaveChangesAsync</c> commits them.
    /// </summary>
    public static void EnsureCommit(IDocumentSession session) => session.QueueSqlCommand("select 1");

    /// <summary>
    /// Commits a unit of work that moves stock — deliberately not with the request's cancellation token. Once the
    /// stock is taken (under a lock, a row lock or a hold), the unit of work is finished even if the client has gone:
    /// a commit cut off mid-way may still land on the server, and the Redis copy of the stock must follow what
    /// committed, not what the request believed.
    /// </summary>
    public static Task CommitAsync(IDocumentSession session) => session.SaveChangesAsync(CancellationToken.None);

    /// <summary>The products' Marten table, for the hand-written statements here and in <see cref="StockHolds"/>.</summary>
    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.mt_doc_product";

    private static string Table(IDocumentSession session) => Table(session.DocumentStore);

    private static NpgsqlCommand Command(IDocumentSession session, string sql) =>
        new(sql, session.Connection ?? throw new InvalidOperationException("Begin the session's transaction first."));

    private static async Task<Product?> ReadProduct(IDocumentSession session, NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var product = session.DocumentStore.Options.Serializer().FromJson<Product>(reader, 0);
        product.Version = reader.GetInt32(1);
        return product;
    }
}
