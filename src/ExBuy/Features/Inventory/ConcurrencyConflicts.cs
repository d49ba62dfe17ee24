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
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsConflict),
        _ => false,
    };
}
