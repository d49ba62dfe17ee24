using ExBuy.Infrastructure.Redis;
using Marten;
using StackExchange.Redis;

namespace ExBuy.Features.Inventory;

/// <summary>
/// The Redis copy of product stock that the <c>atomic</c> strategy gates on. A key exists only for products that
/// strategy has touched (or a flash sale set up), and <see cref="RedisStockGates"/> records which; every other
/// strategy keeps an existing key in step after it commits, so the audit can require Redis stock = database stock.
/// What drifts anyway (a crash between gate and database, Redis losing its data) the <see cref="StockReconciler"/> repairs.
/// </summary>
public sealed class RedisStock(IConnectionMultiplexer redis, IDocumentStore store)
{
    public static RedisKey Key(long productId) => $"exbuy:stock:{productId}";

    // Checks every line first and decrements only when all have enough: one round trip, all or nothing.
    // 0 = taken; i > 0 = line i is short; -i = line i has no key yet.
    private const string TakeScript = """
        for i, key in ipairs(KEYS) do
          local v = redis.call('GET', key)
          if not v then return -i end
          if tonumber(v) < tonumber(ARGV[i]) then return i end
        end
        for i, key in ipairs(KEYS) do redis.call('DECRBY', key, ARGV[i]) end
        return 0
        """;

    private const string AdjustIfPresentScript = """
        for i, key in ipairs(KEYS) do
          if redis.call('EXISTS', key) == 1 then redis.call('INCRBY', key, ARGV[i]) end
        end
        return 0
        """;

    // Sets the key only while it still holds what the caller read ('' = absent), so a gate decrement or give-back
    // that landed in between is never overwritten. An empty new value deletes the key.
    private const string CompareAndSetScript = """
        local v = redis.call('GET', KEYS[1])
        if (v or '') ~= ARGV[1] then return 0 end
        if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
        return 1
        """;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Sets a product's key (only when absent unless <paramref name="overwrite"/>) and records that the product has one.</summary>
    public async Task<bool> InitializeAsync(long productId, int stock, bool overwrite = false)
    {
        await RedisStockGates.AddAsync(store, [productId], CancellationToken.None);
        return await Db.StringSetAsync(Key(productId), stock, when: overwrite ? When.Always : When.NotExists);
    }

    /// <summary>The keys' values in one round trip (null where a key is absent).</summary>
    public async Task<int?[]> GetManyAsync(IReadOnlyList<long> productIds)
    {
        var values = await Db.StringGetAsync(productIds.Select(Key).ToArray());
        return values.Select(v => v.IsNull ? (int?)null : (int)v).ToArray();
    }

    /// <summary>Sets the key to <paramref name="value"/> (null deletes it) only if it still holds <paramref name="expected"/> (null = absent).</summary>
    public async Task<bool> CompareAndSetAsync(long productId, int? expected, int? value) =>
        (int)await Db.ScriptEvaluateAsync(
            CompareAndSetScript,
            [Key(productId)],
            [expected?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""]) == 1;

    /// <summary>The products that have a key now.</summary>
    public async Task<IReadOnlyList<long>> KeyedProductIdsAsync()
    {
        var ids = new List<long>();
        await foreach (var key in RedisSetup.ScanAsync(redis, "exbuy:stock:*"))
        {
            if (long.TryParse(key.ToString()["exbuy:stock:".Length..], out var id))
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    public async Task<int?> GetAsync(long productId)
    {
        var value = await Db.StringGetAsync(Key(productId));
        return value.IsNull ? null : (int)value;
    }

    public async Task<IReadOnlyList<long>> UninitializedAsync(IReadOnlyList<StockLine> demand)
    {
        var values = await Db.StringGetAsync(demand.Select(l => Key(l.ProductId)).ToArray());
        return demand.Where((_, i) => values[i].IsNull).Select(l => l.ProductId).ToList();
    }

    /// <returns>0 when taken, i &gt; 0 when line i (1-based) is short, -i when line i has no key.</returns>
    public async Task<int> TryTakeAsync(IReadOnlyList<StockLine> demand)
    {
        var result = await Db.ScriptEvaluateAsync(
            TakeScript,
            demand.Select(l => Key(l.ProductId)).ToArray(),
            demand.Select(l => (RedisValue)l.Quantity).ToArray());
        return (int)result;
    }

    /// <summary>Gives back what <see cref="TryTakeAsync"/> took when the database refused or failed.</summary>
    public Task CompensateAsync(IReadOnlyList<StockLine> demand) => AdjustIfPresentAsync(demand, +1);

    /// <summary>After another strategy committed a change, moves an existing key by the same amount.</summary>
    public Task MirrorTakenAsync(IReadOnlyList<StockLine> demand) => AdjustIfPresentAsync(demand, -1);

    public Task MirrorReturnedAsync(IReadOnlyList<StockLine> demand) => AdjustIfPresentAsync(demand, +1);

    private async Task AdjustIfPresentAsync(IReadOnlyList<StockLine> demand, int sign) =>
        await Db.ScriptEvaluateAsync(
            AdjustIfPresentScript,
            demand.Select(l => Key(l.ProductId)).ToArray(),
            demand.Select(l => (RedisValue)(sign * l.Quantity)).ToArray());

    public async Task<IReadOnlyDictionary<long, int>> AllAsync()
    {
        var result = new Dictionary<long, int>();
        await foreach (var key in RedisSetup.ScanAsync(redis, "exbuy:stock:*"))
        {
            var value = await Db.StringGetAsync(key);
            if (!value.IsNull && long.TryParse(key.ToString()["exbuy:stock:".Length..], out var id))
            {
                result[id] = (int)value;
            }
        }

        return result;
    }
}
