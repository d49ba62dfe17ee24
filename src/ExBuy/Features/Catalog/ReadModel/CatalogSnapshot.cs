using System.Globalization;
using ExBuy.Features.Catalog.ListProducts;

namespace ExBuy.Features.Catalog.ReadModel;

/// <summary>
/// A product as the snapshot holds it: the document, its time as PostgreSQL reads it (<see cref="Infrastructure.Marten.PostgresTime"/>),
/// and the lowered texts the filters compare.
/// </summary>
public sealed record CatalogEntry(Product Product, DateTimeOffset DocumentUpdatedAt, string NameLower, string DescriptionLower)
{
    public long Id => Product.Id;
}

/// <summary>
/// Every listed product (a document with its stock row) at one <see cref="CatalogGeneration"/>, with the orderings by
/// price, creation time and name precomputed — by PostgreSQL at load, so that ties, collation and timestamp precision
/// are exactly the SQL path's. Immutable: a node swaps the whole snapshot when the generation moves. Stock is not in
/// it; the reads overlay the live stock rows.
/// </summary>
public sealed class CatalogSnapshot
{
    private readonly Dictionary<long, CatalogEntry> byId;
    private readonly Dictionary<string, CatalogEntry[]> ascending;

    public CatalogSnapshot(long generation, IReadOnlyList<CatalogEntry> entries, int[] priceRank, int[] createdRank, int[] nameRank, long memoBytes)
    {
        Generation = generation;
        Memo = new FilterMemo(memoBytes);
        ById = entries.OrderBy(e => e.Id).ToArray();
        byId = ById.ToDictionary(e => e.Id);
        ascending = new Dictionary<string, CatalogEntry[]>
        {
            ["price"] = Order(entries, priceRank),
            ["created_at"] = Order(entries, createdRank),
            ["name"] = Order(entries, nameRank),
        };
    }

    /// <summary>A snapshot that holds nothing because the catalogue is too large to hold: reads run their SQL.</summary>
    public static CatalogSnapshot TooLarge(long generation) => new(generation);

    private CatalogSnapshot(long generation)
    {
        Generation = generation;
        ById = [];
        byId = [];
        ascending = [];
        Memo = new FilterMemo(0);
        IsTooLarge = true;
    }

    public long Generation { get; }

    public bool IsTooLarge { get; }

    /// <summary>Every product in id order.</summary>
    public CatalogEntry[] ById { get; }

    public CatalogEntry? Find(long id) => byId.GetValueOrDefault(id);

    /// <summary>
    /// The products matching the filter in the ordering's order (stock orderings: id order, to be sorted by the caller
    /// once it has the stock). Null when the filter cannot be decided here (a query with non-ASCII letters: PostgreSQL's
    /// case folding depends on its locale), so the caller runs the SQL.
    /// </summary>
    public IReadOnlyList<CatalogEntry>? Matching(IProductFilter filter, string ordering)
    {
        // The snapshot never changes, so neither does the answer to a filter: the filters a shop is browsed with are
        // computed once per generation, remembered within a byte budget (FilterMemo). The key is the filter as the
        // comparison sees it (the query trimmed and lowered, prices by value), so spellings of one query share an entry.
        var q = NormalisedQuery(filter.Q);
        if (q is { IsAscii: false })
        {
            return null;
        }

        var key = string.Create(
            CultureInfo.InvariantCulture,
            $"{filter.Category}\u0001{filter.MinPrice?.ToString("G29", CultureInfo.InvariantCulture)}\u0001{filter.MaxPrice?.ToString("G29", CultureInfo.InvariantCulture)}\u0001{q?.Text}\u0001{ordering}");
        if (Memo.TryGet(key, out var known))
        {
            return known;
        }

        var computed = Compute(filter, q?.Text, ordering);
        Memo.Add(key, computed);
        return computed;
    }

    /// <summary>The answers remembered for this snapshot, accounted in bytes.</summary>
    public FilterMemo Memo { get; }

    // The query as the filter compares it: trimmed and, when ASCII, lowered (PostgreSQL's folding of other letters
    // depends on its locale, so those queries run the SQL). Null: no query.
    private static (string Text, bool IsAscii)? NormalisedQuery(string? q)
    {
        if (string.IsNullOrWhiteSpace(q))
        {
            return null;
        }

        var trimmed = q.Trim();
        return System.Text.Ascii.IsValid(trimmed) ? (trimmed.ToLowerInvariant(), true) : (trimmed, false);
    }

    /// <summary>When the database last confirmed this snapshot's generation (<see cref="Environment.TickCount64"/>).</summary>
    public long CheckedAt { get; set; } = Environment.TickCount64;

    private CatalogEntry[] Compute(IProductFilter filter, string? q, string ordering)
    {
        var (source, descending) = ordering switch
        {
            "price" or "created_at" or "name" => (ascending[ordering], false),
            "-price" or "-created_at" or "-name" => (ascending[ordering[1..]], true),
            _ => (ById, false),
        };

        var matches = new List<CatalogEntry>();
        for (var i = 0; i < source.Length; i++)
        {
            var entry = source[descending ? source.Length - 1 - i : i];
            var p = entry.Product;
            if ((string.IsNullOrEmpty(filter.Category) || p.Category == filter.Category)
                && (filter.MinPrice is not { } min || p.Price >= min)
                && (filter.MaxPrice is not { } max || p.Price <= max)
                && (q is null || entry.NameLower.Contains(q, StringComparison.Ordinal) || entry.DescriptionLower.Contains(q, StringComparison.Ordinal)))
            {
                matches.Add(entry);
            }
        }

        return [.. matches];
    }

    /// <summary>Whether <paramref name="ordering"/> sorts by the live stock (the caller sorts after the overlay).</summary>
    public static bool ByStock(string ordering) => ordering is "stock" or "-stock";

    /// <summary>The canonical ordering: the default for none.</summary>
    public static string OrderingOf(string? ordering) => string.IsNullOrEmpty(ordering) ? ProductOrdering.Default : ordering;

    private static CatalogEntry[] Order(IReadOnlyList<CatalogEntry> entries, int[] rank)
    {
        var ordered = new CatalogEntry[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            ordered[rank[i] - 1] = entries[i];
        }

        return ordered;
    }
}
