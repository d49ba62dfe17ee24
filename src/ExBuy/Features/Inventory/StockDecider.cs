namespace ExBuy.Features.Inventory;

/// <summary>One requested line: take <see cref="Quantity"/> units of a product.</summary>
public sealed record StockLine(long ProductId, int Quantity);

public abstract record StockDecision
{
    private StockDecision()
    {
    }

    /// <summary>Every product exists and has enough: the stock each product is left with.</summary>
    public sealed record Take(IReadOnlyDictionary<long, int> Remaining) : StockDecision;

    public sealed record Missing(IReadOnlyList<long> ProductIds) : StockDecision;

    public sealed record Insufficient(long ProductId, int Available, int Requested) : StockDecision;
}

/// <summary>
/// The pure decision every strategy shares, so that strategies differ only in how they load and protect the
/// rows: the demand is summed per product (an order may name a product twice) and checked all-or-nothing.
/// </summary>
public static class StockDecider
{
    /// <summary>The demand per product in ascending id order: the order every strategy locks in, so two orders never deadlock.</summary>
    public static IReadOnlyList<StockLine> Demand(IEnumerable<StockLine> lines) =>
        lines.GroupBy(l => l.ProductId)
            .Select(g => new StockLine(g.Key, checked(g.Sum(l => l.Quantity))))
            .OrderBy(l => l.ProductId)
            .ToList();

    public static StockDecision Decide(IReadOnlyList<StockLine> demand, IReadOnlyDictionary<long, StockLevel> levels)
    {
        var missing = demand.Where(l => !levels.ContainsKey(l.ProductId)).Select(l => l.ProductId).ToList();
        if (missing.Count > 0)
        {
            return new StockDecision.Missing(missing);
        }

        var remaining = new Dictionary<long, int>(demand.Count);
        foreach (var line in demand)
        {
            var available = levels[line.ProductId].Stock;
            if (available < line.Quantity)
            {
                return new StockDecision.Insufficient(line.ProductId, available, line.Quantity);
            }

            remaining[line.ProductId] = available - line.Quantity;
        }

        return new StockDecision.Take(remaining);
    }
}
