using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Catalog;

public static class CatalogRegistration
{
    public static IServiceCollection AddCatalog(this IServiceCollection services) => services.AddSingleton<ProductReads>();

    public static StoreOptions ConfigureCatalog(this StoreOptions opts)
    {
        // Columns for what the list filters and sorts on, so paging a 100k catalogue stays an index scan; the name
        // as a column too, so search's ILIKE reads plain text first instead of taking every document's JSON apart
        // (the search statement was the read suites' most expensive one by pg_stat_statements).
        IdSequences.Register<Product>(opts);
        opts.Schema.For<Product>()
            .UseNumericRevisions(true)
            .Duplicate(x => x.Category)
            .Duplicate(x => x.Price)
            .Duplicate(x => x.CreatedAt)
            .Duplicate(x => x.Name);
        return opts;
    }
}
