using Marten;
using Npgsql;

namespace ExBuy.Infrastructure.Marten;

/// <summary>
/// An upgrade step run once at start, after Marten has created the schema: one idempotent statement that gives rows
/// written by an older ExBuy what the current layout needs (it must change nothing when run again). Each slice
/// that moved data into a table of its own says which statement; this runs it and logs what it did.
/// </summary>
public abstract partial class StartupBackfill(IDocumentStore store, ILogger logger) : IHostedService
{
    protected IDocumentStore Store => store;

    /// <summary>The statement; its affected-row count is what was upgraded.</summary>
    protected abstract string Sql { get; }

    /// <summary>What one upgraded row is, for the log line ("products written before the stock table").</summary>
    protected abstract string Rows { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(Sql, connection);
        var added = await command.ExecuteNonQueryAsync(cancellationToken);
        if (added > 0)
        {
            Backfilled(logger, added, Rows);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Upgraded {Count} {Rows}")]
    private static partial void Backfilled(ILogger logger, int count, string rows);
}
