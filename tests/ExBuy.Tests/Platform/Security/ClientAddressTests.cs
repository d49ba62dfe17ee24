using System.Net;
using Alba;
using ExBuy.Features.Catalog;
using ExBuy.Features.Users;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Platform.Security;

/// <summary>
/// Who is admin in the local profile: the client a trusted proxy names, not the proxy. The shared test host trusts
/// 127.0.0.1 as its proxy (<see cref="AppFixture"/>), as <c>./exbuy up --instances N</c> configures its instances
/// behind HAProxy; the connection's address is set on each request, as Kestrel would see it.
/// </summary>
public sealed class ClientAddressTests(AppFixture app) : IntegrationContext(app)
{
    private static readonly IPAddress Proxy = IPAddress.Loopback;

    [Fact]
    public async Task a_request_the_trusted_proxy_forwards_for_a_foreign_client_is_not_admin_and_changes_nothing()
    {
        var product = await Store.AddProduct();
        await Host.GetJson("/users/id?name=keeper");

        await Delete(product.Id, from: Proxy, forwardedFor: "203.0.113.7", status: 403);
        await Host.Scenario(s =>
        {
            s.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = Proxy);
            s.WithRequestHeader("X-Forwarded-For", "203.0.113.7");
            s.Post.Json(new { userCount = 1 }).ToUrl("/init");
            s.StatusCodeShouldBe(403);
        });

        await using (var session = Store.QuerySession())
        {
            (await session.Query<ShopUser>().Select(u => u.Name).ToListAsync(Ct)).ShouldBe(["keeper"], "the refused /init wiped nothing");
            (await session.LoadAsync<Product>(product.Id, Ct)).ShouldNotBeNull();
        }

        // The same client reached directly, and a client claiming loopback to a server that does not trust it.
        await Delete(product.Id, from: IPAddress.Parse("203.0.113.7"), forwardedFor: null, status: 403);
        await Delete(product.Id, from: IPAddress.Parse("198.51.100.4"), forwardedFor: "127.0.0.1", status: 403);
        await Host.GetJson($"/api/products/{product.Id}");

        // A loopback client through the same proxy is the developer.
        await Delete(product.Id, from: Proxy, forwardedFor: "127.0.0.1", status: 204);
        await Host.GetJson($"/api/products/{product.Id}", 404);
    }

    [Fact]
    public async Task another_loopback_address_is_a_forwarder_not_the_local_user_unless_configured()
    {
        var product = await Store.AddProduct();
        var sidecar = IPAddress.Parse("127.0.0.6");

        await Delete(product.Id, from: sidecar, forwardedFor: null, status: 403);
        await Delete(product.Id, from: IPAddress.Parse("::ffff:127.0.0.6"), forwardedFor: null, status: 403);
        await Host.GetJson($"/api/products/{product.Id}");

        await using var configured = await App.StartHostWithAsync(("ExBuy:LocalAddresses", "127.0.0.6"));
        await Delete(product.Id, from: sidecar, forwardedFor: null, status: 204, host: configured);
        await Host.GetJson($"/api/products/{product.Id}", 404);
    }

    private Task<IScenarioResult> Delete(long productId, IPAddress from, string? forwardedFor, int status, IAlbaHost? host = null) =>
        (host ?? Host).Scenario(s =>
        {
            s.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = from);
            if (forwardedFor is not null)
            {
                s.WithRequestHeader("X-Forwarded-For", forwardedFor);
            }

            s.Delete.Url($"/api/products/{productId}");
            s.StatusCodeShouldBe(status);
        });
}
