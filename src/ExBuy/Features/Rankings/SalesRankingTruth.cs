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
        var e = eventsSchema;
        await using var command = new NpgsqlCommand(
            $"""
             with reset as (
                 select coalesce(max(seq_id), 0) as latest from {e}.mt_events where type = '{SalesRankingEvents.ResetType}' and seq_id <= $1
             ),
             epoch as (select coalesce($2, (select latest from reset)) as seq),
             seed as (
                 select (s ->> 'Day')::date as day, (s ->> 'ProductId')::bigint as product_id, (s ->> 'Quantity')::bigint as quantity
                 from {e}.mt_events r join epoch on r.seq_id = epoch.seq, jsonb_array_elements(r.data -> 'Seed') s
                 where r.type = '{SalesRankingEvents.ResetType}'
             ),
             placed as (
                 select p.stream_id, ((p.data ->> 'At')::timestamptz at time zone 'UTC')::date as day, p.data -> 'Items' as items
                 from {e}.mt_events p join epoch on p.seq_id > epoch.seq
                 where p.type = 'order_placed' and coalesce((p.data ->> 'Paid')::boolean, false) and p.seq_id <= $1
             ),
             live as (
                 select p.day, p.items from placed p
                 where coalesce((select l.type from {e}.mt_events l
                                 where l.stream_id = p.stream_id and l.type in ('order_cancelled', 'order_revived') and l.seq_id <= $1
                                 order by l.seq_id desc limit 1), 'order_revived') = 'order_revived'
             ),
             units as (
                 select day, product_id, quantity from seed
                 union all
                 select l.day, (i ->> 'ProductId')::bigint, (i ->> 'Quantity')::bigint from live l, jsonb_array_elements(l.items) i
             ),
             totals as (select day, product_id, sum(quantity)::bigint as quantity from units where day >= $3 group by day, product_id)
             select (select latest from reset), (select seq from epoch), t.day, t.product_id, t.quantity
             from (select 1) one left join totals t on true
             """, connection);
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
