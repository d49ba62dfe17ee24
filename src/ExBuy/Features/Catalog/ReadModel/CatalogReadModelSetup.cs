using ExBuy.Features.Reviews;
using ExBuy.Infrastructure.Marten;
using Marten;
using Npgsql;

namespace ExBuy.Features.Catalog.ReadModel;

/// <summary>
/// Installs at start, after Marten has created the tables, what keeps the catalogue's read model true: the generation
/// triggers (<see cref="CatalogGeneration"/>) and the review-statistics triggers (<see cref="ReviewStats"/>), and
/// recomputes the statistics from the reviews, so rows written while no trigger existed (an older ExBuy, a seeder run
/// before the first start) are counted. One transaction under an advisory lock: nodes starting together take turns;
/// review writes wait the few milliseconds of the recompute. The generation moves on, so every node reloads.
/// </summary>
public sealed partial class CatalogReadModelSetup(IDocumentStore store, ILogger<CatalogReadModelSetup> logger) : IHostedService
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
                await using (var command = new NpgsqlCommand($"select pg_advisory_xact_lock({LockKey}); {CatalogGeneration.InstallSql(schema)} {ReviewStats.InstallSql(schema)}", connection, transaction))
                {
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                Installed(logger);
                return;
            }
            catch (Exception e) when (attempt < 5 && PostgresErrors.IsDeadlockOrSerialization(e))
            {
                // A deadlock with a product delete cascading to its reviews on another node: take turns again.
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalogue read model: generation and review-statistics triggers installed, statistics recomputed")]
    private static partial void Installed(ILogger logger);
}
