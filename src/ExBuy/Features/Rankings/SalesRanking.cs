using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ExBuy.Features.Catalog;
using Marten;
using StackExchange.Redis;

namespace ExBuy.Features.Rankings;

/// <summary>Units of one product sold (or seeded) on one day.</summary>
public sealed record SoldItem(long ProductId, int Quantity);

/// <summary>One step of the ranking, at its place in the event log (<see cref="Sequence"/>: the event's sequence).</summary>
public abstract record RankingStep(long Sequence);

/// <summary>
/// One paid order's sales into the day it was placed on: added when it is placed (or revived), taken out
/// (<see cref="Sign"/> −1) when it is cancelled. <see cref="PlacedSequence"/> is the sequence of the order's
/// <c>OrderPlaced</c> (the event itself when null): an order placed before the ranking's last reset counts in no way.
/// </summary>
public sealed record RankedSale(long Sequence, DateOnly Day, IReadOnlyList<SoldItem> Items, int Sign = 1, long? PlacedSequence = null)
    : RankingStep(Sequence);

/// <summary>The ranking emptied and seeded (<see cref="SalesRankingReset"/>).</summary>
public sealed record RankedReset(long Sequence, IReadOnlyList<SeededSale> Seed) : RankingStep(Sequence);

/// <summary>
/// The ranking as Redis holds it, read in one MULTI: the applied mark (<see cref="HasMark"/> false when Redis has none:
/// never counted, or lost), the last reset applied and the units per day and product.
/// </summary>
public sealed record RankingState(bool HasMark, long Applied, long Epoch, IReadOnlyDictionary<(DateOnly Day, long ProductId), long> Units);

public sealed record TopProductEntry(
    [property: JsonPropertyName("productId")] long ProductId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("soldQty")] long SoldQty);

/// <summary>
/// Best sellers as one Redis sorted set per day (<c>exbuy:rank:yyyyMMdd</c>); "realtime" unions the last three.
/// <para>
/// <b>What it counts</b>, a function of the event log alone: since the last <see cref="SalesRankingReset"/> (the
/// scenario's seeded history, <c>POST /init</c>), its seed plus the items of every <i>live</i> paid order placed after
/// it, in the day it was placed on. A cancellation refunds in full, so it takes the order's items back out of that day;
/// a revival puts them back. An order placed before the reset counts in no way, nor do its cancellation or revival
/// after it (its products were the previous scenario's). The subscription applies the log in sequence
/// (<see cref="ApplyAsync"/>), <see cref="SalesRankingTruth"/> computes the same from PostgreSQL (the audit compares
/// the two; a rebuild writes it), and a replay of the log from its start ends where the incremental counting did.
/// </para>
/// </summary>
public sealed class SalesRanking(IConnectionMultiplexer redis, IDocumentStore store, TimeProvider clock)
{
    public const int Days = 3;
    public const int Size = 5;
    public static readonly TimeSpan Keep = TimeSpan.FromDays(Days + 1);

    /// <summary>The highest event sequence already counted into the ranking (see <see cref="ApplyAsync"/>).</summary>
    public static readonly RedisKey AppliedKey = "exbuy:rank:applied";

    /// <summary>The sequence of the last <see cref="SalesRankingReset"/> applied: orders placed before it do not count.</summary>
    public static readonly RedisKey EpochKey = "exbuy:rank:epoch";

    /// <summary>The one copy of <c>GET /products/top</c> that every API node serves until it expires.</summary>
    public static readonly RedisKey CachedTopKey = "exbuy:rank:top-cache";

    // Applies each step whose sequence is above the applied mark, then raises the mark: one atomic step, so a page of
    // events delivered twice (a node died after this ran but before the daemon recorded its progress, or two nodes
    // ran the subscription during a leadership hand-over) is counted once. A reset (op r) above the mark and the
    // last reset empties the window's days and becomes the epoch, and its seed lines follow it (their count in the
    // quantity field); a reset already applied (POST /init applies its own at once) skips them. A sale counts only if
    // its order was placed at or after the epoch. A day's product that falls to zero leaves the set.
    // With a floor above zero, a missing mark means Redis lost the ranking: -1, nothing applied (the caller rebuilds).
    // KEYS: mark, epoch, cached top, then the days. ARGV: keep seconds, floor, raise the mark (1/0), how many of the
    // days a reset empties (the first ones), then per line sequence, placed sequence, op (a, s, r), day index,
    // product id, quantity.
    private const string ApplyScript = """
        local raw = redis.call('GET', KEYS[1])
        if not raw and tonumber(ARGV[2]) > 0 then return -1 end
        local applied = tonumber(raw or '0')
        local epoch = tonumber(redis.call('GET', KEYS[2]) or '0')
        local top = applied
        local keep = tonumber(ARGV[1])
        local window = tonumber(ARGV[4])
        local skip = 0
        for i = 5, #ARGV, 6 do
          local seq = tonumber(ARGV[i])
          local op = ARGV[i + 2]
          if skip > 0 then
            skip = skip - 1
          elseif op == 'r' then
            if seq > applied and seq > epoch then
              for k = 4, 3 + window do redis.call('DEL', KEYS[k]) end
              redis.call('DEL', KEYS[3])
              epoch = seq
              redis.call('SET', KEYS[2], epoch)
            else
              skip = tonumber(ARGV[i + 5])
            end
          elseif seq > applied and tonumber(ARGV[i + 1]) >= epoch then
            local key = KEYS[tonumber(ARGV[i + 3])]
            local delta = tonumber(ARGV[i + 5])
            if op == 's' then delta = -delta end
            local score = tonumber(redis.call('ZINCRBY', key, delta, ARGV[i + 4]))
            if score <= 0 then redis.call('ZREM', key, ARGV[i + 4]) end
            redis.call('EXPIRE', key, keep)
          end
          if seq > top then top = seq end
        end
        if ARGV[3] == '1' and top > applied then redis.call('SET', KEYS[1], top) end
        return top
        """;

