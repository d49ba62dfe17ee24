using ExBuy.Infrastructure.Observability;

namespace ExBuy.Features.Catalog.ReadModel;

/// <summary>
/// A snapshot's remembered answers to the filters it was asked, bounded by <b>bytes</b>: each entry is accounted as its
/// key's characters, its answer's references and a fixed overhead, at least <see cref="MinEntryBytes"/> — so a
/// million distinct empty searches cost what they hold, not one unit each. Past the limit the oldest entries not used
/// since the eviction hand last passed them go (CLOCK, a cheap LRU: a look-up only sets a flag, no lock). The current
/// snapshot's accounted bytes are the gauge <c>exbuy_catalog_search_cache_bytes</c>.
/// </summary>
public sealed class FilterMemo(long limitBytes)
{
    /// <summary>The least an entry is accounted for, whatever it holds.</summary>
    public const long MinEntryBytes = 256;

    // The dictionary node, the entry object and its slot in the eviction queue, the key string's header.
    private const long OverheadBytes = 160;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Queue<string> hand = new();
    private readonly Lock gate = new();
    private long bytes;

    /// <summary>The bytes the entries are accounted for now (never above the limit).</summary>
    public long Bytes => Interlocked.Read(ref bytes);

    public int Count => entries.Count;

    public bool TryGet(string key, out CatalogEntry[]? answer)
    {
        if (entries.TryGetValue(key, out var entry))
        {
            entry.Used = true;
            answer = entry.Answer;
            return true;
        }

        answer = null;
        return false;
    }

    public void Add(string key, CatalogEntry[]? answer)
    {
        var size = SizeOf(key, answer);
        if (size > limitBytes)
        {
            return;
        }

        lock (gate)
        {
            if (entries.ContainsKey(key))
            {
                return;
            }

            // A flagged entry gets a second chance (its flag cleared, back to the end) a bounded number of times, so a
            // reader that keeps flagging entries cannot hold the hand for ever.
            var chances = hand.Count;
            while (bytes + size > limitBytes && hand.TryDequeue(out var oldest))
            {
                var victim = entries[oldest];
                if (victim.Used && chances-- > 0)
                {
                    victim.Used = false;
                    hand.Enqueue(oldest);
                    continue;
                }

                entries.TryRemove(oldest, out _);
                Interlocked.Add(ref bytes, -victim.Size);
            }

            if (bytes + size <= limitBytes)
            {
                entries[key] = new Entry(answer, size);
                hand.Enqueue(key);
                Interlocked.Add(ref bytes, size);
            }

            ExBuyMetrics.CatalogSearchCacheBytes.Set(bytes);
        }
    }

    /// <summary>An estimate on the high side of what an entry keeps alive (a 64-bit runtime).</summary>
    public static long SizeOf(string key, CatalogEntry[]? answer) =>
        Math.Max(MinEntryBytes, OverheadBytes + 2L * key.Length + (answer is null ? 0 : 24 + 8L * answer.Length));

    private sealed class Entry(CatalogEntry[]? answer, long size)
    {
        public CatalogEntry[]? Answer { get; } = answer;

        public long Size { get; } = size;

        public volatile bool Used;
    }
}
