using ExBuy.Features.Users;
using System.Text.Json.Serialization;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using FluentValidation;
using Marten;

namespace ExBuy.Features.Balance;

public sealed class UserBalanceRequest
{
    public long UserId { get; init; }
}

public sealed record BalanceResponse([property: JsonPropertyName("userId")] long UserId, [property: JsonPropertyName("balance")] decimal Balance)
{
    public static BalanceResponse Of(long userId, decimal balance) => new(userId, Money.Normalize(balance));
}

/// <summary><c>GET /users/{userId}/balance</c>.</summary>
public sealed class GetBalanceEndpoint(IQuerySession session) : Endpoint<UserBalanceRequest, BalanceResponse>
{
    public override void Configure()
    {
        Get("/users/{user_id:long}/balance");
        Tags("balance");
    }

    public override async Task HandleAsync(UserBalanceRequest req, CancellationToken ct)
    {
        if (await session.LoadAsync<ShopUser>(req.UserId, ct) is null)
        {
            await Send.ResultAsync(ErrorMessage.Result(404, $"User {req.UserId} does not exist."));
            return;
        }

        var balance = await BalanceStreams.CurrentAsync(session, req.UserId, ct);
        await Send.OkAsync(BalanceResponse.Of(req.UserId, balance.Balance), ct);
    }
}

public sealed class ChargeBalanceRequest
{
    /// <summary>The most one charge may add (a typo guard).</summary>
    public const long MaxAmount = 10_000_000;

    public long UserId { get; init; }

    /// <summary>A JSON number with at most two places, read as written (<see cref="ShopMoneyJsonConverter"/>).</summary>
    [JsonPropertyName("amount")]
    [JsonConverter(typeof(ShopMoneyJsonConverter))]
    public decimal? Amount { get; init; }

    public sealed class Validator : Validator<ChargeBalanceRequest>
    {
        public Validator() => RuleFor(x => x.Amount).NotNull().GreaterThan(0).LessThanOrEqualTo(MaxAmount)
            .Must(a => a is null || Money.HasAtMostCents(a.Value)).WithMessage($"amount may have at most {Money.MaxScale} decimal places.")
            .OverridePropertyName("amount");
    }
}

/// <summary>
/// <c>POST /users/{userId}/balance</c> <c>{"amount":10000}</c> → 201 with the balance after the charge. The charge is
/// appended to the user's ledger stream at the version the balance was read at (<see cref="ChargeBalanceHandler"/>):
/// a concurrent append makes the write load and decide again, so no charge is lost and the balance always equals the
/// sum of its ledger.
/// </summary>
public sealed class ChargeBalanceEndpoint(ChargeBalanceHandler handler) : Endpoint<ChargeBalanceRequest, BalanceResponse>
{
    public override void Configure()
    {
        Post("/users/{user_id:long}/balance");
        Tags("balance");
    }

    public override async Task HandleAsync(ChargeBalanceRequest req, CancellationToken ct)
    {
        var result = await handler.HandleAsync(new ChargeBalance(req.UserId, req.Amount!.Value), ct);
        if (result is ChargeResult.Charged charged)
        {
            await Send.ResponseAsync(BalanceResponse.Of(req.UserId, charged.Balance), StatusCodes.Status201Created, ct);
            return;
        }

        await Send.ResultAsync(result is ChargeResult.Refused refused
            ? ErrorMessage.Result(refused.Status, refused.Message)
            : throw new InvalidOperationException($"Unhandled result {result}"));
    }
}
