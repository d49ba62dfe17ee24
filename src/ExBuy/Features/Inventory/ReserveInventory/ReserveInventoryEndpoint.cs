using FastEndpoints;
using FluentValidation;

namespace ExBuy.Features.Inventory.ReserveInventory;

public sealed class ReserveInventoryRequest
{
    public const int MaxQuantity = 10_000;

    public long? ProductId { get; init; }
    public int? Quantity { get; init; }

    [BindFrom(LockTypeParameter.Name)]
    public string? LockTypeName { get; init; }

    public sealed class Validator : Validator<ReserveInventoryRequest>
    {
        public Validator()
        {
            RuleFor(x => x.ProductId).NotNull().GreaterThanOrEqualTo(1);
            RuleFor(x => x.Quantity).NotNull().InclusiveBetween(1, MaxQuantity);
            LockTypeParameter.AddRule(this, x => x.LockTypeName);
        }
    }
}

public sealed record ReserveInventoryResponse(long ProductId, int Reserved, int RemainingStock);

/// <summary><c>POST /api/inventory/reserve?lock_type=…</c>: takes stock with the chosen strategy and records a <see cref="StockReserved"/> event.</summary>
public sealed class ReserveInventoryEndpoint(StockStrategies strategies, TimeProvider clock) : Endpoint<ReserveInventoryRequest, ReserveInventoryResponse>
{
    public override void Configure()
    {
        Post("/api/inventory/reserve");
        Tags("inventory");
    }

    public override async Task HandleAsync(ReserveInventoryRequest req, CancellationToken ct)
    {
        var strategy = strategies.For(LockTypeParameter.Parse(req.LockTypeName));
        var line = new StockLine(req.ProductId!.Value, req.Quantity!.Value);

        var outcome = await strategy.TakeAsync(
            [line],
            session => session.Events.StartStream(
                $"reservation-{Guid.CreateVersion7()}",
                new StockReserved(line.ProductId, line.Quantity, StockSources.Reservation, strategy.Type.ToWire(), null, clock.GetUtcNow())),
            ct);

        if (outcome is not StockOutcome.Taken taken)
        {
            await Send.ResultAsync(StockResponses.Refusal(outcome));
            return;
        }

        await Send.OkAsync(new ReserveInventoryResponse(line.ProductId, line.Quantity, taken.Remaining[line.ProductId]), ct);
    }
}
