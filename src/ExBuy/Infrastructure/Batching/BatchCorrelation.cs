namespace ExBuy.Infrastructure.Batching;

/// <summary>
/// A group commit writes for many requests in one session, so the session-wide stamping of events with the current
/// request id (<c>RequestCorrelationListener</c>) would give every event the committer's id, or none. The committer
/// stamps each request's events with that request's id itself and commits inside <see cref="Begin"/>, where the
/// listener leaves the events as they are.
/// </summary>
public static class BatchCorrelation
{
    private static readonly AsyncLocal<bool> Stamped = new();

    /// <summary>True while a group commit whose events carry their own request ids is being saved.</summary>
    public static bool EventsStamped => Stamped.Value;

    public static Scope Begin()
    {
        Stamped.Value = true;
        return default;
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => Stamped.Value = false;
    }
}
