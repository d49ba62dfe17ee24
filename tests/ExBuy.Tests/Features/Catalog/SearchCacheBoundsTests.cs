using System.Globalization;
using ExBuy.Features.Catalog;
using ExBuy.Features.Catalog.ReadModel;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Features.Catalog;

/// <summary>
/// The read model remembers the answers to the filters it is asked (per catalogue generation). Random distinct searches
/// must not grow that memory without bound: it is accounted in bytes (keys and results) and held under
/// <c>ExBuy:Catalog:SearchCacheBytes</c>, shown as the gauge <c>exbuy_catalog_search_cache_bytes</c>.
/// </summary>
public sealed class SearchCacheBoundsTests(AppFixture app) : IntegrationContext(app)
{
    private sealed record Filter(string? Q, string? Category = null, decimal? MinPrice = null, decimal? MaxPrice = null) : IProductFilter;

    private const long Limit = 64 * 1024;

    private static async Task<long> CacheBytes(Alba.IAlbaHost host)
    {
        var metrics = await host.GetText("/metrics");
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith("exbuy_catalog_search_cache_bytes ", StringComparison.Ordinal));
        line.ShouldNotBeNull("the metrics show the search cache's accounted bytes");
        return (long)double.Parse(line["exbuy_catalog_search_cache_bytes ".Length..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task thousands_of_distinct_searches_keep_the_cache_under_its_byte_limit_and_answers_right()
    {
        var products = await Store.AddProducts(40, i => new TestProduct { Name = $"Lamp {i:D2}", Price = 10m + i, Stock = 5, Category = "home" });
        await using var host = await App.StartHostWithAsync(("ExBuy:Catalog:SearchCacheBytes", Limit.ToString(CultureInfo.InvariantCulture)));
        var readModel = host.Services.GetRequiredService<CatalogReadModel>();

        for (var i = 0; i < 3_000; i++)
        {
            // 150 characters, none matching: the answers are empty, the keys are what would pile up.
            var (served, results) = await readModel.SearchAsync(new Filter($"zz{i:D6}".PadRight(150, 'q')), false, 20, Ct);
            served.ShouldBeTrue();
            results.ShouldBeEmpty();
            if (i % 500 == 0)
            {
                (await CacheBytes(host)).ShouldBeLessThanOrEqualTo(Limit);
            }
        }

        var bytes = await CacheBytes(host);
        bytes.ShouldBeGreaterThan(Limit / 2, "a full cache accounts for what it holds");
        bytes.ShouldBeLessThanOrEqualTo(Limit);

        // Still right after all the evictions, and a query differing only in case and spaces is the same query.
        var (_, lamp7) = await readModel.SearchAsync(new Filter("lamp 07"), false, 20, Ct);
        lamp7.Select(p => p.Id).ShouldBe([products[7].Id]);
        var (_, again) = await readModel.SearchAsync(new Filter("  LAMP 07 "), false, 20, Ct);
        again.Select(p => p.Id).ShouldBe([products[7].Id]);
        var (_, all) = await readModel.SearchAsync(new Filter("lamp"), false, 100, Ct);
        all.Select(p => p.Id).ShouldBe(products.Select(p => p.Id));
        (await CacheBytes(host)).ShouldBeLessThanOrEqualTo(Limit);
    }

    [Fact]
    public async Task spellings_of_one_query_differing_in_case_and_spaces_share_one_cache_entry()
    {
        await Store.AddProducts(10, i => new TestProduct { Name = $"Chair {i:D2}", Price = 10m + i, Stock = 5, Category = "home" });
        await using var host = await App.StartHostWithAsync();
        var readModel = host.Services.GetRequiredService<CatalogReadModel>();
        await readModel.SearchAsync(new Filter("chair"), false, 20, Ct);
        var once = await CacheBytes(host);
        once.ShouldBeGreaterThan(0);

        foreach (var spelling in new[] { "CHAIR", " chair", "Chair  ", "cHaIr" })
        {
            (await readModel.SearchAsync(new Filter(spelling), false, 20, Ct)).Results.Count.ShouldBe(10);
        }

        (await CacheBytes(host)).ShouldBe(once, "one normalised query, one entry");
    }
}