    // The ranking rebuilt from PostgreSQL (SalesRankingTruth) as of ARGV[1], only while the mark is still missing. A
    // reset applied ahead of that point (POST /init applies its own at once) already holds everything that counts:
    // then only the mark is set. KEYS as ApplyScript's; ARGV: mark, epoch, keep seconds, how many days to empty, then
    // per line day index, product id, quantity.
    private const string ReplaceScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) then
          redis.call('SET', KEYS[1], ARGV[1])
          return 2
        end
        for k = 4, 3 + tonumber(ARGV[4]) do redis.call('DEL', KEYS[k]) end
        redis.call('DEL', KEYS[3])
        for i = 5, #ARGV, 3 do
          redis.call('ZADD', KEYS[tonumber(ARGV[i])], ARGV[i + 2], ARGV[i + 1])
          redis.call('EXPIRE', KEYS[tonumber(ARGV[i])], ARGV[3])
        end
        redis.call('SET', KEYS[2], ARGV[2])
        redis.call('SET', KEYS[1], ARGV[1])
        return 1
        """;

    public static RedisKey DayKey(DateOnly day) => $"exbuy:rank:{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}";

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>The days <c>GET /products/top</c> unions, today first.</summary>
    public static IReadOnlyList<DateOnly> ServedDays(DateOnly today) => [.. Enumerable.Range(0, Days).Select(d => today.AddDays(-d))];

    /// <summary>
    /// Adds units to one day's ranking directly, outside the event log: what no part of the shop does (the audit reports
    /// it). Tests use it to change the ranking at once.
    /// </summary>
    public async Task RecordAsync(DateOnly day, IEnumerable<SoldItem> items)
    {
        var db = redis.GetDatabase();
        var key = DayKey(day);
        await Task.WhenAll(items.Select(i => db.SortedSetIncrementAsync(key, i.ProductId, i.Quantity)));
        await db.KeyExpireAsync(key, Keep);
    }

    /// <summary>
    /// Starts the ranking over with <paramref name="seed"/> (<c>POST /init</c>): the reset is appended to the event log,
    /// then applied to Redis at once (the scenario reads its ranking right away); the subscription, reaching it,
    /// finds it applied and skips it, and skips the orders placed before it that it had not counted yet.
    /// </summary>
    public async Task ResetAsync(IReadOnlyList<SeededSale> seed, CancellationToken ct)
    {
        long sequence;
        await using (var session = store.LightweightSession())
        {
            var action = session.Events.Append(SalesRankingEvents.Key, new SalesRankingReset(seed, clock.GetUtcNow()));
            await session.SaveChangesAsync(ct);
            var eventId = action.Events[0].Id;
            sequence = (await session.Events.QueryAllRawEvents().Where(e => e.Id == eventId).SingleAsync(ct)).Sequence;
        }

        await ApplyAsync(redis.GetDatabase(), Today, [new RankedReset(sequence, seed)], floor: 0, raiseMark: false);
    }

    /// <summary>
    /// Counts the steps exactly once: steps at or below the applied mark are skipped (already counted), the others
    /// applied and the mark raised (unless <paramref name="raiseMark"/> is false: a reset applied ahead of the
    /// subscription), atomically in Redis. Sales older than the ranking's window are dropped.
    /// </summary>
    /// <param name="floor">The page's floor: above zero, a missing mark means Redis lost the ranking.</param>
    /// <returns>The applied mark afterwards; -1 when Redis has no mark although <paramref name="floor"/> is above zero.</returns>
    public static async Task<long> ApplyAsync(IDatabase db, DateOnly today, IReadOnlyList<RankingStep> steps, long floor = 0, bool raiseMark = true)
    {
        var oldest = today.AddDays(-Days);
        var window = Enumerable.Range(0, Days + 1).Select(d => today.AddDays(-d)).ToList();
        var keys = new List<RedisKey> { AppliedKey, EpochKey, CachedTopKey };
        var keyIndex = new Dictionary<DateOnly, int>();
        int Index(DateOnly day)
        {
            if (!keyIndex.TryGetValue(day, out var index))
            {
                keys.Add(DayKey(day));
                index = keyIndex[day] = keys.Count; // Lua arrays start at 1
            }

            return index;
        }

        window.ForEach(d => Index(d));
        var args = new List<RedisValue> { (long)Keep.TotalSeconds, floor, raiseMark ? 1 : 0, window.Count };
        void Line(long sequence, long placed, string op, int index, long productId, long quantity) =>
            args.AddRange([sequence, placed, op, index, productId, quantity]);

        foreach (var step in steps)
        {
            switch (step)
            {
                case RankedReset reset:
                    var seed = reset.Seed.Where(s => s.Day >= oldest).ToList();
                    Line(reset.Sequence, reset.Sequence, "r", 0, 0, seed.Count);
                    seed.ForEach(s => Line(reset.Sequence, reset.Sequence, "a", Index(s.Day), s.ProductId, s.Quantity));
                    break;
                case RankedSale sale when sale.Day >= oldest:
                    foreach (var item in sale.Items)
                    {
                        Line(sale.Sequence, sale.PlacedSequence ?? sale.Sequence, sale.Sign < 0 ? "s" : "a", Index(sale.Day), item.ProductId, item.Quantity);
                    }

                    break;
            }
        }

        if (args.Count == 4)
        {
            return 0;
        }

        return (long)await db.ScriptEvaluateAsync(ApplyScript, keys.ToArray(), args.ToArray());
    }

    /// <summary>
    /// Rebuilds a ranking Redis lost: computes it from PostgreSQL as of <paramref name="asOf"/> and writes it by
    /// <see cref="ReplaceAsync"/> (only while Redis still has no applied mark). The subscription's page and the repair
    /// pass both come here.
    /// </summary>
    /// <returns>True when the ranking was written.</returns>
    public static async Task<bool> RebuildAsync(IDatabase db, Npgsql.NpgsqlDataSource pg, string eventsSchema, DateOnly today, long asOf, CancellationToken ct)
    {
        await using var connection = await pg.OpenConnectionAsync(ct);
        var truth = await SalesRankingTruth.ReadAsync(connection, eventsSchema, asOf, null, today.AddDays(-Days), ct);
        return await ReplaceAsync(db, today, truth, asOf);
    }

    /// <summary>
    /// Writes <paramref name="truth"/> (the ranking computed from PostgreSQL as of <paramref name="asOf"/>) in place of
    /// whatever Redis holds, if Redis still has no applied mark: Redis lost the ranking and the subscription, which
    /// counts increments, cannot restore what came before its page.
    /// </summary>
    /// <returns>True when the ranking was written.</returns>
    public static async Task<bool> ReplaceAsync(IDatabase db, DateOnly today, RankingTruth truth, long asOf)
    {
        var keys = new List<RedisKey> { AppliedKey, EpochKey, CachedTopKey };
        var window = Enumerable.Range(0, Days + 1).Select(d => today.AddDays(-d)).ToList();
        keys.AddRange(window.Select(DayKey));
        var args = new List<RedisValue> { asOf, truth.Epoch, (long)Keep.TotalSeconds, window.Count };
        foreach (var ((day, productId), units) in truth.Units)
        {
            var index = window.IndexOf(day);
            if (index >= 0 && units > 0)
            {
                args.AddRange([index + 4, productId, units]);
            }
        }

        return (long)await db.ScriptEvaluateAsync(ReplaceScript, keys.ToArray(), args.ToArray()) == 1;
    }

    /// <summary>The mark, the epoch and the given days' units, read in one MULTI (one instant of Redis).</summary>
    public static async Task<RankingState> ReadStateAsync(IDatabase db, IReadOnlyList<DateOnly> days)
    {
        var transaction = db.CreateTransaction();
        var applied = transaction.StringGetAsync(AppliedKey);
        var epoch = transaction.StringGetAsync(EpochKey);
        var sets = days.Select(d => (Day: d, Entries: transaction.SortedSetRangeByRankWithScoresAsync(DayKey(d)))).ToList();
        await transaction.ExecuteAsync();
        var units = new Dictionary<(DateOnly, long), long>();
        foreach (var (day, entries) in sets)
        {
            foreach (var entry in await entries)
            {
                units[(day, (long)entry.Element)] = (long)entry.Score;
            }
        }

        var mark = await applied;
        return new RankingState(mark.HasValue, mark.HasValue ? (long)mark : 0, (await epoch).HasValue ? (long)await epoch : 0, units);
    }

    public async Task<List<TopProductEntry>> TopAsync(CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var keys = ServedDays(Today).Select(DayKey).ToArray();
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
