using System.Text.Json;
using ExBuy.Infrastructure.Marten;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Catalog;

/// <summary>
/// <see cref="PostgresTime"/> against PostgreSQL itself: a .NET time written to JSON and read back by PostgreSQL as
/// <c>timestamptz</c> is the microsecond C# computes, for random times, for every tick digit (5 is the tie), and for
/// offsets other than UTC — the naive list builds <c>updated_at</c> in memory and must equal the SQL paths'.
/// </summary>
public sealed class PostgresTimeTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task a_document_time_is_the_microsecond_postgresql_reads()
    {
        var random = new Random(20261124);
        var start = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        var values = new List<DateTimeOffset>();
        for (var i = 0; i < 3_000; i++)
        {
            var ticks = start + random.NextInt64(0, TimeSpan.TicksPerDay * 3650);
            // Every last tick digit, ties (…5) included; one value in three with a non-UTC offset.
            ticks = ticks - (ticks % 10) + (i % 10);
            var offset = (i % 3) switch { 0 => TimeSpan.Zero, 1 => TimeSpan.FromHours(9), _ => TimeSpan.FromMinutes(-330) };
            values.Add(new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(offset));
        }

        // Ties at the edge of a second, where rounding carries into the next one.
        values.Add(new DateTimeOffset(start + TimeSpan.TicksPerSecond - 5, TimeSpan.Zero));
        values.Add(new DateTimeOffset(start + TimeSpan.TicksPerSecond - 1, TimeSpan.Zero));
        values.Add(new DateTimeOffset(start + 5, TimeSpan.Zero));

        var texts = values.Select(v => JsonSerializer.Serialize(v).Trim('"')).ToArray();
        await using var connection = Store.Storage.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand("select t::timestamptz from unnest($1::text[]) with ordinality as u(t, n) order by n", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string[]> { TypedValue = texts });
        var read = new List<DateTimeOffset>();
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                read.Add(reader.GetFieldValue<DateTimeOffset>(0));
            }
        }

        read.Count.ShouldBe(values.Count);
        var wrong = values.Select((v, i) => (Text: texts[i], Postgres: read[i], Ours: PostgresTime.AsTimestamptz(v)))
            .Where(x => x.Postgres.UtcTicks != x.Ours.UtcTicks || x.Ours.Offset != TimeSpan.Zero)
            .Take(5)
            .ToList();
        wrong.ShouldBeEmpty(string.Join("; ", wrong.Select(w => $"{w.Text}: PostgreSQL {w.Postgres:O}, ours {w.Ours:O}")));
    }
}
