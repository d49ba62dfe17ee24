using Marten;

namespace ExBuy.Infrastructure.Marten;

/// <summary>The numbers of one shop-flow seed (<c>POST /init</c>), every one already defaulted and validated.</summary>
public sealed record ShopFlowPlan(int UserCount, int ProductCount, int Stock, long Price, int PolicyCount, int CouponQuantity, long Discount);

/// <summary>
/// One shop-flow seed as it goes through the modules: the plan and the clock, and what each module set up for the
/// ones after it (the owners' ids). A module writes only its own part; the others read it.
/// </summary>
public sealed class ShopFlowSeed(ShopFlowPlan plan, DateTimeOffset now)
{
    public ShopFlowPlan Plan { get; } = plan;

    public DateTimeOffset Now { get; } = now;

    /// <summary>The previous seed's products (set by Catalog as it clears them), whose stock and Redis copies go too.</summary>
    public IReadOnlyList<long> PreviousProductIds { get; set; } = [];

    /// <summary>This seed's products, p1..pN in order (set by Catalog).</summary>
    public IReadOnlyList<long> ProductIds { get; set; } = [];

    /// <summary>This seed's coupon policies (set by Coupons).</summary>
    public IReadOnlyList<long> PolicyIds { get; set; } = [];

    /// <summary>This seed's users' ids, u1..uN in order (set by Users).</summary>
    public IReadOnlyList<long> UserIds { get; set; } = [];
}

/// <summary>When a module's part of a seed runs: the owners create what the dependents refer to.</summary>
public enum SeedStage
{
    /// <summary>Creates the shop's entities and their ids (products, policies, users), or only clears.</summary>
    Owners = 0,

    /// <summary>Refers to the owners' ids (stock rows, rankings, the storefront record).</summary>
    Dependents = 1,
}

/// <summary>
/// A module's part of the shop-flow seed (<c>POST /init</c>): what it clears of the previous seed and what it sets up
/// for the next, beside <see cref="IModuleReset"/> (the full reset). Each module implements and registers its own, so
/// the seeding slice writes no module's state. Every module's document changes go into one unit of work for the
/// clearing and one for the seeding (each committed once, as before); what lives outside it (Redis keys, COPY bulk
/// inserts, a module's own tables) runs after that commit. Modules run by <see cref="Stage"/>, then in registration order.
/// </summary>
public interface IModuleSeed
{
    SeedStage Stage { get; }

    /// <summary>Queues the deletion of the previous seed's documents into the clearing unit of work.</summary>
    Task QueueClearAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct) => Task.CompletedTask;

    /// <summary>After the clearing commit: what the previous seed left outside Marten's unit of work.</summary>
    Task AfterClearAsync(ShopFlowSeed seed, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Queues this seed's documents into the seeding unit of work (and sets the ids the module owns).</summary>
    Task QueueSeedAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct) => Task.CompletedTask;

    /// <summary>After the seeding commit: what this seed sets up outside Marten's unit of work.</summary>
    Task AfterSeedAsync(ShopFlowSeed seed, CancellationToken ct) => Task.CompletedTask;
}
