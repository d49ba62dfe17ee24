using ExBuy.Features.Users;
using System.Text.Json.Serialization;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Security;
using FastEndpoints;
using FluentValidation;
using Marten;
using Npgsql;

namespace ExBuy.Features.Seeding.Init;

/// <summary>Optional body of <c>POST /init</c>; every number has the scenario's default.</summary>
public sealed class InitRequest
{
    [JsonPropertyName("userCount")] public int? UserCount { get; init; }
    [JsonPropertyName("productCount")] public int? ProductCount { get; init; }
    [JsonPropertyName("stock")] public int? Stock { get; init; }
    [JsonPropertyName("price")] public long? Price { get; init; }
    [JsonPropertyName("policyCount")] public int? PolicyCount { get; init; }
    [JsonPropertyName("couponQuantity")] public int? CouponQuantity { get; init; }
    [JsonPropertyName("discount")] public long? Discount { get; init; }

    public sealed class Validator : AbstractValidator<InitRequest>
    {
        public Validator()
        {
            RuleFor(x => x.UserCount).InclusiveBetween(0, 200_000).OverridePropertyName("userCount");
            RuleFor(x => x.ProductCount).InclusiveBetween(1, 100).OverridePropertyName("productCount");
            RuleFor(x => x.Stock).InclusiveBetween(0, 100_000_000).OverridePropertyName("stock");
            RuleFor(x => x.Price).InclusiveBetween(1, 100_000_000).OverridePropertyName("price");
            RuleFor(x => x.PolicyCount).InclusiveBetween(0, 100).OverridePropertyName("policyCount");
            RuleFor(x => x.CouponQuantity).InclusiveBetween(0, 10_000_000).OverridePropertyName("couponQuantity");
            RuleFor(x => x.Discount).InclusiveBetween(0, 100_000_000).OverridePropertyName("discount");
        }
    }
}

public sealed record InitResponse(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("policyIds")] IReadOnlyList<long> PolicyIds,
    [property: JsonPropertyName("productIds")] IReadOnlyList<long> ProductIds,
    [property: JsonPropertyName("userCount")] int UserCount,
    [property: JsonPropertyName("userIds")] IReadOnlyList<long> UserIds);

/// <summary>
/// <c>POST /init</c> (the Spring shop's boot-time data initializer, as a route): each module clears its part of the previous
/// shop-flow state and sets up its part of the next (<see cref="ShopFlowSeeding"/>, every <see cref="IModuleSeed"/>):
/// users u1..uN, products p1..p5 (price 2,000, ample stock), five coupon policies (discount 2,000, a limited
/// quantity, open in Redis too) and a three-day ranking (500, 400, 300, 200, 100 per day for p1..p5).
/// Admin-only outside the local profile. Inits take turns (<see cref="InitLock"/>): one sent while another runs, from
/// any API process, waits for it and then runs, so every 200 describes the shop that init set up and the last to run
/// is the one that stays; one that waits longer than <see cref="InitLock.MaxWait"/> is answered 409 and changes nothing.
/// </summary>
public sealed class InitEndpoint(
    IDocumentStore store, NpgsqlDataSource db, IEnumerable<IModuleSeed> modules, TimeProvider clock)
    : EndpointWithoutRequest<InitResponse>
{
    public const int DefaultUsers = 300;
    public const int DefaultProducts = 5;
    public const int DefaultStock = 1_000_000;
    public const long DefaultPrice = 2_000;
    public const int DefaultPolicies = 5;
    public const int DefaultCouponQuantity = 100;
    public const long DefaultDiscount = 2_000;

    public override void Configure()
    {
        Post("/init");
        PreProcessor<AdminOnly<EmptyRequest>>();
        Tags("shop-flow", "admin");
    }

    // The scenario posts no body at all; a JSON body, when there is one, overrides the numbers.
    public override async Task HandleAsync(CancellationToken ct)
    {
        var req = await ReadOverridesAsync(ct);
        if (req is null)
        {
            await Send.ErrorsAsync(cancellation: ct);
            return;
        }

        await using var turn = await InitLock.TakeAsync(db, ct);
        if (turn is null)
        {
            await Send.ResultAsync(ExBuy.Infrastructure.Http.ErrorMessage.Result(
                StatusCodes.Status409Conflict, $"Another /init has been running for over {InitLock.MaxWait.TotalSeconds:0} s; retry when it has finished."));
            return;
        }

        var plan = new ShopFlowPlan(
            req.UserCount ?? DefaultUsers, req.ProductCount ?? DefaultProducts, req.Stock ?? DefaultStock, req.Price ?? DefaultPrice,
            req.PolicyCount ?? DefaultPolicies, req.CouponQuantity ?? DefaultCouponQuantity, req.Discount ?? DefaultDiscount);
        var seed = await ShopFlowSeeding.RunAsync(modules, store, plan, clock.GetUtcNow(), ct);
        var users = seed.UserIds.Select((id, i) => new ShopUser { Id = id, Name = $"u{i + 1}" }).ToList();

        await Send.OkAsync(new InitResponse("Shop flow initialized.", seed.PolicyIds, seed.ProductIds, plan.UserCount, UserIdRanges(users)), ct);
    }

    /// <summary>
    /// The new users' ids as [first, last] pairs of consecutive runs (one pair unless another request took ids from
    /// the sequence meanwhile), so a load script can pick users at random without asking for each one.
    /// </summary>
    internal static List<long> UserIdRanges(IReadOnlyList<ShopUser> users)
    {
        var ranges = new List<long>();
        for (var i = 0; i < users.Count; i++)
        {
            if (i == 0 || users[i].Id != users[i - 1].Id + 1)
            {
                ranges.Add(users[i].Id);
                ranges.Add(users[i].Id);
            }
            else
            {
                ranges[^1] = users[i].Id;
            }
        }

        return ranges;
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private async Task<InitRequest?> ReadOverridesAsync(CancellationToken ct)
    {
        string body;
        try
        {
            body = await new StreamReader(HttpContext.Request.Body, StrictUtf8).ReadToEndAsync(ct);
        }
        catch (System.Text.DecoderFallbackException)
        {
            AddError(new FluentValidation.Results.ValidationFailure("body", "The init overrides are not UTF-8 text."));
            return null;
        }

        // A body is read as JSON only when it says so: anything else is a mistake, not "no overrides".
        if (!string.IsNullOrWhiteSpace(body) && !HttpContext.Request.HasJsonContentType())
        {
            AddError(new FluentValidation.Results.ValidationFailure("body", "Send the init overrides as application/json."));
            return null;
        }

        InitRequest request;
        try
        {
            request = string.IsNullOrWhiteSpace(body) || body.Trim() == "null"
                ? new InitRequest()
                : System.Text.Json.JsonSerializer.Deserialize<InitRequest>(body, ExBuy.Infrastructure.Http.ExBuyJson.Options) ?? new InitRequest();
        }
        catch (System.Text.Json.JsonException e)
        {
            AddError(new FluentValidation.Results.ValidationFailure("body", $"Not valid JSON for the init overrides: {e.Message}"));
            return null;
        }

        var result = await new InitRequest.Validator().ValidateAsync(request, ct);
        foreach (var failure in result.Errors)
        {
            AddError(failure);
        }

        return result.IsValid ? request : null;
    }
}
