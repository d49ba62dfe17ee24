namespace ExBuy.Features.ShopFlow;

/// <summary>A shop-flow user (seed 001): a name such as <c>u17</c>; the id is what the scenario works with.</summary>
public sealed class ShopUser
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>What <c>POST /init</c> set up last, so the next init can clear it and <c>GET /products</c> can list it.</summary>
public sealed class ShopFlowState
{
    public const string CurrentId = "current";

    public string Id { get; set; } = CurrentId;
    public List<long> ProductIds { get; set; } = [];
    public List<long> PolicyIds { get; set; } = [];
    public DateTimeOffset InitializedAt { get; set; }
}
