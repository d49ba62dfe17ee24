using Marten;
using Marten.Schema.Identity;
using Npgsql;
using Weasel.Postgresql;

namespace ExBuy.Infrastructure.Marten;

/// <summary>
/// Public ids come from one PostgreSQL sequence per document type, taken asynchronously before a document is
/// stored. Marten's HiLo would also number them, but it fetches a new block synchronously, under a lock,
/// on whichever request needs it: under load, with the pool busy with transactions that hold row locks,
/// that request waits for a connection while holding a thread and the HiLo lock, other requests pile up
/// behind it, and the lock holders never get a thread back to commit. A sequence also keeps ids increasing
/// across processes, as the contract asks.
/// </summary>
public static class IdSequences
{
    public static string SequenceName<T>() => $"{typeof(T).Name.ToLowerInvariant()}_ids";

    /// <summary>Registers the sequence with Marten's schema management and turns Marten's own id assignment off.</summary>
    public static void Register<T>(StoreOptions opts)
    {
        opts.Storage.ExtendedSchemaObjects.Add(new Sequence(new PostgresqlObjectName(opts.DatabaseSchemaName, SequenceName<T>(), Weasel.Postgresql.SchemaUtils.IdentifierUsage.General)));
        opts.Schema.For<T>().IdStrategy(new NoOpIdGeneration());
    }

    public static async Task<long> NextAsync<T>(IDocumentStore store, CancellationToken ct = default) =>
        (await NextAsync<T>(store, 1, ct))[0];

    /// <summary><paramref name="count"/> new ids, ascending, in a round trip of their own.</summary>
    public static async Task<long[]> NextAsync<T>(IDocumentStore store, int count, CancellationToken ct = default)
    {
        await using var session = store.QuerySession();
        var batch = session.CreateBatchQuery();
        var ids = NextAsync<T>(batch, store, count);
        await batch.Execute(ct);
        return await ids;
    }

    /// <summary>
    /// <paramref name="count"/> new ids, ascending, taken in the caller's batched query (no round trip of their own): the
    /// task completes when the batch has run.
    /// </summary>
    public static Task<long[]> NextAsync<T>(global::Marten.Services.BatchQuerying.IBatchedQuery batch, IDocumentStore store, int count) =>
        batch.AddItem(new NextIds($"{store.Options.DatabaseSchemaName}.{SequenceName<T>()}", count));

    /// <summary>The sequence's next values as an item of a Marten batched query.</summary>
    private sealed class NextIds(string sequence, int count) : global::Marten.Linq.QueryHandlers.IQueryHandler<long[]>
    {
        public void ConfigureCommand(ICommandBuilder builder, Weasel.Storage.IStorageSession session)
        {
            builder.Append($"select nextval('{sequence}') from generate_series(1, ");
            builder.AppendParameter(count);
            builder.Append(") order by 1");
        }

        public async Task<long[]> HandleAsync(System.Data.Common.DbDataReader reader, Weasel.Storage.IStorageSession session, CancellationToken token)
        {
            var ids = new long[count];
            for (var i = 0; await reader.ReadAsync(token); i++)
            {
                ids[i] = reader.GetInt64(0);
            }

            return ids;
        }

        public Task<int> StreamJson(Stream stream, System.Data.Common.DbDataReader reader, CancellationToken token) =>
            throw new NotSupportedException("Ids are not JSON.");
    }

    /// <summary>
    /// Moves the sequence past the highest id already stored (a database filled before the sequence existed,
    /// or by hand), so the next id can never collide.
    /// </summary>
    public static async Task AlignAsync<T>(IDocumentStore store, CancellationToken ct = default)
    {
        var schema = store.Options.DatabaseSchemaName;
        var table = $"{schema}.mt_doc_{typeof(T).Name.ToLowerInvariant()}";
        var sequence = $"{schema}.{SequenceName<T>()}";
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            $"""
             select setval('{sequence}', t.top + 1, false)
             from (select coalesce(max(id), 0) as top from {table}) t
             where t.top >= (select last_value from {sequence})
             """,
            connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Starts the sequence over at 1 (a seed with --reset).</summary>
    public static async Task RestartAsync<T>(IDocumentStore store, CancellationToken ct = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"alter sequence {store.Options.DatabaseSchemaName}.{SequenceName<T>()} restart with 1", connection);
        await command.ExecuteNonQueryAsync(ct);
    }
}
