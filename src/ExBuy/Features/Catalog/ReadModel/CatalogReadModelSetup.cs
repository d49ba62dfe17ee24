using ExBuy.Infrastructure.Marten;
using Marten;
using Npgsql;

namespace ExBuy.Features.Catalog.ReadModel;

/// <summary>
/// Installs at start, after Marten has created the tables, what keeps the catalogue's read model true: the generation
/// triggers (<see cref="CatalogGeneration"/>) and what keeps the review figures (<see cref="IProductReviewFigures"/>, registered by Reviews), recomputing
/// the statistics from the reviews as it installs them, so rows written while no trigger existed (an older ExBuy, a
/// seeder run before the first start) are counted. A database that already has this version of both is left alone:
/// the DDL locks the product, stock and review tables, and a node starting beside others that serve traffic must not
/// stall their sales. Installing is one transaction under an advisory lock (nodes starting together take turns) with a
/// lock timeout (it never queues every sale behind a long transaction), tried again on a timeout or a deadlock.
/// </summary>
public sealed partial class CatalogReadModelSetup(IDocumentStore store, IProductReviewFigures reviewFigures, ILogger<CatalogReadModelSetup> logger) : IHostedService
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
                if (!await IsTrueAsync(connection, transaction, CatalogGeneration.InstalledSql(schema), cancellationToken))
                {
                    sql.Add(CatalogGeneration.InstallSql(schema));
                }

                if (!await IsTrueAsync(connection, transaction, reviewFigures.InstalledSql(schema), cancellationToken))
                {
                    sql.Add(reviewFigures.InstallSql(schema));
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
                // A deadlock with a product delete cascading to its reviews, or a long transaction holding a table: again.
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalogue read model: installed {Parts} of its trigger sets (generation, review statistics recomputed)")]
    private static partial void Installed(ILogger logger, int parts);
}
