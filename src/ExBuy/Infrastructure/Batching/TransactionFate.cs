using Marten;
using Npgsql;

namespace ExBuy.Infrastructure.Batching;

/// <summary>
/// What became of a transaction whose commit threw (a lost connection, PostgreSQL restarting): its id is read at its
/// start (<see cref="CurrentIdSql"/>) and looked up afterwards with <c>pg_xact_status</c> on a fresh connection, so a
/// group commit neither answers 201 for writes that did not land nor commits them a second time.
/// </summary>
public static class TransactionFate
{
    /// <summary>The current transaction's id, as text; assigns one (the transaction is going to write anyway).</summary>
    public const string CurrentIdSql = "select pg_current_xact_id()::text";

    public const string Committed = "committed";
    public const string Aborted = "aborted";

    private const int Attempts = 20;

    /// <summary><see cref="Committed"/>, <see cref="Aborted"/>, or null when the database cannot say within a few seconds.</summary>
    public static async Task<string?> OfAsync(IDocumentStore store, string transactionId)
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                await using var connection = store.Storage.Database.CreateConnection();
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("select pg_xact_status($1::text::xid8)", connection);
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = transactionId });
                if (await command.ExecuteScalarAsync() is string status and (Committed or Aborted))
                {
                    return status;
                }

                // "in progress": the server has not yet noticed the broken connection.
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // The database is restarting: ask again shortly.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 1_000)));
        }

        return null;
    }

    /// <summary>Reads the id of the transaction open on <paramref name="session"/>.</summary>
    public static async Task<string> CurrentIdAsync(IDocumentSession session)
    {
        await using var command = new NpgsqlCommand(CurrentIdSql, session.Connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
