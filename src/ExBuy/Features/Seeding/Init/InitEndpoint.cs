using ExBuy.Features.Users;
using ExBuy.Features.Orders;
using System.Text.Json.Serialization;
using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Features.Balance;
using ExBuy.Features.Coupons;
using ExBuy.Features.Rankings;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Security;
using FastEndpoints;
using FluentValidation;
using Marten;
using Npgsql;
using Weasel.Core;

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
/// <c>POST /init</c> (the Spring shop's boot-time data initializer, as a route): clears the previous shop-flow state and sets up
/// users u1..uN, products p1..p5 (price 2,000, ample stock), five coupon policies (discount 2,000, a limited
/// quantity, open in Redis too) and a three-day ranking (500, 400, 300, 200, 100 per day for p1..p5).
/// Admin-only outside the local profile. Inits take turns (<see cref="InitLock"/>): one sent while another runs, from
/// any API process, waits for it and then runs, so every 200 describes the shop that init set up and the last to run
/// is the one that stays; one that waits longer than <see cref="InitLock.MaxWait"/> is answered 409 and changes nothing.
/// </summary>
public sealed class InitEndpoint(
    IDocumentStore store, NpgsqlDataSource db, CouponGate gate, SalesRanking ranking, RedisStock redisStock, StackExchange.Redis.IConnectionMultiplexer redis, TimeProvider clock)
    : EndpointWithoutRequest<InitResponse>
{
    public const int DefaultUsers = 300;
    public const int DefaultProducts = 5;
    public const int DefaultStock = 1_000_000;
    public const long DefaultPrice = 2_000;
    public const int DefaultPolicies = 5;
    public const int DefaultCouponQuantity = 100;
    public const long DefaultDiscount = 2_000;
    private static readonly int[] RankScores = [500, 400, 300, 200, 100];

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

        var now = clock.GetUtcNow();
        await ClearAsync(ct);

        var productCount = req.ProductCount ?? DefaultProducts;
        var stock = req.Stock ?? DefaultStock;
        var productIds = await IdSequences.NextAsync<Product>(store, productCount, ct);
        var products = productIds.Select((id, i) => new Product
        {
            Id = id, Name = $"p{i + 1}", Description = "Shop-flow product", Category = "electronics",
            Price = req.Price ?? DefaultPrice, CreatedAt = now, UpdatedAt = now,
        }).ToList();

        var policyCount = req.PolicyCount ?? DefaultPolicies;
        var quantity = req.CouponQuantity ?? DefaultCouponQuantity;
        var policyIds = await IdSequences.NextAsync<CouponPolicy>(store, policyCount, ct);
        var policies = policyIds.Select(id => new CouponPolicy
        {
            Id = id, Discount = req.Discount ?? DefaultDiscount,
            StartsAt = now.AddMinutes(-1), EndsAt = now.AddDays(3),
        }).ToList();

        var userCount = req.UserCount ?? DefaultUsers;
        var userIds = await IdSequences.NextAsync<ShopUser>(store, Math.Max(userCount, 1), ct);
        var users = Enumerable.Range(0, userCount).Select(i => new ShopUser { Id = userIds[i], Name = $"u{i + 1}", CreatedAt = now }).ToList();

        await using (var session = store.LightweightSession())
        {
            session.Insert(products.ToArray());
            ProductStock.QueueCreate(session, productIds.Select(id => (id, stock)).ToList());
            session.Insert(policies.ToArray());
            CouponPolicyStock.QueueOpen(session, policyIds, quantity);
            session.Store(new StorefrontState { ProductIds = [.. productIds], PolicyIds = [.. policyIds], InitializedAt = now });
            await session.SaveChangesAsync(ct);
        }

        if (users.Count > 0)
        {
            await store.BulkInsertAsync(users, BulkInsertMode.InsertsOnly, 5_000, ct);
        }

        foreach (var policy in policies)
        {
            await gate.OpenAsync(policy.Id, quantity);
        }

        foreach (var product in products)
        {
            await redisStock.InitializeAsync(product.Id, stock, overwrite: true);
        }

        await ranking.ResetAsync(
            [.. Enumerable.Range(0, SalesRanking.Days).SelectMany(day => products.Take(RankScores.Length).Select((p, i) => new SeededSale(ranking.Today.AddDays(-day), p.Id, RankScores[i])))],
            ct);

        await Send.OkAsync(new InitResponse("Shop flow initialized.", policyIds, productIds, userCount, UserIdRanges(users)), ct);
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

    // The previous run's users, coupons, balances and products go; orders and events stay as history. What they kept in
    // Redis goes with them: every coupon gate (every policy is deleted above, so every gate is a leftover) and the
    // previous products' stock copies; without this the keys of every earlier run accumulated.
    private async Task ClearAsync(CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var previous = await session.LoadAsync<StorefrontState>(StorefrontState.CurrentId, ct);
        session.DeleteWhere<ShopUser>(_ => true);
        session.DeleteWhere<Coupon>(_ => true);
        session.DeleteWhere<CouponPolicy>(_ => true);
        session.DeleteWhere<UserBalance>(_ => true);
        session.DeleteWhere<IdempotencyRecord>(_ => true);
        if (previous is not null)
        {
            foreach (var id in previous.ProductIds)
            {
                session.Delete<Product>(id);
            }

            ProductStock.QueueDelete(session, previous.ProductIds);
        }

        await session.SaveChangesAsync(ct);
        await CouponClaims.ClearAsync(store, ct);
        await gate.DeleteAllAsync();
        if (previous is { ProductIds.Count: > 0 })
        {
            await redis.GetDatabase().KeyDeleteAsync([.. previous.ProductIds.Select(RedisStock.Key)]);
        }
    }
}
