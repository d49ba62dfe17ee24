using System.Text;
using ExBuy.Features.Catalog.GetProduct;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Marten;
using Marten;
using Npgsql;

namespace ExBuy.Features.Catalog;

/// <summary>
/// The catalogue's reads: product documents beside their stock rows (<see cref="ProductStock"/>), filtered and ordered
/// in one statement (the statements in <see cref="CatalogSql"/>). Reads only — the documents are written through Marten, the stock through the Inventory slice.
/// Filters and orderings use the columns Marten duplicates out of the document (<see cref="CatalogRegistration"/>).
/// </summary>
public sealed class ProductReads(IDocumentStore store, NpgsqlDataSource db, IProductReviewFigures reviewFigures)
{
    /// <summary>One page of the list: the count of matches and the page's summaries, as two statements.</summary>
    public Task<(long Count, List<ProductSummary> Page)> PageAsync(IProductFilter filter, string? ordering, int page, int pageSize, CancellationToken ct) =>
        CountThenPageAsync(filter, ordering, page, pageSize, CatalogSql.SummaryColumns, ReadSummariesAsync, ct);

    /// <summary>
    /// The same page the way a naive ORM list fetches it (DRF's paginator over <c>Product.objects.all()</c>): a count,
    /// then whole documents, mapped in memory. The benchmark's unoptimised path; the body is the same.
    /// </summary>
    public Task<(long Count, List<ProductSummary> Page)> PageNaiveAsync(IProductFilter filter, string? ordering, int page, int pageSize, CancellationToken ct) =>
        // Rows as they are; the product's updated_at (the document's, or the stock's when later) is worked out in memory,
        // like every other field: computing it in SQL took the JSON of every matching document apart before the sort.
        CountThenPageAsync(filter, ordering, page, pageSize, "p.data, s.stock, s.updated_at", ReadDocumentsAsync, ct);

    private string From => CatalogSql.ProductsWithStock(store, ProductStock.Table(store));

    /// <summary>The count of matches, then — unless the page lies past them — the page's rows read by <paramref name="read"/>.</summary>
    private async Task<(long Count, List<ProductSummary> Page)> CountThenPageAsync(
        IProductFilter filter, string? ordering, int page, int pageSize, string columns,
        Func<NpgsqlCommand, CancellationToken, Task<List<ProductSummary>>> read, CancellationToken ct)
    {
        var where = CatalogSql.Where(filter, inStockOnly: false, out var parameters);
        long count;
        await using (var counting = Command(CatalogSql.Count(From, where), parameters))
        {
            count = (long)(await counting.ExecuteScalarAsync(ct))!;
        }

        var offset = (page - 1L) * pageSize;
        if (offset >= count)
        {
            return (count, []);
        }

        await using var command = Command(CatalogSql.Page(From, columns, where, ordering, pageSize, offset), parameters);
        return (count, await read(command, ct));
    }

    private async Task<List<ProductSummary>> ReadDocumentsAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var serializer = store.Options.Serializer();
        var summaries = new List<ProductSummary>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var product = serializer.FromJson<Product>(reader, 0);
            var stockChanged = reader.IsDBNull(2) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(2);
            summaries.Add(ProductSummary.From(product, reader.GetInt32(1), LastChanged(PostgresTime.AsTimestamptz(product.UpdatedAt), stockChanged)));
        }

        return summaries;
    }

    /// <summary>Search: at most <paramref name="limit"/> matches in id order, optionally only those in stock.</summary>
    public async Task<List<ProductSummary>> SearchAsync(IProductFilter filter, bool inStockOnly, int limit, CancellationToken ct)
    {
        var where = CatalogSql.Where(filter, inStockOnly, out var parameters);
        await using var command = Command(CatalogSql.Search(From, where, limit), parameters);
        return await ReadSummariesAsync(command, ct);
    }

    /// <summary>Products by id with their stock (the storefront's list), in id order; unknown ids are left out.</summary>
    public async Task<List<(Product Product, int Stock)>> ByIdsAsync(IReadOnlyCollection<long> ids, CancellationToken ct)
    {
        await using var command = Command(CatalogSql.ByIds(From), [ids.ToArray()]);
        var serializer = store.Options.Serializer();
        var products = new List<(Product, int)>(ids.Count);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            products.Add((serializer.FromJson<Product>(reader, 0), reader.GetInt32(1)));
        }

        return products;
    }

    /// <summary>
    /// A product with its stock, its review count and the sum of its ratings (kept with the reviews,
    /// <see cref="IProductReviewFigures"/>), in one statement: the optimised detail when the read model cannot answer.
    /// </summary>
    public async Task<ProductDetail?> DetailAsync(long id, CancellationToken ct)
    {
        await using var command = Command(CatalogSql.Detail(From, reviewFigures.Table(store)), [id]);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var product = store.Options.Serializer().FromJson<Product>(reader, 0);
        return ProductDetail.From(product, reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    /// <summary>A product with its stock and the time it last changed, or null (the naive detail's first round trip).</summary>
    public async Task<(Product Product, int Stock, DateTimeOffset UpdatedAt)?> OneAsync(long id, CancellationToken ct)
    {
        await using var command = Command(CatalogSql.One(From), [id]);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        return (store.Options.Serializer().FromJson<Product>(reader, 0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2));
    }

    /// <summary>
    /// A product's <c>updated_at</c> — SQL's <c>greatest((data ->> 'UpdatedAt')::timestamptz, s.updated_at)</c> worked out in
    /// memory: the document's time as PostgreSQL reads it (<see cref="PostgresTime"/>), or the stock's last change when
    /// that is later (<c>greatest</c> skips a null). The naive list and the read model both answer with it.
    /// </summary>
    internal static DateTimeOffset LastChanged(DateTimeOffset documentAsPostgres, DateTimeOffset? stockChanged) =>
        stockChanged is { } s && s > documentAsPostgres ? s : documentAsPostgres;

    /// <summary>A LIKE pattern matching the text literally: the wildcards and the escape character lose their meaning.</summary>
    internal static string EscapeLike(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '\\' or '%' or '_')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    private NpgsqlCommand Command(string sql, IReadOnlyList<object> parameters)
    {
        var command = db.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private static async Task<List<ProductSummary>> ReadSummariesAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var summaries = new List<ProductSummary>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            summaries.Add(new ProductSummary
            {
                Id = reader.GetInt64(0),
                Name = reader.GetString(1),
                Price = reader.GetDecimal(2),
                Stock = reader.GetInt32(3),
                Category = reader.GetString(4),
                UpdatedAt = reader.GetFieldValue<DateTimeOffset>(5),
            });
        }

        return summaries;
    }
}
