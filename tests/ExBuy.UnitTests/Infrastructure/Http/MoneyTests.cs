using System.Text.Json;
using ExBuy.Infrastructure.Http;
using Shouldly;

namespace ExBuy.UnitTests.Infrastructure.Http;

public sealed class MoneyTests
{
    private sealed record Priced([property: System.Text.Json.Serialization.JsonConverter(typeof(MoneyJsonConverter))] decimal Price);

    [Theory]
    [InlineData("129", "\"129.00\"")]
    [InlineData("0.5", "\"0.50\"")]
    [InlineData("1.005", "\"1.01\"")]
    [InlineData("1999.999", "\"2000.00\"")]
    public void money_is_written_as_a_two_place_string(string value, string json) =>
        JsonSerializer.Serialize(new Priced(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture)), ExBuyJson.Options)
            .ShouldBe($$"""{"price":{{json}}}""");

    [Theory]
    [InlineData("""{"price":"12.34"}""")]
    [InlineData("""{"price":12.34}""")]
    public void money_reads_strings_and_numbers(string json) =>
        JsonSerializer.Deserialize<Priced>(json, ExBuyJson.Options)!.Price.ShouldBe(12.34m);
}

public sealed class TimestampTests
{
    [Theory]
    [InlineData(638_000_000_000_000_004L, "…0000000")]
    [InlineData(638_000_000_000_000_006L, "…0000010")]
    [InlineData(638_000_000_000_000_005L, "…0000000")]
    [InlineData(638_000_000_000_000_015L, "…0000020")]
    public void timestamps_round_to_microseconds_half_to_even_like_postgresql(long ticks, string expectedTail)
    {
        var rounded = UtcTimestampJsonConverter.ToMicroseconds(new DateTimeOffset(ticks, TimeSpan.Zero));
        rounded.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)[^7..].ShouldBe(expectedTail[1..]);
    }
}
