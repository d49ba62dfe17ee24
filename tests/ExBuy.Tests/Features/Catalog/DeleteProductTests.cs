using ExBuy.Features.Catalog;
using ExBuy.Features.Reviews;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Catalog;

public sealed class DeleteProductTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task deleting_removes_the_product_and_its_reviews()
    {
        var product = await Store.AddProduct();
        var keep = await Store.AddProduct(name: "Keep me");
        await Store.AddReview(product.Id, 3);
        await Store.AddReview(keep.Id, 5);

        await Host.Scenario(s =>
        {
            s.Delete.Url($"/api/products/{product.Id}/");
            s.StatusCodeShouldBe(204);
        });

        await Host.GetJson($"/api/products/{product.Id}", 404);
        await using var session = Store.QuerySession();
        (await session.Query<Review>().CountAsync(Ct)).ShouldBe(1);
        (await session.LoadAsync<Product>(keep.Id, Ct)).ShouldNotBeNull();
    }

    [Fact]
    public async Task deleting_an_unknown_product_is_404()
    {
        await Host.Scenario(s =>
        {
            s.Delete.Url("/api/products/424242");
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task outside_the_local_profile_the_admin_key_is_required()
    {
        var product = await Store.AddProduct();

        await Delete(product.Id, key: null, status: 403);
        await Delete(product.Id, key: "wrong", status: 403);
        await Host.GetJson($"/api/products/{product.Id}");

        await Delete(product.Id, key: ProfileOverride.AdminKey, status: 204);
    }

    [Fact]
    public async Task without_a_configured_key_the_route_is_closed_outside_local()
    {
        var product = await Store.AddProduct();

        await Delete(product.Id, key: "", status: 403, configuredKey: "none");
        await Delete(product.Id, key: ProfileOverride.AdminKey, status: 403, configuredKey: "none");

        await Host.GetJson($"/api/products/{product.Id}");
    }

    // The profile (and the configured key) are switched for this one request, never on the shared host.
    private Task<Alba.IScenarioResult> Delete(long productId, string? key, int status, string? configuredKey = null) =>
        Host.Scenario(s =>
        {
            s.Delete.Url($"/api/products/{productId}");
            s.AsProduction(key, configuredKey);

            s.StatusCodeShouldBe(status);
        });
}
