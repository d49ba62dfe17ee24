using ExBuy.Features.Inventory;
using ExBuy.Features.Orders.PlaceOrder;
using FastEndpoints;
using FluentValidation;
using Marten;

namespace ExBuy.Features.Orders.PlaceBulkOrders;

public sealed class BulkOrderBody : OrderRequestBody
{
    public sealed class Validator : AbstractValidator<BulkOrderBody>
    {
        public Validator() => AddRules(this);
    }
}

public sealed class PlaceBulkOrdersRequest
{
    public const int MaxOrders = 1_000;

    public List<BulkOrderBody>? Orders { get; init; }

    [BindFrom(LockTypeParameter.Name)]
    public string? LockTypeName { get; init; }

    public sealed class Validator : Validator<PlaceBulkOrdersRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Orders).NotEmpty()
                .Must(o => o is null || o.Count <= MaxOrders).WithMessage($"At most {MaxOrders} orders per request.");
            // One by one only when the count rule passed: 100,000 orders are one error, not one per order.
            RuleForEach(x => x.Orders).NotNull().SetValidator(new BulkOrderBody.Validator())
                .When(x => x.Orders is null || x.Orders.Count <= MaxOrders);
            LockTypeParameter.AddRule(this, x => x.LockTypeName);
        }
    }
}

public sealed record PlaceBulkOrdersResponse(int Created, IReadOnlyList<long> OrderIds);

/// <summary>
/// <c>POST /api/orders/bulk</c>: up to 1,000 orders, all or nothing. The stock of every order is summed per
/// product and taken in one strategy run, so one short product refuses the whole batch.
/// </summary>
public sealed class PlaceBulkOrdersEndpoint(StockStrategies strategies, IDocumentStore store, TimeProvider clock, Microsoft.Extensions.Options.IOptions<OrderLimitsOptions> limits) : Endpoint<PlaceBulkOrdersRequest, PlaceBulkOrdersResponse>
{
    public override void Configure()
    {
        Post("/api/orders/bulk");
        Tags("orders");
    }

    public override async Task HandleAsync(PlaceBulkOrdersRequest req, CancellationToken ct)
    {
        var strategy = strategies.For(LockTypeParameter.Parse(req.LockTypeName));
        var newOrders = req.Orders!.Select(o => o.ToNewOrder()).ToList();
        if (OrderLimits.TooManyProducts(newOrders.SelectMany(o => o.Lines), limits.Value) is { } tooMany)
        {
            AddError(new FluentValidation.Results.ValidationFailure("orders", tooMany));
        }

        for (var i = 0; i < newOrders.Count; i++)
        {
            foreach (var breach in OrderLimits.Breaches(newOrders[i].Lines, limits.Value))
            {
                AddError(new FluentValidation.Results.ValidationFailure($"orders[{i}].items", breach));
            }
        }

        ThrowIfAnyErrors();
        var (products, missing, placed) = await OrderWriter.PrepareAsync(store, newOrders, ct);
        if (missing.Count > 0)
        {
            await Send.ResultAsync(StockResponses.Refusal(new StockOutcome.Missing(missing)));
            return;
        }

        var outcome = await strategy.TakeAsync(
            StockDecider.Demand(newOrders.SelectMany(o => o.Lines)),
            session => OrderWriter.Record(session, placed, newOrders, products, strategy.Type, clock.GetUtcNow()),
            ct);

        if (outcome is not StockOutcome.Taken)
        {
            await Send.ResultAsync(StockResponses.Refusal(outcome));
            return;
        }

        await Send.ResponseAsync(new PlaceBulkOrdersResponse(placed.Count, placed.Select(o => o.Id).ToList()), StatusCodes.Status201Created, ct);
    }
}
