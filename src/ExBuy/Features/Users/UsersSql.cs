using Marten;
using Npgsql;

namespace ExBuy.Features.Users;

/// <summary>The Users module's hand-written statements, in one place.</summary>
public static class UsersSql
{
    /// <summary>
    /// The id of the user with this name, by the unique index on the name (its expression is Marten's, so the index
    /// serves it). Hand-written: a LINQ query is parsed by Marten on every call of persona A's first step.
    /// </summary>
    public static async Task<long?> FindIdByNameAsync(IDocumentStore store, NpgsqlDataSource db, string name, CancellationToken ct)
    {
        await using var command = db.CreateCommand($"select id from {store.Options.DatabaseSchemaName}.mt_doc_shopuser where data ->> 'Name' = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return await command.ExecuteScalarAsync(ct) as long?;
    }
}
