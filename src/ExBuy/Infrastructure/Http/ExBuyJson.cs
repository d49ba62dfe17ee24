using System.Globalization;
using System.Text;
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

    public static void ConfigureFastEndpoints(Config c, IReadOnlyList<IEndpointConvention> conventions)
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
            foreach (var convention in conventions)
            {
                convention.Apply(ep);
            }
        };
    }
}

/// <summary>
/// A rule a module applies to every endpoint as FastEndpoints configures it (registered in the container by the module,
/// e.g. Inventory's guard on <c>lock_type=none</c>), so the HTTP pipeline needs to know no feature.
/// </summary>
public interface IEndpointConvention
{
    void Apply(EndpointDefinition endpoint);
}

/// <summary>
/// Money on the ExBuy surface is a decimal serialised as a string with two places (<c>"129.00"</c>), as DRF's
/// DecimalField does. Reading accepts the same string or a JSON number, each only as <see cref="Money.TryParse"/> reads
/// money: a string like <c>"1,0,0"</c> must not become 100, nor <c>"1.005"</c> a price no order can be charged.
/// </summary>
public sealed class MoneyJsonConverter : MoneyReader
{
    protected override bool AcceptsStrings => true;

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Money.Format(value));
}

/// <summary>
/// Money on the shop surface is a JSON number (<c>{"amount":10000}</c>), read as <see cref="Money.TryParse"/> reads money
/// (so no <c>1e3</c>, no <c>1.005</c>), and written as the shop routes write it (<see cref="Money.Normalize"/>).
/// </summary>
public sealed class ShopMoneyJsonConverter : MoneyReader
{
    protected override bool AcceptsStrings => false;

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(Money.Normalize(value));
}

/// <summary>Reads a money input as written, digits and at most two places, or refuses it (a 400 naming the field).</summary>
public abstract class MoneyReader : JsonConverter<decimal>
{
    protected abstract bool AcceptsStrings { get; }

    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType switch
        {
            // A number's raw text, as sent: GetDecimal would take 1e3 and 1.005 alike.
            JsonTokenType.Number => RawNumber(ref reader),
            JsonTokenType.String when AcceptsStrings => reader.GetString(),
            _ => null,
        };

        return Money.TryParse(text, out var value)
            ? value
            : throw new JsonException($"A decimal amount is required: digits with at most {Money.MaxScale} decimal places after a '.', no sign but '-', no spaces, group separators or exponent.");
    }

    /// <summary>The number's text; from a body read in segments (a pipe) it may span several.</summary>
    private static string? RawNumber(ref Utf8JsonReader reader)
    {
        if (!reader.HasValueSequence)
        {
            return reader.ValueSpan.Length <= Money.MaxLength ? Encoding.UTF8.GetString(reader.ValueSpan) : null;
        }

        return reader.ValueSequence.Length <= Money.MaxLength ? Encoding.UTF8.GetString(reader.ValueSequence) : null;
    }
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

    /// <summary>The longest money text read (the largest amount any route takes has far fewer digits).</summary>
    public const int MaxLength = 20;

    public static bool HasAtMostCents(decimal amount) => decimal.Round(amount, MaxScale) == amount;

    /// <summary>
    /// Money as sent to the API: an optional '-', digits, and at most <see cref="MaxScale"/> places after a '.', in the
    /// invariant culture — no group separators (<c>"1,0,0"</c>), exponent (<c>1e3</c>), padding, '+' or further places
    /// (<c>1.005</c>, <c>10.500</c>). A negative amount parses, so that its route's range rule names it.
    /// </summary>
    public static bool TryParse(string? text, out decimal value)
    {
        value = 0;
        if (text is null || text.Length is 0 or > MaxLength)
        {
            return false;
        }

        var digits = text.AsSpan(text[0] == '-' ? 1 : 0);
        var point = digits.IndexOf('.');
        var whole = point < 0 ? digits : digits[..point];
        var cents = point < 0 ? [] : digits[(point + 1)..];
        return whole.Length > 0 && IsDigits(whole)
            && (point < 0 || (cents.Length is > 0 and <= MaxScale && IsDigits(cents)))
            && decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }

    private static readonly System.Buffers.SearchValues<char> Digits = System.Buffers.SearchValues.Create("0123456789");

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.ContainsAnyExcept(Digits);

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
