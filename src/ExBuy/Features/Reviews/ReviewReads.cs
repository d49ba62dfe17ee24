using Marten;
using Npgsql;

namespace ExBuy.Features.Reviews;

/// <summary>
/// The optimised review lists: reviews with their product's name in one statement each (<see cref="ReviewsSql"/>), the SQL written out instead of
/// a LINQ query that Marten parses on every request (the naive paths keep the ORM's way: <see cref="ReviewResponse.WithProductNames"/>).
/// </summary>
public sealed class ReviewReads(IDocumentStore store, NpgsqlDataSource db)
{
    /// <summary>
    /// A product's newest reviews with its name; <c>ProductExists</c> false when there is no such product (the name, from
    /// Catalog's fragment, is read in the same statement, so "no product" and "no reviews" are told apart in one snapshot).
    /// </summary>
    public async Task<(bool ProductExists, List<ReviewResponse> Reviews)> ForProductAsync(long productId, int limit, CancellationToken ct)
    {
        await using var command = db.CreateCommand(ReviewsSql.ForProduct(store));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = productId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var serializer = store.Options.Serializer();
        var exists = false;
        var reviews = new List<ReviewResponse>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            exists = !reader.IsDBNull(0);
            if (exists && !reader.IsDBNull(1))
            {
                reviews.Add(ReviewResponse.From(serializer.FromJson<Review>(reader, 1), reader.GetString(0)));
            }
        }

        return (exists, reviews);
    }

    /// <summary>One page of reviews, newest first, filtered by product and/or user, with the count of all that match.</summary>
    public async Task<(long Count, List<ReviewResponse> Page)> PageAsync(long? productId, long? userId, int page, int pageSize, CancellationToken ct)
    {
        var clauses = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        if (productId is { } p)
        {
            parameters.Add(new NpgsqlParameter<long> { TypedValue = p });
            clauses.Add($"d.product_id = ${parameters.Count}");
        }

        if (userId is { } u)
        {
            parameters.Add(new NpgsqlParameter<long> { TypedValue = u });
            clauses.Add($"d.user_id = ${parameters.Count}");
        }

        var where = clauses.Count == 0 ? string.Empty : "where " + string.Join(" and ", clauses);
        var offset = (page - 1L) * pageSize;
        var serializer = store.Options.Serializer();
        var results = new List<ReviewResponse>(pageSize);
        long count = 0;
        await using (var command = db.CreateCommand(ReviewsSql.Page(store, where, pageSize, offset)))
        {
            command.Parameters.AddRange(parameters.ToArray());
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                results.Add(ReviewResponse.From(serializer.FromJson<Review>(reader, 0), reader.GetString(1)));
                count = reader.GetInt64(2);
            }
        }

        if (results.Count == 0 && page > 1)
        {
            // Past the end the window count has no row to ride on: count on its own to tell "no page" from "no match".
            await using var counting = db.CreateCommand(ReviewsSql.Count(store, where));
            counting.Parameters.AddRange(parameters.Select(x => x.Clone()).ToArray());
            count = (long)(await counting.ExecuteScalarAsync(ct))!;
        }

        return (count, results);
    }
}
