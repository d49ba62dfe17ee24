using System.Diagnostics;
using JasperFx.CommandLine;
using Marten;
using StackExchange.Redis;

namespace ExBuy.Features.Seeding;

public sealed class SeedInput : NetCoreInput
{
    [Description("Named size: small (1k/5k/10k), medium (10k/50k/100k) or large (100k/500k/1M) products/orders/reviews")]
    public string SizeFlag { get; set; } = "small";

    [Description("Products to create (overrides --size)")]
    public int? ProductsFlag { get; set; }

    [Description("Orders to create (overrides --size)")]
    public int? OrdersFlag { get; set; }

    [Description("Reviews to create (overrides --size)")]
    public int? ReviewsFlag { get; set; }

    [Description("Rows per bulk COPY batch")]
    public int BatchSizeFlag { get; set; } = CatalogSeeder.DefaultBatchSize;

    [Description("Delete all ExBuy data (and its Redis keys) first, so ids start again at 1")]
    public bool ResetFlag { get; set; }

    [Description("Do nothing when the catalogue already has products")]
    public bool IfEmptyFlag { get; set; }
}

/// <summary><c>dotnet ExBuy.dll seed --size medium</c>, like the original's <c>manage.py seed_data</c>.</summary>
[Description("Bulk-loads products, orders with items, and reviews", Name = "seed")]
public sealed class SeedCommand : JasperFxAsyncCommand<SeedInput>
{
    public SeedCommand()
    {
        Usage("Seed the default (small) dataset");
    }

    public override async Task<bool> Execute(SeedInput input)
    {
        if (!SeedPlan.TryCreate(input.SizeFlag, input.ProductsFlag, input.OrdersFlag, input.ReviewsFlag, input.BatchSizeFlag, out var plan, out var error))
        {
            await Console.Error.WriteLineAsync(error);
            return false;
        }

        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var seeder = new CatalogSeeder(store, TimeProvider.System, host.Services.GetServices<ExBuy.Infrastructure.Marten.IModuleReset>(), host.Services.GetRequiredService<IConnectionMultiplexer>());

        await seeder.AlignSequencesAsync();
        if (input.ResetFlag)
        {
            await seeder.ResetAsync();
        }
        else if (input.IfEmptyFlag && await seeder.HasProductsAsync())
        {
            Console.WriteLine("The catalogue already has products; nothing seeded.");
            return true;
        }

        var total = Stopwatch.StartNew();
        var result = await seeder.SeedAsync(plan!, line => Console.WriteLine(line));
        Console.WriteLine(
            $"Seeded {result.Products:N0} products, {result.Orders:N0} orders, {result.Reviews:N0} reviews in {total.Elapsed.TotalSeconds:F1} s.");
        return true;
    }
}
