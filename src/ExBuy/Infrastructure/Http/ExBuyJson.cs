using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using FastEndpoints;

namespace ExBuy.Infrastructure.Http;

/// <summary>
/// The ExBuy surface speaks snake_case like the DRF original; the shop-flow DTOs pin their camelCase
/// names with <see cref="JsonPropertyNameAttribute"/>, so one serializer serves both surfaces.
/// </summary>
public static class ExBuyJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.RespectNullableAnnotations = false;
        if (!options.Converters.OfType<UtcTimestampJsonConverter>().Any())
        {
            options.Converters.Add(new UtcTimestampJsonConverter());
        }

        if (!options.Converters.OfType<NulFreeStringConverter>().Any())
        {
            options.Converters.Add(new NulFreeStringConverter());
        }

        return options;
    }

    public static void ConfigureFastEndpoints(Config c)
    {
        Configure(c.Serializer.Options);
        c.Binding.UsePropertyNamingPolicy = true;
        c.Validation.UsePropertyNamingPolicy = true;
        c.Errors.UseProblemDetails();
        // The problem details UseProblemDetails answers, with a bounded list of errors.
        c.Errors.ResponseBuilder = (failures, http, status) =>
            new ProblemDetails(BoundedErrors.Bound(failures), http.Request.Path, http.TraceIdentifier, status);
        c.Endpoints.Configurator = ep =>
        {
            ep.AllowAnonymous();
            ExBuy.Features.Inventory.UnsafeLockTypeGuard.AttachTo(ep);
        };
    }
}

/// <summary>
/// Money on the ExBuy surface is a decimal serialised as a string with two places (<c>"129.00"</c>), as DRF's
/// DecimalField does. Reading accepts the same string or a JSON number.
/// </summary>
public sealed class MoneyJsonConverter : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number => reader.GetDecimal(),
            JsonTokenType.String when decimal.TryParse(reader.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var value) => value,
            _ => throw new JsonException("A decimal number is required."),
        };

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Money.Format(value));
}

/// <summary>
/// Money is <see cref="decimal"/> end to end: prices, balances, debits, refunds, discounts and totals are exact, never
/// truncated. The ExBuy surface writes it DRF's way (<see cref="Format"/>); the shop routes write whole amounts as JSON
/// integers (<c>8000</c>, as the contract's examples) and anything else with its cents (<c>1999.99</c>), never rounded
/// (<see cref="Normalize"/>).
/// </summary>
public static class Money
{
    /// <summary>The most decimal places an amount sent to the API may carry (cents).</summary>
    public const int MaxScale = 2;

    /// <summary>The same amount without trailing zeros, so that 8000.00 is written as 8000.</summary>
    public static decimal Normalize(decimal amount) => amount / 1.000000000000000000000000000000000m;

    public static bool HasAtMostCents(decimal amount) => decimal.Round(amount, MaxScale) == amount;

    public static decimal Round(decimal value) => decimal.Round(value, 2, MidpointRounding.AwayFromZero);

    public static string Format(decimal value) => Round(value).ToString("0.00", CultureInfo.InvariantCulture);
}

/// <summary>
/// Timestamps as DRF writes them: UTC, microseconds, a trailing <c>Z</c>. .NET keeps 100 ns ticks and PostgreSQL
/// rounds to the nearest microsecond, so the writer rounds the same way: a value read back through SQL prints alike.
/// </summary>
public sealed class UtcTimestampJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(ToMicroseconds(value).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));

    public static DateTimeOffset ToMicroseconds(DateTimeOffset value)
    {
        // Half to even, as PostgreSQL's rint() does: 0.5 µs goes to the even microsecond.
        var microseconds = Math.Round(value.UtcTicks / (decimal)TimeSpan.TicksPerMicrosecond, MidpointRounding.ToEven);
        return new DateTimeOffset((long)microseconds * TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
    }
}
