using ExBuy.Features.Inventory;
using ExBuy.Features.Coupons;
using FastEndpoints;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Audit;

public sealed record AuditViolation(string Invariant, string Subject, string Detail);

public sealed record AuditResponse(bool Ok, IReadOnlyDictionary<string, long> Checked, long ViolationCount, IReadOnlyList<AuditViolation> Violations);

/// <summary>
/// <c>GET /api/audit</c>: every invariant the scenarios care about, checked against the data as it is now.
/// Run it after a load test: while requests are in flight, Redis and PostgreSQL are compared at slightly
/// different instants. At most <see cref="MaxListed"/> violations are listed; the count is complete.
/// </summary>
public sealed class AuditEndpoint(NpgsqlDataSource db, IDocumentStore store, RedisStock redisStock, CouponGate couponGate, IOptions<CouponOptions> couponOptions)
    : EndpointWithoutRequest<AuditResponse>
{
    public const int MaxListed = 200;

    public override void Configure()
    {
        Get("/api/audit");
        Tags("audit");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var violations = new List<AuditViolation>();
        var ledger = await StockLedger.ReadAsync(db, store, null, ct);
        foreach (var row in ledger)
        {
            // The stock row itself cannot go below zero (a check constraint, ProductStock); what can is the ledger: more
            // sold than there ever was, which is an oversell whichever number the row shows.
            if (row.Expected < 0)
            {
                violations.Add(new(
                    "no_negative_stock", $"product {row.ProductId}", $"initial {row.InitialStock} - sold {row.Sold} + returned {row.Returned} = {row.Expected}"));
            }

            if (row.Stock != row.Expected)
            {
                violations.Add(new(
                    "stock_matches_ledger",
                    $"product {row.ProductId}",
                    $"stock {row.Stock} but initial {row.InitialStock} - sold {row.Sold} + returned {row.Returned} = {row.Expected}"));
            }
        }

        foreach (var (productId, quantity, since) in await StockLedger.AbandonedHoldsAsync(db, store, ct))
        {
            violations.Add(new(
                "stock_hold_abandoned",
                $"product {productId}",
                $"{quantity} unit(s) held since {since:O}, longer than the sweep window ({StockHolds.Abandoned.TotalSeconds:0} s)"));
        }

        var stockById = ledger.ToDictionary(r => r.ProductId, r => r.Stock);
        var redis = await redisStock.AllAsync();
        foreach (var productId in await StockLedger.GatedProductsAsync(db, store, ct))
        {
            if (!redis.ContainsKey(productId))
            {
                violations.Add(new("redis_stock_key_present", $"product {productId}", "the product's Redis stock key is missing"));
            }
        }

        foreach (var (productId, redisValue) in redis)
        {
            if (stockById.TryGetValue(productId, out var dbStock) && dbStock != redisValue)
            {
                violations.Add(new("redis_stock_matches_database", $"product {productId}", $"Redis {redisValue}, database {dbStock}"));
            }
        }

        var orders = await CheckOrderTotalsAsync(violations, ct);
        var balances = await ShopFlowChecks.RunAsync(db, store, couponGate, TimeSpan.FromSeconds(couponOptions.Value.StuckClaimSeconds), violations, ct);

        await Send.OkAsync(
            new AuditResponse(
                violations.Count == 0,
                new Dictionary<string, long> { ["products"] = ledger.Count, ["redis_stock_keys"] = redis.Count, ["orders"] = orders, ["balances"] = balances },
                violations.Count,
                violations.Take(MaxListed).ToList()),
            ct);
    }

    // total = sum of line subtotals (minus a discount where one applies) and subtotal = unit price × quantity.
    private async Task<long> CheckOrderTotalsAsync(List<AuditViolation> violations, CancellationToken ct)
    {
        var schema = store.Options.DatabaseSchemaName;
        await using var command = db.CreateCommand($"""
            select o.id, (o.data ->> 'TotalPrice')::numeric, lines.total, lines.bad_lines, count(*) over ()
            from {schema}.mt_doc_order o
            cross join lateral (
                select coalesce(sum((i ->> 'Subtotal')::numeric), 0) as total,
                       count(*) filter (where (i ->> 'Subtotal')::numeric <> (i ->> 'UnitPrice')::numeric * (i ->> 'Quantity')::int) as bad_lines
                from jsonb_array_elements(o.data -> 'Items') i
            ) lines
            where (o.data ->> 'TotalPrice')::numeric <> lines.total - coalesce((o.data ->> 'Discount')::numeric, 0) or lines.bad_lines > 0
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            violations.Add(new(
                "order_total_matches_items",
                $"order {reader.GetInt64(0)}",
                $"total {reader.GetDecimal(1)}, items {reader.GetDecimal(2)}, {reader.GetInt64(3)} line(s) with subtotal ≠ price × quantity"));
        }

        await using var count = db.CreateCommand($"select count(*) from {schema}.mt_doc_order");
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }
}
