using System.ComponentModel.DataAnnotations;

namespace ExBuy.Features.Inventory;

/// <summary>Bound from <c>ExBuy:Concurrency</c>.</summary>
public sealed class ConcurrencyOptions
{
    public const string Section = "ExBuy:Concurrency";

    /// <summary>Used when a request names no <c>lock_type</c>. <c>none</c> is refused here.</summary>
    public LockType DefaultLockType { get; set; } = LockType.Atomic;

    /// <summary>How long a request may wait for a Redis lock or a PostgreSQL row lock, or keep retrying optimistically, before answering 409.</summary>
    [Range(1, 60_000)]
    public int LockTimeoutMs { get; set; } = 5_000;

    /// <summary>Attempts the optimistic strategy makes before answering 409 — once <see cref="LockTimeoutMs"/> has passed too.</summary>
    [Range(1, 1_000)]
    public int OptimisticMaxAttempts { get; set; } = 100;

    /// <summary>Upper bound of the random back-off between optimistic attempts (the window doubles per attempt up to this).</summary>
    [Range(1, 1_000)]
    public int OptimisticMaxBackoffMs { get; set; } = 50;

    /// <summary>
    /// The <c>none</c> strategy pauses this long between its read and its write, standing in for the work a real
    /// handler does there, so that the lost updates it allows show up reliably in a demonstration.
    /// </summary>
    [Range(0, 1_000)]
    public int UnsafeWindowMs { get; set; } = 5;

    /// <summary>The most requests one <c>batched</c> commit takes; more wait for the next.</summary>
    [Range(1, 10_000)]
    public int BatchMaxSize { get; set; } = 256;

    public TimeSpan LockTimeout => TimeSpan.FromMilliseconds(LockTimeoutMs);
}
