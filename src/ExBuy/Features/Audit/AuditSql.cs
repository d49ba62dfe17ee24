using Npgsql;

namespace ExBuy.Features.Audit;

/// <summary>The audit's statements, each on the snapshot's connection (its transaction).</summary>
public static class AuditSql
{
    public static async Task ForEachRow(NpgsqlConnection connection, string sql, Action<NpgsqlDataReader> row, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            row(reader);
        }
    }

    public static async Task<long> CountAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}
