using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Security;

/// <summary>
/// Which <c>Host</c> headers the API answers. A DNS-rebinding page points its own name at 127.0.0.1 and then talks
/// to ExBuy as a same-origin site, so the local profile answers only loopback names (<see cref="Loopback"/>) plus the
/// ones in <c>ExBuy:AllowedHosts</c> (semicolon-separated, e.g. compose's service names); a foreign name gets ASP.NET
/// Core's host-filtering 400. Other profiles run behind their own ingress and take the list from ASP.NET Core's
/// <c>AllowedHosts</c> setting, as usual.
/// </summary>
public static class AllowedHostNames
{
    public static readonly IReadOnlyList<string> Loopback = ["localhost", "127.0.0.1", "[::1]", "host.docker.internal"];

    public static WebApplicationBuilder AddExBuyHostFiltering(this WebApplicationBuilder builder)
    {
        // Configure runs before the web host's own PostConfigure, which fills in AllowedHosts only when it is empty.
        builder.Services.AddOptions<HostFilteringOptions>()
            .Configure<IOptions<ExBuyOptions>>((filtering, exbuy) =>
            {
                if (exbuy.Value.IsLocalProfile)
                {
                    filtering.AllowedHosts = [.. Loopback, .. Configured(exbuy.Value.AllowedHosts)];
                }
            });
        return builder;
    }

    private static string[] Configured(string? hosts) =>
        (hosts ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
