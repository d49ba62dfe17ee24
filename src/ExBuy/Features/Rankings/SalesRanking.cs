using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ExBuy.Features.Catalog;
using Marten;
using StackExchange.Redis;

namespace ExBuy.Features.Rankings;

/// <summary>Units of one product sold (or seeded) on one day.</summary>
public sealed record SoldItem(long ProductId, int Quantity);

/// <summary>One paid order's sales, as the event log numbers them: <see cref="Sequence"/> is the event's sequence.</summary>
public sealed record RankedSale(long Sequence, DateOnly Day, IReadOnlyList<SoldItem> Items);

public sealed record TopProductEntry(
    [property: JsonPropertyName("productId")] long ProductId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("soldQty")] long SoldQty);

/// <summary>Best sellers as one Redis sorted set per day (<c>exbuy:rank:yyyyMMdd</c>); "realtime" unions the last three.</summary>
public sealed class SalesRanking(IConnectionMultiplexer redis, IDocumentStore store, TimeProvider clock)
{
    public const int Days = 3;
    public const int Size = 5;
    public static readonly TimeSpan Keep = TimeSpan.FromDays(Days + 1);

    /// <summary>The highest event sequence already counted into the ranking (see <see cref="ApplyAsync"/>).</summary>
    public static readonly RedisKey AppliedKey = "exbuy:rank:applied";

    /// <summary>The one copy of <c>GET /products/top</c> that every API node serves until it expires.</summary>
    public static readonly RedisKey CachedTopKey = "exbuy:rank:top-cache";

    // Adds each sale whose sequence is above the applied mark, then raises the mark: one atomic step, so a page of
    // events delivered twice (a node died after this ran but before the daemon recorded its progress, or two nodes
    // ran the subscription during a leadership hand-over) is counted once. ARGV: keep seconds, then per line
    // sequence, key index, product id, quantity.
    private const string ApplyScript = """
        local applied = tonumber(redis.call('GET', KEYS[1]) or '0')
        local top = applied
        local keep = tonumber(ARGV[1])
        for i = 2, #ARGV, 4 do
          local seq = tonumber(ARGV[i])
          if seq > applied then
            local key = KEYS[tonumber(ARGV[i + 1])]
            redis.call('ZINCRBY', key, ARGV[i + 3], ARGV[i + 2])
            redis.call('EXPIRE', key, keep)
            if seq > top then top = seq end
          end
        end
        if top > applied then redis.call('SET', KEYS[1], top) end
        return top
        """;

    public static RedisKey DayKey(DateOnly day) => $"exbuy:rank:{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}";

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>Adds units to one day's ranking directly (the scenario's seeded history, <c>POST /init</c>).</summary>
    public async Task RecordAsync(DateOnly day, IEnumerable<SoldItem> items)
    {
        var db = redis.GetDatabase();
        var key = DayKey(day);
        await Task.WhenAll(items.Select(i => db.SortedSetIncrementAsync(key, i.ProductId, i.Quantity)));
        await db.KeyExpireAsync(key, Keep);
    }

    /// <summary>
    /// Counts paid orders' sales exactly once: sales at or below the applied mark are skipped (already counted), the
    /// others added and the mark raised, atomically in Redis. Sales older than the ranking's window are dropped.
    /// </summary>
    /// <returns>The applied mark afterwards.</returns>
    public static async Task<long> ApplyAsync(IDatabase db, DateOnly today, IReadOnlyList<RankedSale> sales)
    {
        var oldest = today.AddDays(-Days);
        var lines = sales.Where(s => s.Day >= oldest).ToList();
        if (lines.Count == 0)
        {
            return 0;
        }

        var keys = new List<RedisKey> { AppliedKey };
        var keyIndex = new Dictionary<DateOnly, int>();
        var args = new List<RedisValue> { (long)Keep.TotalSeconds };
        foreach (var sale in lines)
        {
            if (!keyIndex.TryGetValue(sale.Day, out var index))
            {
                keys.Add(DayKey(sale.Day));
                index = keyIndex[sale.Day] = keys.Count; // Lua arrays start at 1
            }

            foreach (var item in sale.Items)
            {
                args.Add(sale.Sequence);
                args.Add(index);
                args.Add(item.ProductId);
                args.Add(item.Quantity);
            }
        }

        return (long)await db.ScriptEvaluateAsync(ApplyScript, keys.ToArray(), args.ToArray());
    }

    public Task ClearAsync() =>
        redis.GetDatabase().KeyDeleteAsync([.. Enumerable.Range(0, Days + 1).Select(d => DayKey(Today.AddDays(-d))), CachedTopKey]);

    public async Task<List<TopProductEntry>> TopAsync(CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var keys = Enumerable.Range(0, Days).Select(d => DayKey(Today.AddDays(-d))).ToArray();
        var union = await db.SortedSetCombineWithScoresAsync(SetOperation.Union, keys);
        var top = union.OrderByDescending(e => e.Score).ThenBy(e => (long)e.Element).Take(Size).ToList();
        if (top.Count == 0)
        {
            return [];
        }

        await using var session = store.QuerySession();
        var names = (await session.LoadManyAsync<Product>(ct, top.Select(e => (long)e.Element))).ToDictionary(p => p.Id, p => p.Name);
        return top.Where(e => names.ContainsKey((long)e.Element))
            .Select(e => new TopProductEntry((long)e.Element, names[(long)e.Element], (long)e.Score))
            .ToList();
    }

    /// <summary>
    /// The ranking as of at most <paramref name="freshness"/> ago, the same for every API node: one copy in Redis
    /// (<see cref="CachedTopKey"/>, expiring after <paramref name="freshness"/>). The node that finds it missing
    /// computes it and stores it only if no other node did meanwhile; either way it answers the stored copy.
    /// </summary>
    public async Task<List<TopProductEntry>> CachedTopAsync(TimeSpan freshness, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        if (Parse(await db.StringGetAsync(CachedTopKey)) is { } cached)
        {
            return cached;
        }

        var top = await TopAsync(ct);
        var json = JsonSerializer.Serialize(top);
        if (await db.StringSetAsync(CachedTopKey, json, freshness, When.NotExists))
        {
            return top;
        }

        return Parse(await db.StringGetAsync(CachedTopKey)) ?? top;
    }

    private static List<TopProductEntry>? Parse(RedisValue value) =>
        value.HasValue ? JsonSerializer.Deserialize<List<TopProductEntry>>(value.ToString()) : null;
}
