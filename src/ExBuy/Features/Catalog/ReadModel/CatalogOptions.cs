using System.ComponentModel.DataAnnotations;

namespace ExBuy.Features.Catalog.ReadModel;

/// <summary>Bound from <c>ExBuy:Catalog</c>.</summary>
public sealed class CatalogOptions
{
    public const string Section = "ExBuy:Catalog";

    /// <summary>
    /// Serve <c>optimize=true</c> catalogue reads from each node's in-memory catalogue with live stock
    /// (<see cref="CatalogReadModel"/>). False: every read runs its SQL, as before the read model.
    /// </summary>
    public bool ReadModel { get; set; } = true;

    /// <summary>A catalogue larger than this is not held in memory: its reads run their SQL.</summary>
    [Range(1, 1_000_000)]
    public int MaxProducts { get; set; } = 50_000;

    /// <summary>
    /// Bytes the remembered answers to list and search filters may take per process (<see cref="FilterMemo"/>: keys and
    /// results, at least <see cref="FilterMemo.MinEntryBytes"/> an entry); past it the least recently used go. 0: none kept.
    /// </summary>
    [Range(0, 1L << 34)]
    public long SearchCacheBytes { get; set; } = 8L << 20;
}
