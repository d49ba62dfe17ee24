namespace ExBuy.Features.Inventory;

/// <summary>Stock taken without an order: an inventory reservation or a flash-sale purchase.</summary>
public sealed record StockReserved(long ProductId, int Quantity, string Source, string LockType, long? BuyerId, DateTimeOffset At);

public static class StockSources
{
    public const string Reservation = "reservation";
    public const string FlashSale = "flash-sale";
}
