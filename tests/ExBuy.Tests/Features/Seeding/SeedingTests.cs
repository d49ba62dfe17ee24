using ExBuy.Features.Inventory;
using ExBuy.Features.Catalog;
using ExBuy.Features.Orders;
using ExBuy.Features.Reviews;
using ExBuy.Features.Seeding;
using ExBuy.Infrastructure.Marten;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Seeding;

public sealed class SeedingTests(AppFixture app) : IntegrationContext(app)
{
    private IEnumerable<IModuleReset> Resets => Host.Services.GetServices<IModuleReset>();

    [Fact]
    public async Task seeding_loads_a_consistent_catalogue()
    {
        var seeder = new CatalogSeeder(Store, TimeProvider.System, Resets);
        var result = await seeder.SeedAsync(new SeedPlan(Products: 250, Orders: 300, Reviews: 600, BatchSize: 100), _ => { }, Ct);
        result.ShouldBe(new SeedResult(250, 300, 600));

        await using var session = Store.QuerySession();
        var products = (await session.Query<Product>().ToListAsync(Ct)).OrderBy(p => p.Id).ToList();
        products.Count.ShouldBe(250);
        (await session.Events.QueryAllRawEvents().CountAsync(Ct)).ShouldBe(300, "one OrderPlaced per historical order");
        (products[^1].Id - products[0].Id).ShouldBe(249, "ids are contiguous");
        var stock = await ProductStock.ReadAsync(Store, products.Select(p => p.Id).ToList(), Ct);
        stock.Count.ShouldBe(250, "every product has its stock row");
        products.Take(CatalogSeeder.HotProducts).ShouldAllBe(p => stock[p.Id].Stock == CatalogSeeder.AmpleStock);
        products.ShouldAllBe(p => stock[p.Id].Stock >= 0 && p.Price > 0 && ProductCategories.IsValid(p.Category));
        (await Store.Reload(products[0].Id)).InitialStock.ShouldBe(CatalogSeeder.AmpleStock);

        var orders = await session.Query<Order>().ToListAsync(Ct);
        orders.Count.ShouldBe(300);
        orders.ShouldAllBe(o => o.Items.Count >= 1 && o.TotalPrice == o.Items.Sum(i => i.Subtotal) && OrderStatuses.IsValid(o.Status));
        orders.SelectMany(o => o.Items).ShouldAllBe(i => i.Subtotal == i.UnitPrice * i.Quantity);
        orders.SelectMany(o => o.Items.Select(i => i.Id)).Distinct().Count().ShouldBe(orders.Sum(o => o.Items.Count));
        var byId = products.ToDictionary(p => p.Id);
        orders.SelectMany(o => o.Items).ShouldAllBe(i => byId[i.ProductId].Price == i.UnitPrice && byId[i.ProductId].Name == i.ProductName);

        (await session.Query<Review>().CountAsync(Ct)).ShouldBe(600);
    }

    [Theory]
    [InlineData("book")]
    [InlineData("phone")]
    [InlineData("shirt")]
    [InlineData("laptop")]
    [InlineData("food")]
    [InlineData("home")]
    [InlineData("electronics")]
    public async Task the_k6_search_words_find_seeded_products(string word)
    {
        await new CatalogSeeder(Store, TimeProvider.System, Resets).SeedAsync(new SeedPlan(300, 0, 0, 1000), _ => { }, Ct);

        (await Host.GetJson($"/api/search/products?q={word}")).AsArray().Count.ShouldBeGreaterThan(0);
        (await Host.GetJson($"/api/products?q={word}"))["count"]!.GetValue<long>().ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task reset_removes_everything_and_numbers_from_one_again()
    {
        var redis = Host.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>();
        var seeder = new CatalogSeeder(Store, TimeProvider.System, Resets, redis);
        await seeder.SeedAsync(new SeedPlan(10, 5, 5, 100), _ => { }, Ct);
        (await seeder.HasProductsAsync(Ct)).ShouldBeTrue();
        await redis.GetDatabase().StringSetAsync("exbuy:stock:3", 7);
        var shop = await Host.InitShop("""{"userCount":1,"policyCount":1,"couponQuantity":5}""");
        // Issued before the reset: an issuance still running would race the reset's delete of every document table
        // (seen once as a deadlock on a loaded machine); the reset is not meant to run beside live traffic.
        (await Host.ClaimAndWait(shop.UserIds[0], shop.PolicyIds[0])).ShouldBe(201);

        await seeder.ResetAsync(Ct);

        // The slices' own tables go with the documents they describe: a claim or a counter left behind would name a
        // policy that no longer exists, and the audit would report it.
        await using (var connection = Store.Storage.Database.CreateConnection())
        {
            await connection.OpenAsync(Ct);
            foreach (var table in new[] { ProductStock.Table(Store), StockHolds.Table(Store), ExBuy.Features.Coupons.CouponClaims.Table(Store), ExBuy.Features.Coupons.CouponPolicyStock.Table(Store) })
            {
                await using var count = new Npgsql.NpgsqlCommand($"select count(*) from {table}", connection);
                ((long)(await count.ExecuteScalarAsync(Ct))!).ShouldBe(0, table);
            }
        }

        await Host.ShouldPassAudit();

        (await seeder.HasProductsAsync(Ct)).ShouldBeFalse();
        (await redis.GetDatabase().KeyExistsAsync("exbuy:stock:3")).ShouldBeFalse();
        await using (var session = Store.QuerySession())
        {
            (await session.Query<Order>().CountAsync(Ct)).ShouldBe(0);
            (await session.Events.QueryAllRawEvents().CountAsync(Ct)).ShouldBe(0);
        }

        await seeder.SeedAsync(new SeedPlan(3, 2, 1, 100), _ => { }, Ct);
        await using var after = Store.QuerySession();
        (await after.Query<Product>().OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(Ct)).ShouldBe([1, 2, 3]);
        (await after.Query<Order>().OrderBy(o => o.Id).Select(o => o.Id).ToListAsync(Ct)).ShouldBe([1, 2]);
    }

    [Theory]
    [InlineData("tiny", null, "--size")]
    [InlineData("small", -1, "--products")]
    [InlineData("small", 0, "need at least one product")]
    public void invalid_seed_plans_are_refused(string size, int? products, string message)
    {
        SeedPlan.TryCreate(size, products, null, null, 1000, out var plan, out var error).ShouldBeFalse();
        plan.ShouldBeNull();
        error.ShouldContain(message);
    }

    [Fact]
    public void named_sizes_match_the_original()
    {
        SeedPlan.TryCreate("large", null, null, null, 5000, out var plan, out _).ShouldBeTrue();
        plan.ShouldBe(new SeedPlan(100_000, 500_000, 1_000_000, 5000));
        SeedPlan.TryCreate("medium", null, 7, null, 100, out var mixed, out _).ShouldBeTrue();
        mixed.ShouldBe(new SeedPlan(10_000, 7, 100_000, 100));
    }
}
