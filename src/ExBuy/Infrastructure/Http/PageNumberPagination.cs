using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;

namespace ExBuy.Infrastructure.Http;

/// <summary>DRF's <c>PageNumberPagination</c> envelope.</summary>
public sealed record Paged<T>(long Count, string? Next, string? Previous, IReadOnlyList<T> Results);

public static class PageNumberPagination
{
    public const int PageSize = 100;

    /// <summary>DRF answers a page past the end with 404; the first page always exists, even when empty.</summary>
    public static bool PageExists(int page, long count) => page == 1 || (page - 1L) * PageSize < count;

    public static Paged<T> Envelope<T>(HttpRequest request, int page, long count, IReadOnlyList<T> results)
    {
        var hasNext = (long)page * PageSize < count;
        return new Paged<T>(
            count,
            hasNext ? PageUrl(request, page + 1) : null,
            page > 1 ? PageUrl(request, page - 1) : null,
            results);
    }

    // Like DRF, the link to page 1 drops the page parameter and keeps every other filter.
    private static string PageUrl(HttpRequest request, int page)
    {
        var query = QueryHelpers.ParseQuery(request.QueryString.Value);
        var builder = new QueryBuilder();
        foreach (var (key, values) in query)
        {
            if (string.Equals(key, "page", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var value in values)
            {
                builder.Add(key, value ?? string.Empty);
            }
        }

        if (page > 1)
        {
            builder.Add("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var path = request.Path.Value ?? "/";
        return $"{request.Scheme}://{request.Host}{request.PathBase}{path}/{builder.ToQueryString()}";
    }
}
