using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Marten;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Features.FlashSale;

/// <summary>The flash-sale stock check reads that product's events only, and is right with the rest of the shop's sales beside it.</summary>
public sealed class FlashSaleStockTests(AppFixture app) : IntegrationContext(app)
{
    private const string TestSourceName = "ExBuy.Tests.FlashSaleStock";
    private static readonly ActivitySource TestSource = new(TestSourceName);

    [Fact]
    public async Task the_stock_check_is_right_and_reads_only_the_products_events_among_many_unrelated_ones()
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = shop.UserIds[0];
        var sale = await Host.SetUpFlashSale(stock: 10);
        var other = await Store.AddProduct(stock: 100_000);

        // The sale's own moves: two purchases, an order with the sale and another product, and that order cancelled.
        await Host.PostJson($"/api/flash-sales/{sale}/purchase?lock_type=row", $$"""{"user_id":{{user}},"quantity":2}""", 201);
        await Host.PostJson($"/api/flash-sales/{sale}/purchase?lock_type=row", $$"""{"user_id":{{user}},"quantity":1}""", 201);
        var mixed = await Host.PlaceOrder(user, $$"""[{"product_id":{{other.Id}},"quantity":1},{"product_id":{{sale}},"quantity":3}]""");
        await Host.PlaceOrder(user, $$"""[{"product_id":{{sale}},"quantity":1}]""");
        await Host.PatchJson($"/api/orders/{mixed["id"]!.GetValue<long>()}", """{"status":"cancelled"}""", 200);

        // Unrelated sales: orders of another product, and many reservations of products the sale is not.
        for (var i = 0; i < 20; i++)
        {
            await Host.PlaceOrder(user, $$"""[{"product_id":{{other.Id}},"quantity":1}]""");
        }

        await using (var session = Store.LightweightSession())
        {
            for (var i = 0; i < 5_000; i++)
            {
                session.Events.StartStream($"unrelated-{Guid.NewGuid()}", new StockReserved(900_000_000 + i, 1, StockSources.Reservation, "row", null, DateTimeOffset.UtcNow));
            }

            await session.SaveChangesAsync(Ct);
        }

        await Host.Sql($"analyze {Store.Options.Events.DatabaseSchemaName}.mt_events");

        var (stock, statements) = await CapturingStatements(async traceParent =>
        {
            var result = await Host.Scenario(s =>
            {
                s.Get.Url($"/api/flash-sales/{sale}/stock");
                s.WithRequestHeader("traceparent", traceParent);
                s.StatusCodeShouldBe(200);
            });
            return HttpScenarios.Parse(await result.ReadAsTextAsync());
        });

        stock["sold"]!.GetValue<long>().ShouldBe(7);
        stock["returned"]!.GetValue<long>().ShouldBe(3);
        stock["db_stock"]!.GetValue<int>().ShouldBe(6);
        stock["initial_stock"]!.GetValue<int>().ShouldBe(10);
        stock["consistent"]!.GetValue<bool>().ShouldBeTrue(stock.ToJsonString());

        var eventReads = statements.Where(s => s.Contains("mt_events", StringComparison.Ordinal)).ToList();
        eventReads.ShouldNotBeEmpty("the check reads the events");
        foreach (var text in eventReads)
        {
            var plan = await Explain(text);
            plan.ShouldNotContain("Seq Scan on mt_events", Case.Sensitive, $"the stock check must not scan every event:\n{plan}");
        }
    }

    /// <summary>
    /// The SQL statements the request ran, from Npgsql's tracing: the request carries a trace of the test's own
    /// (<c>traceparent</c>), so the statements of that request are told from the background services'.
    /// </summary>
    private static async Task<(JsonNode Answer, List<string> Statements)> CapturingStatements(Func<string, Task<JsonNode>> request)
    {
        var captured = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Npgsql" or "Microsoft.AspNetCore" or TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = captured.Add,
        };
        ActivitySource.AddActivityListener(listener);

        JsonNode answer;
        ActivityTraceId trace;
        using (var root = TestSource.StartActivity("stock-check").ShouldNotBeNull())
        {
            trace = root.TraceId;
            answer = await request($"00-{root.TraceId}-{root.SpanId}-01");
        }

        var statements = captured
            .Where(a => a.Source.Name == "Npgsql" && a.TraceId == trace)
            .Select(a => (a.GetTagItem("db.query.text") ?? a.GetTagItem("db.statement"))?.ToString() ?? string.Empty)
            .Where(text => text.Length > 0)
            .ToList();
        return (answer, statements);
    }

    /// <summary>
    /// The statement's generic plan (the one that holds for any parameter values: Npgsql traces a statement's text, not
    /// its values), so the parameters are passed as nulls.
    /// </summary>
    private async Task<string> Explain(string text)
    {
        await using var connection = await Host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        await using (var setUp = new NpgsqlCommand($"set plan_cache_mode = force_generic_plan; prepare stock_check_plan as {text}", connection))
        {
            await setUp.ExecuteNonQueryAsync(Ct);
        }

        await using var count = new NpgsqlCommand("select cardinality(parameter_types) from pg_prepared_statements where name = 'stock_check_plan'", connection);
        var parameters = Convert.ToInt32(await count.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
        var nulls = parameters == 0 ? string.Empty : $"({string.Join(", ", Enumerable.Repeat("null", parameters))})";
        await using var explain = new NpgsqlCommand($"explain execute stock_check_plan{nulls}", connection);
        var lines = new List<string>();
        await using var reader = await explain.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }
}
