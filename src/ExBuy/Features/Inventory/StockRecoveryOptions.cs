using System.ComponentModel.DataAnnotations;

namespace ExBuy.Features.Inventory;

/// <summary>Bound from <c>ExBuy:Stock</c>: how often the background repairs of the stock run (0 turns one off).</summary>
public sealed class StockRecoveryOptions
{
    public const string Section = "ExBuy:Stock";

    /// <summary>How often <see cref="StockHoldSweeper"/> releases abandoned holds and purges finished ones.</summary>
    [Range(0, 3_600_000)]
    public int SweepIntervalMs { get; set; } = 30_000;

    /// <summary>How often <see cref="StockReconciler"/> compares the Redis stock keys with the database.</summary>
    [Range(0, 3_600_000)]
    public int ReconcileIntervalMs { get; set; } = 5_000;
}
