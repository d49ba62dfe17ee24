using ExBuy.Features.Seeding.Init;
using ExBuy.Infrastructure.Marten;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Seeding;

/// <summary>
/// <c>/init</c> comes from the modules' own seeds (<see cref="IModuleSeed"/>): every module with shop-flow state
/// registers one, and a seed runs each registered one's four steps, clearing before seeding and owners before
/// dependents, with what each sets up really there afterwards.
/// </summary>
public sealed class ModuleSeedTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public void every_module_with_shop_flow_state_registers_a_seed()
    {
        var seeds = Host.Services.GetServices<IModuleSeed>().Select(s => s.GetType().Namespace).ToList();
        seeds.ShouldBe(
            ["ExBuy.Features.Catalog", "ExBuy.Features.Catalog", "ExBuy.Features.Coupons", "ExBuy.Features.Users", "ExBuy.Features.Balance",
             "ExBuy.Features.Orders", "ExBuy.Features.Inventory", "ExBuy.Features.Rankings"],
            ignoreOrder: true);
    }

    [Fact]
    public async Task a_seed_runs_every_registered_module_clear_before_seed_owners_before_dependents()
    {
        var log = new List<(string Step, IModuleSeed Module)>();
        var modules = Host.Services.GetServices<IModuleSeed>().ToList();
        var recorded = modules.Select(m => new Recording(m, log)).ToList();
        var plan = new ShopFlowPlan(UserCount: 4, ProductCount: 3, Stock: 9, Price: 1_500, PolicyCount: 2, CouponQuantity: 6, Discount: 300);

        var first = await ShopFlowSeeding.RunAsync(recorded, Store, plan, DateTimeOffset.UtcNow, Ct);

        string[] steps = ["QueueClear", "AfterClear", "QueueSeed", "AfterSeed"];
        log.Count.ShouldBe(modules.Count * steps.Length);
        foreach (var module in modules)
        {
            log.Where(l => ReferenceEquals(l.Module, module)).Select(l => l.Step).ShouldBe(steps, module.GetType().Name);
        }

        // Each step ran for every module before the next step began, owners first within it.
        log.Select(l => l.Step).ShouldBe(steps.SelectMany(s => Enumerable.Repeat(s, modules.Count)));
        foreach (var step in steps)
        {
            var stages = log.Where(l => l.Step == step).Select(l => l.Module.Stage).ToList();
            stages.ShouldBe(stages.Order().ToList(), step);
        }

        first.ProductIds.Count.ShouldBe(3);
        first.PolicyIds.Count.ShouldBe(2);
        first.UserIds.Count.ShouldBe(4);
        await using (var session = Store.QuerySession())
        {
            (await session.Query<ExBuy.Features.Catalog.Product>().Where(p => p.Price == 1_500).Select(p => p.Id).ToListAsync(Ct)).Order().ShouldBe(first.ProductIds);
            (await session.Query<ExBuy.Features.Coupons.CouponPolicy>().Select(p => p.Id).ToListAsync(Ct)).Order().ShouldBe(first.PolicyIds.Order());
            (await session.Query<ExBuy.Features.Users.ShopUser>().CountAsync(Ct)).ShouldBe(4);
            var state = (await session.LoadAsync<ExBuy.Features.Catalog.StorefrontState>(ExBuy.Features.Catalog.StorefrontState.CurrentId, Ct)).ShouldNotBeNull();
            state.ProductIds.ShouldBe(first.ProductIds);
            state.PolicyIds.ShouldBe(first.PolicyIds);
        }

        (await Host.GetJson("/products")).AsArray().ShouldAllBe(p => p!["stock"]!.GetValue<int>() == 9);

        // The second seed clears the first: its products are handed on to the dependents and gone afterwards.
        var second = await ShopFlowSeeding.RunAsync(modules, Store, plan with { ProductCount = 2 }, DateTimeOffset.UtcNow, Ct);
        second.PreviousProductIds.ShouldBe(first.ProductIds);
        await using (var session = Store.QuerySession())
        {
            (await session.Query<ExBuy.Features.Catalog.Product>().Where(p => p.Price == 1_500).Select(p => p.Id).ToListAsync(Ct)).Order().ShouldBe(second.ProductIds);
            (await session.Query<ExBuy.Features.Users.ShopUser>().CountAsync(Ct)).ShouldBe(4);
        }

        (await Host.GetJson("/products")).AsArray().Count.ShouldBe(2);
    }

    private sealed class Recording(IModuleSeed inner, List<(string Step, IModuleSeed Module)> log) : IModuleSeed
    {
        public SeedStage Stage => inner.Stage;

        public Task QueueClearAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
        {
            log.Add(("QueueClear", inner));
            return inner.QueueClearAsync(seed, session, ct);
        }

        public Task AfterClearAsync(ShopFlowSeed seed, CancellationToken ct)
        {
            log.Add(("AfterClear", inner));
            return inner.AfterClearAsync(seed, ct);
        }

        public Task QueueSeedAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
        {
            log.Add(("QueueSeed", inner));
            return inner.QueueSeedAsync(seed, session, ct);
        }

        public Task AfterSeedAsync(ShopFlowSeed seed, CancellationToken ct)
        {
            log.Add(("AfterSeed", inner));
            return inner.AfterSeedAsync(seed, ct);
        }
    }
}
