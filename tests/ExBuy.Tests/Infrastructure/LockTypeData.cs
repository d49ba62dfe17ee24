namespace ExBuy.Tests.Infrastructure;

/// <summary>The contract's lock types, for theories that must hold for each of them.</summary>
public static class LockTypeData
{
    public static TheoryData<string> All => ["optimistic", "pessimistic", "redlock", "row", "atomic", "batched", "none"];

    /// <summary>Every strategy that promises never to oversell.</summary>
    public static TheoryData<string> Safe => ["optimistic", "pessimistic", "redlock", "row", "atomic", "batched"];
}
