using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Catalog;

public static class CatalogRegistration
{
    public static StoreOptions ConfigureCatalog(this StoreOptions opts)
    {
        // Columns for what the list filters and sorts on, so paging a 100k catalogue stays an index scan.
        IdSequences.Register<Product>(opts);
        opts.Schema.For<Product>()
            .UseNumericRevisions(true)
            .Duplicate(x => x.Category)
            .Duplicate(x => x.Price)
            .Duplicate(x => x.CreatedAt)
            .Index(x => x.Name);
        return opts;
    }
}
