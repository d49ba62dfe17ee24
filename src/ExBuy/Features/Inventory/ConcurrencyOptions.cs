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

    /// <summary>
    /// A Medallion Redis lock is waited for by polling: the sleep between attempts is drawn from
    /// [<see cref="LockPollMinMs"/>, <see cref="LockPollMaxMs"/>]. Medallion's default, 10–800 ms, leaves a lock free
    /// for hundreds of milliseconds while its waiters sleep (write-heavy at 30 VUs measured p99 ≈ 1.1 s for the
    /// pessimistic and redlock strategies); a short poll hands it on within milliseconds at the cost of more
    /// Redis round trips from waiters.
    /// </summary>
    [Range(1, 1_000)]
    public int LockPollMinMs { get; set; } = 1;

    /// <inheritdoc cref="LockPollMinMs"/>
    [Range(1, 1_000)]
    public int LockPollMaxMs { get; set; } = 20;

    public TimeSpan LockTimeout => TimeSpan.FromMilliseconds(LockTimeoutMs);
}
