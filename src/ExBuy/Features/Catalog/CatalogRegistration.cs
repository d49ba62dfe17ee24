using ExBuy.Features.Catalog.ReadModel;
using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Catalog;

public static class CatalogRegistration
{
    public static IServiceCollection AddCatalog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CatalogOptions>().Bind(configuration.GetSection(CatalogOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ProductReads>();
        services.AddSingleton<CatalogReadModel>();
        services.AddSingleton<IModuleInstall, CatalogGeneration.Install>();
        services.AddSingleton<IModuleReset, CatalogReset>();
        services.AddSingleton<IModuleSeed, CatalogSeed>().AddSingleton<IModuleSeed, StorefrontSeed>();
        return services;
    }

    public static StoreOptions ConfigureCatalog(this StoreOptions opts)
    {
        // Columns for what the list filters and sorts on, so paging a 100k catalogue stays an index scan; the name
        // as a column too, so search's ILIKE reads plain text first instead of taking every document's JSON apart
        // (the search statement was the read suites' most expensive one by pg_stat_statements).
        IdSequences.Register<Product>(opts);
        CatalogGeneration.Register(opts);
        opts.Schema.For<StorefrontState>();
        opts.Schema.For<Product>()
            .UseNumericRevisions(true)
            .Duplicate(x => x.Category)
            .Duplicate(x => x.Price)
            .Duplicate(x => x.CreatedAt)
            .Duplicate(x => x.Name);
        return opts;
    }
}
