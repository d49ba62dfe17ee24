using JasperFx;

namespace ExBuy.Features.Inventory;

/// <summary>
/// Marten reports a revision conflict as a <see cref="ConcurrencyException"/>, or as an <see cref="AggregateException"/>
/// of them when several documents in one commit conflicted. Either way nothing was committed and a retry is safe.
/// </summary>
public static class ConcurrencyConflicts
{
    public static bool IsConflict(Exception exception) => exception switch
    {
        ConcurrencyException => true,
        // An event append at an expected version that someone else took (or a first append racing another
        // stream start): Marten's names for it have moved between versions, so they are matched by name.
        _ when exception.GetType().Name is "EventStreamUnexpectedMaxEventIdException" or "ExistingStreamIdCollisionException" => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsConflict),
        _ => false,
    };
}
