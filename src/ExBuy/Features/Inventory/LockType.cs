namespace ExBuy.Features.Inventory;

/// <summary>The concurrency-control strategies a stock-taking request can pick with <c>?lock_type=</c>.</summary>
public enum LockType
{
    /// <summary>Marten numeric revision check with bounded retry.</summary>
    Optimistic,

    /// <summary>Medallion Redis lock per product, taken in id order, held only around the stock change.</summary>
    Pessimistic,

    /// <summary>The same Medallion lock across several Redis nodes (RedLock quorum).</summary>
    Redlock,

    /// <summary>PostgreSQL <c>SELECT … FOR UPDATE</c> on the product rows inside the Marten transaction.</summary>
    Row,

    /// <summary>Redis atomic decrement as the gate, a conditional UPDATE as the authority, compensation on refusal.</summary>
    Atomic,

    /// <summary>Group commit: the requests that arrive while a batch commits are decided in arrival order and committed as one transaction.</summary>
    Batched,

    /// <summary>Deliberately unsafe read-modify-write, to show what the others prevent. Never a default.</summary>
    None,
}

public static class LockTypes
{
    public static readonly IReadOnlyList<string> Names = Enum.GetValues<LockType>().Select(ToWire).ToList();

    public static string ToWire(this LockType type) => type.ToString().ToLowerInvariant();

    public static bool TryParse(string? value, out LockType type)
    {
        type = default;
        return value is not null
            && Names.Contains(value)
            && Enum.TryParse(value, ignoreCase: true, out type);
    }
}
