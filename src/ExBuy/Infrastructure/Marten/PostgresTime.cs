using System.Globalization;

namespace ExBuy.Infrastructure.Marten;

/// <summary>
/// What PostgreSQL makes of a .NET time stored in a JSON document when SQL reads it as <c>timestamptz</c>
/// (<c>(data ->> 'UpdatedAt')::timestamptz</c>): .NET keeps ticks (seven fractional digits), PostgreSQL microseconds.
/// Its input routine reads the fraction with <c>strtod</c> and rounds <c>fraction × 10⁶</c> with <c>rint</c> (ties to
/// even); the same IEEE operations here give the same microsecond, so a time read from the document in C# equals the
/// one SQL reads (<c>PostgresTimeTests</c> checks it against PostgreSQL itself).
/// </summary>
public static class PostgresTime
{
    public static DateTimeOffset AsTimestamptz(DateTimeOffset value)
    {
        var ticks = value.UtcTicks;
        var fraction = ticks % TimeSpan.TicksPerSecond;
        if (fraction % 10 == 0)
        {
            return new DateTimeOffset(ticks, TimeSpan.Zero);
        }

        var seconds = double.Parse("0." + fraction.ToString("D7", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var micros = (long)Math.Round(seconds * 1_000_000d, MidpointRounding.ToEven);
        return new DateTimeOffset(ticks - fraction + (micros * 10), TimeSpan.Zero);
    }
}
