using ExBuy.Infrastructure.Http;

namespace ExBuy.Features.Inventory;

/// <summary>The one place where a refused stock outcome becomes an HTTP answer.</summary>
public static class StockResponses
{
    /// <param name="insufficientStatus">400 for orders and reservations (the contract), 409 for flash-sale purchases ("sold out").</param>
    public static IResult Refusal(StockOutcome outcome, int insufficientStatus = StatusCodes.Status400BadRequest) => outcome switch
    {
        StockOutcome.Missing m => ErrorMessage.Result(StatusCodes.Status404NotFound, $"Product {string.Join(", ", m.ProductIds)} not found."),
        StockOutcome.Insufficient i => ErrorMessage.Result(
            insufficientStatus, $"Not enough stock for product {i.ProductId}: {i.Available} left, {i.Requested} requested."),
        StockOutcome.Busy b => ErrorMessage.Result(StatusCodes.Status409Conflict, $"Busy, try again: {b.Reason}."),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "a taken outcome is not a refusal"),
    };
}
