using Npgsql;

namespace ExBuy.Features.Seeding.Init;

/// <summary>
/// One <c>POST /init</c> at a time across every API process on the database. An init clears the shop and inserts
/// users <c>u1..uN</c> under a unique name index: two at once interleaved their clear and insert steps, so one
/// committed and the others failed on the duplicate names (200, 500, 500) or left a mix of both shops. The init holds
/// a transaction-level PostgreSQL advisory lock on a connection of its own from before its clear until its answer; a
/// second init waits for it (then runs, on the state the first left) and is answered 409, having changed nothing, if
/// the wait passes <see cref="MaxWait"/>. The transaction writes nothing: ending it (commit, rollback, a broken
/// connection, a crashed process) releases the lock, so it never outlives its init.
/// </summary>
public sealed class InitLock : IAsyncDisposable
{
    /// <summary>'ExBuyIni' in ASCII.</summary>
    public const long Key = 0x4578_4275_7949_6E69;

    /// <summary>How long an init waits for the one before it: far beyond a default init, bounded against a stuck one.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private InitLock(NpgsqlConnection connection, NpgsqlTransaction transaction) => (_connection, _transaction) = (connection, transaction);

    /// <summary>Waits for this init's turn; null when another init held it for longer than <see cref="MaxWait"/>.</summary>
    public static async Task<InitLock?> TakeAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        var connection = await db.OpenConnectionAsync(ct);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(ct);
            await using var take = new NpgsqlCommand(
                $"set local lock_timeout = '{(long)MaxWait.TotalMilliseconds}ms'; select pg_advisory_xact_lock({Key})", connection, transaction);
            await take.ExecuteNonQueryAsync(ct);
            return new InitLock(connection, transaction);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            await ReleaseAsync(connection, transaction);
            return null;
        }
        catch
        {
            await ReleaseAsync(connection, transaction);
            throw;
        }
    }

    public ValueTask DisposeAsync() => ReleaseAsync(_connection, _transaction);

    private static async ValueTask ReleaseAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        if (transaction is not null)
        {
            await transaction.DisposeAsync();
        }

        await connection.DisposeAsync();
    }
}
