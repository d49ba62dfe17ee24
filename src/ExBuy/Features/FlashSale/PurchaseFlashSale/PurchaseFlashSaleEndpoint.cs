using ExBuy.Features.Inventory;
using FastEndpoints;
using FluentValidation;

namespace ExBuy.Features.FlashSale.PurchaseFlashSale;

public sealed class PurchaseFlashSaleRequest
{
    public const int MaxQuantity = 100;

    public long Id { get; init; }
    public long? UserId { get; init; }
    public int? Quantity { get; init; }

    [BindFrom(LockTypeParameter.Name)]
    public string? LockTypeName { get; init; }

    public sealed class Validator : Validator<PurchaseFlashSaleRequest>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).NotNull().GreaterThanOrEqualTo(1);
            RuleFor(x => x.Quantity).InclusiveBetween(1, MaxQuantity).When(x => x.Quantity is not null);
            LockTypeParameter.AddRule(this, x => x.LockTypeName);
        }
    }
}

public sealed record PurchaseFlashSaleResponse(string PurchaseId, long ProductId, long UserId, int Quantity, int RemainingStock, string LockType);

/// <summary>
/// <c>POST /api/flash-sales/{id}/purchase?lock_type=…</c>: many buyers, little stock. 201 with the
/// stock left, 409 when sold out (or the lock could not be had in time), 404 for an unknown product.
/// </summary>
public sealed class PurchaseFlashSaleEndpoint(StockStrategies strategies, TimeProvider clock) : Endpoint<PurchaseFlashSaleRequest, PurchaseFlashSaleResponse>
{
    public override void Configure()
    {
        Post("/api/flash-sales/{id:long}/purchase");
        Tags("flash-sale");
    }

    public override async Task HandleAsync(PurchaseFlashSaleRequest req, CancellationToken ct)
    {
        var strategy = strategies.For(LockTypeParameter.Parse(req.LockTypeName));
        var line = new StockLine(req.Id, req.Quantity ?? 1);
        var purchaseId = Guid.CreateVersion7().ToString();

        var outcome = await strategy.TakeAsync(
            [line],
            session => session.Events.StartStream(
                $"purchase-{purchaseId}",
                new StockReserved(line.ProductId, line.Quantity, StockSources.FlashSale, strategy.Type.ToWire(), req.UserId, clock.GetUtcNow())),
            ct);

        if (outcome is not StockOutcome.Taken taken)
        {
            await Send.ResultAsync(StockResponses.Refusal(outcome, insufficientStatus: StatusCodes.Status409Conflict));
            return;
        }

        await Send.ResponseAsync(
            new PurchaseFlashSaleResponse(purchaseId, line.ProductId, req.UserId!.Value, line.Quantity, taken.Remaining[line.ProductId], strategy.Type.ToWire()),
            StatusCodes.Status201Created,
            ct);
    }
}
