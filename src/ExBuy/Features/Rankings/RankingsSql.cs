using Marten;
using Npgsql;

namespace ExBuy.Features.Rankings;

/// <summary>The Rankings module's hand-written statements on its PostgreSQL read model (<see cref="ProductSales"/>), in one place.</summary>
public static class RankingsSql
{
    /// <summary>
    /// Best sellers by revenue (a duplicated column, see <see cref="RankingsRegistration"/>), the id breaking ties.
    /// Hand-written: the hottest read of the suites, no LINQ query to parse per request.
    /// </summary>
    public static async Task<List<ProductSales>> TopByRevenueAsync(IDocumentStore store, NpgsqlDataSource db, int limit, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            $"""
             select d.data from {store.Options.DatabaseSchemaName}.mt_doc_productsales d
             where (d.data ->> 'TotalQuantity')::bigint > 0 order by d.total_revenue desc, d.id limit $1
             """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var serializer = store.Options.Serializer();
        var top = new List<ProductSales>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            top.Add(serializer.FromJson<ProductSales>(reader, 0));
        }

        return top;
    }
}
