using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;

namespace ExBuy.Infrastructure.Http;

/// <summary>DRF's <c>PageNumberPagination</c> envelope.</summary>
public sealed record Paged<T>(long Count, string? Next, string? Previous, IReadOnlyList<T> Results);

public static class PageNumberPagination
{
    public const int PageSize = 100;

    /// <summary>
    /// The last page whose first row's offset fits an <see cref="int"/> (2,147,483,600): LINQ's <c>Skip</c> and Marten's
    /// paged list take an int and compute <c>(page - 1) * size</c> in it, so a page after this one wrapped round to a
    /// negative OFFSET (a 500). No ExBuy list holds two billion rows, so every page after it lies past the end of every
    /// list: <see cref="PastEveryList"/> answers it as DRF answers a page past the end, without a query.
    /// </summary>
    public const int LastPossiblePage = int.MaxValue / PageSize + 1;

    /// <summary>True when <paramref name="page"/> cannot exist in any list; check it before the page is queried.</summary>
    public static bool PastEveryList(int page) => page > LastPossiblePage;

    /// <summary>DRF answers a page past the end with 404; the first page always exists, even when empty.</summary>
    public static bool PageExists(int page, long count) => page == 1 || (!PastEveryList(page) && (page - 1L) * PageSize < count);

    /// <summary>DRF's answer to a page past the end: 404 <c>{"detail": "Invalid page."}</c>.</summary>
    public static IResult InvalidPage() => TypedResults.NotFound(new ErrorDetail("Invalid page."));

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
