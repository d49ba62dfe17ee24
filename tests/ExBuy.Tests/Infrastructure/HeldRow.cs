using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Infrastructure;

/// <summary>
/// A row locked <c>FOR UPDATE</c> by a transaction of the test's own, as another writer would hold it, so that what the
/// code under test does behind that lock can be watched. Released (rolled back) by <see cref="ReleaseAsync"/> or at
/// disposal, whichever comes first.
/// </summary>
public sealed class HeldRow : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private bool _released;

    private HeldRow(NpgsqlConnection connection, NpgsqlTransaction transaction) => (_connection, _transaction) = (connection, transaction);

    /// <summary>Locks the row of <paramref name="table"/> whose <paramref name="keyColumn"/> is <paramref name="key"/>; fails when there is none.</summary>
    public static async Task<HeldRow> LockAsync<TKey>(NpgsqlDataSource db, string table, string keyColumn, TKey key, CancellationToken ct)
    {
        var connection = await db.OpenConnectionAsync(ct);
        try
        {
            var transaction = await connection.BeginTransactionAsync(ct);
            await using var command = new NpgsqlCommand($"select 1 from {table} where {keyColumn} = $1 for update", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<TKey> { TypedValue = key });
            (await command.ExecuteScalarAsync(ct)).ShouldNotBeNull($"no row of {table} with {keyColumn} = {key} to hold");
            return new HeldRow(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Lets the row go (the holding transaction rolls back).</summary>
    public async Task ReleaseAsync()
    {
        if (!_released)
        {
            _released = true;
            await _transaction.RollbackAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
