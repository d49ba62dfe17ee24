using ExBuy.Features.Users;
using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Observability;
using FastEndpoints;
using Marten;
using Wolverine;

namespace ExBuy.Features.Coupons;

public sealed record ClaimCouponResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("userId")] long UserId,
    [property: System.Text.Json.Serialization.JsonPropertyName("policyId")] long PolicyId,
    [property: System.Text.Json.Serialization.JsonPropertyName("status")] string Status);

/// <summary>
/// <c>POST /coupons?userId=&amp;policyId=</c>: admitted in Redis and answered 201 before the database write, which a
/// Wolverine handler does from a durable queue. 409 sold out or already claimed; 400 unknown user, unknown or
/// inactive policy (the scenario accepts only 201/400/409).
/// </summary>
public sealed class ClaimCouponEndpoint(IQuerySession session, CouponGate gate, IMessageBus bus, TimeProvider clock)
    : EndpointWithoutRequest<ClaimCouponResponse>
{
    public override void Configure()
    {
        Post("/coupons");
        Tags("shop-flow");
    }

    // The scenario posts no body (and no content type): the ids come from the query string alone.
    public override async Task HandleAsync(CancellationToken ct)
    {
        var userId = PositiveId("userId");
        var policyId = PositiveId("policyId");
        if (ValidationFailed)
        {
            await Send.ErrorsAsync(cancellation: ct);
            return;
        }

        // Policy and user in one round trip.
        var batch = session.CreateBatchQuery();
        var policyLoad = batch.Load<CouponPolicy>(policyId);
        var userLoad = batch.Load<ShopUser>(userId);
        await batch.Execute(ct);
        var policy = await policyLoad;
        if (policy is null || !policy.IsActive(clock.GetUtcNow()))
        {
            await Refuse(StatusCodes.Status400BadRequest, policy is null ? $"Coupon policy {policyId} does not exist." : $"Coupon policy {policyId} is not active.");
            return;
        }

        if (await userLoad is null)
        {
            await Refuse(StatusCodes.Status400BadRequest, $"User {userId} does not exist.");
            return;
        }

        var admission = await gate.AdmitAsync(policyId, userId);
        ExBuyMetrics.Coupons.WithLabels(admission switch { Admission.Duplicate => "duplicate", Admission.SoldOut => "sold_out", _ => "admitted" }).Inc();
        switch (admission)
        {
            case Admission.Duplicate:
                await Refuse(StatusCodes.Status409Conflict, "This user already claimed a coupon of this policy.");
                return;
            case Admission.SoldOut:
                await Refuse(StatusCodes.Status409Conflict, "Sold out.");
                return;
        }

        await bus.PublishAsync(new IssueCoupon(policyId, userId));
        await Send.ResponseAsync(new ClaimCouponResponse(userId, policyId, "accepted"), StatusCodes.Status201Created, ct);
    }

    private long PositiveId(string name)
    {
        var raw = HttpContext.Request.Query[name].ToString();
        if (long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id >= 1)
        {
            return id;
        }

        AddError(new FluentValidation.Results.ValidationFailure(name, $"{name} must be a positive integer."));
        return 0;
    }

    private async Task Refuse(int status, string message) =>
        await Send.ResultAsync(ErrorMessage.Result(status, message));
}
