using ExBuy.Infrastructure.Http;
using Marten;
using Marten.Services;

namespace ExBuy.Infrastructure.Marten;

/// <summary>
/// Stamps every event a request commits with the request's id (<see cref="RequestIds"/>) as Marten's correlation id
/// (<c>mt_events.correlation_id</c>), whichever slice appended it. Work that runs for no request, or for a request without the header, stamps nothing (not even the trace id Marten would).
/// </summary>
public sealed class RequestCorrelationListener : DocumentSessionListenerBase
{
    public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        // Always set, also to null: Marten would otherwise stamp the current trace's id, and the column is to hold a
        // client's request id or nothing.
        if (ExBuy.Infrastructure.Batching.BatchCorrelation.EventsStamped)
        {
            return Task.CompletedTask; // a group commit: each request's events carry its own id already
        }

        var id = RequestIds.Current;
        session.CorrelationId = id;
        foreach (var stream in session.PendingChanges.Streams())
        {
            foreach (var e in stream.Events)
            {
                e.CorrelationId = id;
            }
        }

        return Task.CompletedTask;
    }
}
