namespace ExBuy.Infrastructure.Batching;

/// <summary>
/// The time the current request spent waiting for group-commit batches (the <c>batch</c> phase of its timing). A
/// caller that wants it opens a scope (<see cref="Begin"/>) before the work and reads <see cref="Waited"/> after;
/// the batched strategies add to it from the request's own async flow. Without a scope nothing is recorded.
/// </summary>
public sealed class BatchTiming
{
    private static readonly AsyncLocal<BatchTiming?> CurrentScope = new();

    private long _waitedTicks;

    public static BatchTiming? Current => CurrentScope.Value;

    /// <summary>Starts recording for the current async flow (a request); the returned timing is the one its batches add to.</summary>
    public static BatchTiming Begin() => CurrentScope.Value = new BatchTiming();

    /// <summary>Adds a wait to the current scope, if there is one.</summary>
    public static void Record(TimeSpan waited)
    {
        if (CurrentScope.Value is { } timing)
        {
            Interlocked.Add(ref timing._waitedTicks, waited.Ticks);
        }
    }

    public TimeSpan Waited => TimeSpan.FromTicks(Interlocked.Read(ref _waitedTicks));
}
