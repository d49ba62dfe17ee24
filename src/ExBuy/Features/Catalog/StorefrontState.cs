namespace ExBuy.Features.Catalog;

/// <summary>What <c>POST /init</c> set up last, so the next init can clear it and <c>GET /products</c> can list it.</summary>
public sealed class StorefrontState
{
    public const string CurrentId = "current";

    public string Id { get; set; } = CurrentId;
    public List<long> ProductIds { get; set; } = [];
    public List<long> PolicyIds { get; set; } = [];
    public DateTimeOffset InitializedAt { get; set; }
}
