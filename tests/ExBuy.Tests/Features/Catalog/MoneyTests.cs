using System.Text.Json;
using ExBuy.Infrastructure.Http;
using Shouldly;

namespace ExBuy.Tests.Features.Catalog;

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
