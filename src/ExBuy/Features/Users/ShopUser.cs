namespace ExBuy.Features.Users;

/// <summary>A shop user: a name such as <c>u17</c>; the id is what the shop routes work with.</summary>
public sealed class ShopUser
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
