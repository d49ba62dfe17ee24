using System.ComponentModel.DataAnnotations;
using ExBuy.Infrastructure.Observability;
using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Marten;

/// <summary>Bound from <c>ExBuy:Writes</c>: the one retry budget of every Load → Decide → Commit write.</summary>
public sealed class WriteRetryOptions
{
    public const string Section = "ExBuy:Writes";

    /// <summary>
    /// A write that keeps finding stale state answers 409 once it has made this many attempts and spent
    /// <see cref="TimeoutMs"/>, whichever ends later: under a burst on one balance, each round lets one writer through,
    /// so the attempts alone would refuse the last writers of a burst however fast the machine is.
    /// </summary>
    [Range(1, 1_000)]
    public int MaxAttempts { get; set; } = 20;

    /// <inheritdoc cref="MaxAttempts"/>
    [Range(1, 60_000)]
    public int TimeoutMs { get; set; } = 5_000;

    /// <summary>Upper bound of the random pause between attempts (the window doubles per attempt up to this).</summary>
    [Range(1, 1_000)]
    public int MaxBackoffMs { get; set; } = 50;
}

/// <summary>
/// The one retry policy of the write side. A write is an attempt that loads what its decision reads, decides (a pure
/// function) and commits; when the commit finds that state changed underneath it — a revision or stream-version
/// conflict on a balance, an order or a coupon, or a <see cref="StaleDecisionException"/> — nothing was committed and
/// the whole attempt runs again from the load, never unchanged. Conflicts on product rows are the stock strategy's
/// own business and never reach this policy as long as the strategy can resolve them.
/// </summary>
public sealed class WriteRetry(IOptions<WriteRetryOptions> options)
{
    public static bool IsStale(Exception e) => e is StaleDecisionException || ConcurrencyConflicts.IsConflict(e);

    /// <param name="attempt">One Load → Decide → Commit; called again after a stale-state failure.</param>
    /// <param name="exhausted">The answer when every attempt found stale state.</param>
    public async Task<T> RunAsync<T>(string write, Func<CancellationToken, Task<T>> attempt, Func<T> exhausted, CancellationToken ct)
    {
        var settings = options.Value;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var n = 1; ; n++)
        {
            try
            {
                return await attempt(ct);
            }
            catch (Exception e) when (IsStale(e))
            {
                ExBuyMetrics.WriteRetries.WithLabels(write).Inc();
                if (n >= settings.MaxAttempts && System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds >= settings.TimeoutMs)
                {
                    return exhausted();
                }

                // Full jitter over a window that doubles per attempt: losers do not come back in lockstep.
                var window = Math.Min(settings.MaxBackoffMs, 1 << Math.Min(n, 10));
                await Task.Delay(Random.Shared.Next(1, window + 1), ct);
            }
        }
    }
}
