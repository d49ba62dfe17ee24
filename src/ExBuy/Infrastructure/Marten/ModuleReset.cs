using Marten;

namespace ExBuy.Infrastructure.Marten;

/// <summary>
/// A module's own state outside Marten's documents and events (the tables it declares itself), forgotten by a full
/// reset. Each module implements and registers its own; the seeder's reset (<c>seed --reset</c>) and the test suite's
/// per-test reset run every registration after Marten's documents and events are gone, so neither lists a module's
/// tables by hand and a new table is reset by the module that adds it.
/// </summary>
public interface IModuleReset
{
    Task ResetAsync(IDocumentStore store, CancellationToken ct);
}

public static class ModuleResets
{
    /// <summary>Runs every module's reset, in registration order.</summary>
    public static async Task ResetAllAsync(this IEnumerable<IModuleReset> resets, IDocumentStore store, CancellationToken ct)
    {
        foreach (var reset in resets)
        {
            await reset.ResetAsync(store, ct);
        }
    }

    /// <summary>One statement on a connection of its own: the module resets are rare, small and run outside any unit of work.</summary>
    public static async Task ExecuteAsync(IDocumentStore store, string sql, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }
}
