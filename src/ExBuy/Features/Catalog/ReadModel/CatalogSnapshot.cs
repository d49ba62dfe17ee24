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

    public CatalogSnapshot(long generation, IReadOnlyList<CatalogEntry> entries, int[] priceRank, int[] createdRank, int[] nameRank)
    {
        Generation = generation;
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
        // The snapshot never changes, so neither does the answer to a filter: the few filters a shop is browsed with
        // are computed once per generation (a bounded memo; past its size they are computed every time).
        var key = $"{filter.Category}\u0001{filter.MinPrice}\u0001{filter.MaxPrice}\u0001{filter.Q}\u0001{ordering}";
        if (memo.TryGetValue(key, out var known))
        {
            return known;
        }

        var computed = Compute(filter, ordering);
        var size = 1 + (computed?.Length ?? 0);
        if (Interlocked.Add(ref memoSize, size) <= MemoBudget)
        {
            if (!memo.TryAdd(key, computed))
            {
                Interlocked.Add(ref memoSize, -size);
            }
        }
        else
        {
            Interlocked.Add(ref memoSize, -size);
        }

        return computed;
    }

    // At most this many remembered entries (references) per snapshot, about 8 MB: filters sent to fill it are computed
    // every time once it is full.
    private const long MemoBudget = 1_000_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CatalogEntry[]?> memo = new();
    private long memoSize;

    /// <summary>When the database last confirmed this snapshot's generation (<see cref="Environment.TickCount64"/>).</summary>
    public long CheckedAt { get; set; } = Environment.TickCount64;

    private CatalogEntry[]? Compute(IProductFilter filter, string ordering)
    {
        string? q = null;
        if (!string.IsNullOrWhiteSpace(filter.Q))
        {
            q = filter.Q.Trim();
            if (!System.Text.Ascii.IsValid(q))
            {
                return null;
            }

            q = q.ToLowerInvariant();
        }

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
