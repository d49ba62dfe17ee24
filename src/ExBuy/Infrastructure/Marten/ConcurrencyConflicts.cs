using JasperFx;

namespace ExBuy.Infrastructure.Marten;

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

    /// <summary>
    /// True when every conflict in <paramref name="exception"/> is a revision conflict on a <typeparamref name="T"/>
    /// document: the optimistic stock strategy retries those itself; any other conflict (a balance stream, a coupon,
    /// an order) means the caller decided on stale state and must load and decide again.
    /// </summary>
    public static bool IsConflictOn<T>(Exception exception) => exception switch
    {
        ConcurrencyException concurrency => concurrency.DocType == typeof(T).FullName,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsConflictOn<T>),
        _ => false,
    };
}

/// <summary>
/// Thrown inside a commit when what a decision was based on no longer holds (a price changed between the load and
/// the stock take, a concurrent request stored the same idempotency key). Nothing is committed; <see cref="WriteRetry"/>
/// loads and decides again.
/// </summary>
public sealed class StaleDecisionException(string reason, Exception? inner = null) : Exception(reason, inner);
