using ExBuy.Infrastructure.Http;

namespace ExBuy.Features.Inventory;

/// <summary>The one place where a refused stock outcome becomes an HTTP answer.</summary>
public static class StockResponses
{
    /// <param name="insufficientStatus">400 for orders and reservations (the contract), 409 for flash-sale purchases ("sold out").</param>
    public static IResult Refusal(StockOutcome outcome, int insufficientStatus = StatusCodes.Status400BadRequest) => outcome switch
    {
        StockOutcome.Missing m => TypedResults.Json(
            new ErrorMessage($"Product {string.Join(", ", m.ProductIds)} not found."), ExBuyJson.Options, statusCode: StatusCodes.Status404NotFound),
        StockOutcome.Insufficient i => TypedResults.Json(
            new ErrorMessage($"Not enough stock for product {i.ProductId}: {i.Available} left, {i.Requested} requested."),
            ExBuyJson.Options,
            statusCode: insufficientStatus),
        StockOutcome.Busy b => ErrorMessage.Result(StatusCodes.Status409Conflict, $"Busy, try again: {b.Reason}."),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "a taken outcome is not a refusal"),
    };
}
