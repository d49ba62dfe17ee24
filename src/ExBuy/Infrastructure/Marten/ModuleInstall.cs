using Marten;
using Npgsql;

namespace ExBuy.Infrastructure.Marten;

/// <summary>
/// Database objects a module keeps beside Marten's tables (triggers and their functions), installed by the module's own
/// registration of this: a statement answering true when this database already has them at this version, and the DDL
/// that installs them (and recomputes what they keep). Run at start by <see cref="ModuleInstallSetup"/>.
/// </summary>
public interface IModuleInstall
{
    /// <summary>A statement answering true when the database already has this version.</summary>
    string InstalledSql(string schema);

    /// <summary>What installs it, run in the setup's one transaction.</summary>
    string InstallSql(string schema);
}

/// <summary>
/// Installs at start, after Marten has created the tables, every module's <see cref="IModuleInstall"/> whose version
/// the database lacks (the catalogue's generation triggers, the review figures' triggers...), each recomputing what it
/// keeps as it installs, so rows written while no trigger existed (an older ExBuy, a seeder run before the first start)
/// are counted. A database that already has every version is left alone: the DDL locks the tables it touches, and a
/// node starting beside others that serve traffic must not stall their sales. Installing is one transaction under an
/// advisory lock (nodes starting together take turns) with a lock timeout (it never queues every sale behind a long
/// transaction), tried again on a timeout or a deadlock.
/// </summary>
public sealed partial class ModuleInstallSetup(IDocumentStore store, IEnumerable<IModuleInstall> installs, ILogger<ModuleInstallSetup> logger) : IHostedService
{
    // 'ExBuyCat' in ASCII.
    private const long LockKey = 0x4578427579436174;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var schema = store.Options.DatabaseSchemaName;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = store.Storage.Database.CreateConnection();
                await connection.OpenAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var take = new NpgsqlCommand($"select pg_advisory_xact_lock({LockKey}); set local lock_timeout = '5s';", connection, transaction))
                {
                    await take.ExecuteNonQueryAsync(cancellationToken);
                }

                var sql = new List<string>();
                foreach (var install in installs)
                {
                    if (!await IsTrueAsync(connection, transaction, install.InstalledSql(schema), cancellationToken))
                    {
                        sql.Add(install.InstallSql(schema));
                    }
                }

                if (sql.Count > 0)
                {
                    await using var install = new NpgsqlCommand(string.Join('\n', sql), connection, transaction);
                    await install.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                if (sql.Count > 0)
                {
                    Installed(logger, sql.Count);
                }

                return;
            }
            catch (Exception e) when (attempt < 10 && (PostgresErrors.IsDeadlockOrSerialization(e) || PostgresErrors.IsLockTimeout(e)))
            {
                // A deadlock with a writer (a product delete cascading to its reviews), or a long transaction holding a table: again.
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            }
        }
    }

    private static async Task<bool> IsTrueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return await command.ExecuteScalarAsync(ct) is true;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Module installs: installed {Parts} trigger set(s), what they keep recomputed")]
    private static partial void Installed(ILogger logger, int parts);
}
