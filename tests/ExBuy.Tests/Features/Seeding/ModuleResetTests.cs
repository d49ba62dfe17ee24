using ExBuy.Features.Catalog.ReadModel;
using ExBuy.Features.Coupons;
using ExBuy.Features.Seeding;
using ExBuy.Infrastructure.Marten;
using ExBuy.Tests.Infrastructure;
using Marten;
using Npgsql;
using Shouldly;
using Weasel.Postgresql.Tables;

namespace ExBuy.Tests.Features.Seeding;

/// <summary>
/// The full reset (the per-test reset and <c>seed --reset</c>) comes from the modules' own registrations: every table a
/// module declares beside Marten's documents is emptied by that module's <see cref="IModuleReset"/>, and the catalogue's
/// generation moves on so no node keeps a snapshot of the deleted products.
/// </summary>
public sealed class ModuleResetTests(AppFixture app) : IntegrationContext(app)
{
    private NpgsqlDataSource Db => Host.Services.GetRequiredService<NpgsqlDataSource>();

    private IReadOnlyList<string> ModuleTables() =>
        [.. ((StoreOptions)Store.Options).Storage.ExtendedSchemaObjects.OfType<Table>().Select(t => t.Identifier.QualifiedName)];

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = Db.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task every_module_table_is_emptied_by_the_registered_resets()
    {
        // State in every module table: a seeded catalogue with reviews, then a shop with coupon counters, stock and gates.
        await new CatalogSeeder(Store, TimeProvider.System, Host.Services.GetServices<IModuleReset>()).SeedAsync(new SeedPlan(5, 0, 20, 100), _ => { }, Ct);
        var shop = await Host.InitShop();
        (await Host.Services.GetRequiredService<CouponGate>().AdmitAsync(shop.PolicyIds[0], await Host.UserId("u1"))).ShouldBe(Admission.Admitted);
        var tables = ModuleTables();
        var generation = CatalogGeneration.Table(Store);
        tables.ShouldContain(generation);
        foreach (var table in new[] { "product_stock", "coupon_policy_stock", "product_review_stats" })
        {
            (await ScalarAsync($"select count(*) from {Store.Options.DatabaseSchemaName}.{table}")).ShouldBeGreaterThan(0, table);
        }

        var before = await ScalarAsync($"select generation from {generation}");

        await InitializeAsync();

        foreach (var table in tables.Where(t => t != generation))
        {
            (await ScalarAsync($"select count(*) from {table}")).ShouldBe(0, table);
        }

        (await ScalarAsync($"select generation from {generation}")).ShouldBeGreaterThan(before);
    }

    [Fact]
    public void every_module_with_a_table_of_its_own_registers_a_reset()
    {
        var resets = Host.Services.GetServices<IModuleReset>().Select(r => r.GetType().Namespace).ToList();
        resets.ShouldBe(["ExBuy.Features.Catalog", "ExBuy.Features.Reviews", "ExBuy.Features.Inventory", "ExBuy.Features.Coupons"], ignoreOrder: true);
    }
}
