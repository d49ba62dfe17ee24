namespace ExBuy.Features.Reviews;

public sealed class Review
{
    public long Id { get; set; }
    public long ProductId { get; set; }
    public long UserId { get; set; }
    public int Rating { get; set; }
    public string Body { get; set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; set; }
}
