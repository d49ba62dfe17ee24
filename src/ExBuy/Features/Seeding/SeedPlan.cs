using System.Diagnostics.CodeAnalysis;

namespace ExBuy.Features.Seeding;

public sealed record SeedPlan(int Products, int Orders, int Reviews, int BatchSize)
{
    public static readonly IReadOnlyDictionary<string, SeedPlan> Sizes = new Dictionary<string, SeedPlan>(StringComparer.OrdinalIgnoreCase)
    {
        ["small"] = new(1_000, 5_000, 10_000, CatalogSeeder.DefaultBatchSize),
        ["medium"] = new(10_000, 50_000, 100_000, CatalogSeeder.DefaultBatchSize),
        ["large"] = new(100_000, 500_000, 1_000_000, CatalogSeeder.DefaultBatchSize),
    };

    public const int MaxRows = 10_000_000;

    public static bool TryCreate(
        string size, int? products, int? orders, int? reviews, int batchSize,
        [NotNullWhen(true)] out SeedPlan? plan, [NotNullWhen(false)] out string? error)
    {
        plan = null;
        if (!Sizes.TryGetValue(size, out var named))
        {
            error = $"--size must be one of: {string.Join(", ", Sizes.Keys)}.";
            return false;
        }

        var candidate = new SeedPlan(products ?? named.Products, orders ?? named.Orders, reviews ?? named.Reviews, batchSize);
        error = candidate switch
        {
            { Products: < 0 or > MaxRows } => $"--products must be between 0 and {MaxRows:N0}.",
            { Orders: < 0 or > MaxRows } => $"--orders must be between 0 and {MaxRows:N0}.",
            { Reviews: < 0 or > MaxRows } => $"--reviews must be between 0 and {MaxRows:N0}.",
            { BatchSize: < 100 or > 100_000 } => "--batch-size must be between 100 and 100,000.",
            { Products: 0, Orders: > 0 } or { Products: 0, Reviews: > 0 } => "orders and reviews need at least one product.",
            _ => null,
        };
        if (error is not null)
        {
            return false;
        }

        plan = candidate;
        return true;
    }
}
