using Npgsql;

namespace ExBuy.Features.Rankings;

/// <summary>
/// The ranking computed from the event log as of one sequence: <see cref="Epoch"/> the reset it starts from (0: none),
/// <see cref="LatestReset"/> the last reset at or below that sequence, and the units per day and product.
/// </summary>
public sealed record RankingTruth(long LatestReset, long Epoch, IReadOnlyDictionary<(DateOnly Day, long ProductId), long> Units);

/// <summary>
/// What the ranking must hold as of event <c>asOf</c>, computed from PostgreSQL (the definition is on
/// <see cref="SalesRanking"/>): the epoch's seed plus, per day placed, the items of the paid orders placed after the
/// epoch and up to <c>asOf</c> that are live as of <c>asOf</c> (the last of their cancellations and revivals up to
/// there is not a cancellation). One statement, so it reads one snapshot; run inside the caller's transaction when
/// the connection has one (the audit's).
/// </summary>
public static class SalesRankingTruth
{
    /// <param name="epoch">The reset to start from; null: the last one at or below <paramref name="asOf"/>.</param>
    /// <param name="oldest">Days before it are left out.</param>
    public static async Task<RankingTruth> ReadAsync(
        NpgsqlConnection connection, string eventsSchema, long asOf, long? epoch, DateOnly oldest, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            RankingsSql.Truth(eventsSchema), connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = asOf });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)epoch ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = oldest });
        var units = new Dictionary<(DateOnly, long), long>();
        long latest = 0, start = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            (latest, start) = (reader.GetInt64(0), reader.GetInt64(1));
            if (!reader.IsDBNull(2) && reader.GetInt64(4) != 0)
            {
                units[(reader.GetFieldValue<DateOnly>(2), reader.GetInt64(3))] = reader.GetInt64(4);
            }
        }

        return new RankingTruth(latest, start, units);
    }
}
