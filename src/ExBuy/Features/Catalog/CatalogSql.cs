using Marten;

namespace ExBuy.Features.Catalog;

/// <summary>
/// What Catalog exposes of its table to the other modules' hand-written statements, so none of them names
/// <c>mt_doc_product</c> or its columns: a fragment each embeds in its own statement (no extra round trip per request).
/// </summary>
public static class CatalogSql
{
    /// <summary>
    /// A scalar subquery giving the name of the product whose id <paramref name="productIdSql"/> is (a parameter or a
    /// column of the embedding statement), null when there is no such product. Hand-written: Marten cannot compose a
    /// document lookup into another module's raw SQL, and a second query (or a LINQ join Marten parses per request)
    /// would cost a round trip on the review lists' hot path; a primary-key probe on the duplicated <c>name</c> column.
    /// </summary>
    public static string ProductNameOf(IDocumentStore store, string productIdSql) =>
        $"(select catalog_p.name from {store.Options.DatabaseSchemaName}.mt_doc_product catalog_p where catalog_p.id = {productIdSql})";
}
