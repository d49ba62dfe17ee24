using System.Globalization;
using System.Text.Json.Serialization;
using ExBuy.Features.Catalog;
using Marten;
using StackExchange.Redis;

namespace ExBuy.Features.Rankings;

/// <summary>Units sold per product on one day, published after a paid order commits.</summary>
public sealed record RecordSales(DateOnly Day, IReadOnlyList<SoldItem> Items);

public sealed record SoldItem(long ProductId, int Quantity);

public sealed record TopProductEntry(
    [property: JsonPropertyName("productId")] long ProductId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("soldQty")] long SoldQty);

/// <summary>Best sellers as one Redis sorted set per day (<c>exbuy:rank:yyyyMMdd</c>); "realtime" unions the last three.</summary>
public sealed class SalesRanking(IConnectionMultiplexer redis, IDocumentStore store, TimeProvider clock)
{
    public const int Days = 3;
    public const int Size = 5;
    private static readonly TimeSpan Keep = TimeSpan.FromDays(Days + 1);

    public static RedisKey DayKey(DateOnly day) => $"exbuy:rank:{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}";

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public async Task RecordAsync(DateOnly day, IEnumerable<SoldItem> items)
    {
        var db = redis.GetDatabase();
        var key = DayKey(day);
        await Task.WhenAll(items.Select(i => db.SortedSetIncrementAsync(key, i.ProductId, i.Quantity)));
        await db.KeyExpireAsync(key, Keep);
    }

    public Task ClearAsync() =>
        redis.GetDatabase().KeyDeleteAsync(Enumerable.Range(0, Days + 1).Select(d => DayKey(Today.AddDays(-d))).ToArray());

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
}

/// <summary>Wolverine handler: applies a paid order's sales to today's ranking.</summary>
public static class RecordSalesHandler
{
    public static Task Handle(RecordSales message, SalesRanking ranking) => ranking.RecordAsync(message.Day, message.Items);
}
