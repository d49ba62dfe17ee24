using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Security;

/// <summary>
/// The real client address behind the project's HAProxy (<c>./exbuy up --instances N</c>, compose's <c>lb</c>), which
/// sends it in <c>X-Forwarded-For</c>. The header is believed only from the proxies in <c>ExBuy:TrustedProxies</c>
/// (none by default, and never ASP.NET Core's built-in trust of every loopback address): otherwise anything that
/// reaches a forwarder on 127.0.0.1 would count as the local user, and any caller could claim an address. Only the
/// last hop is read — the one the trusted proxy appended — so what a client wrote into the header itself is ignored.
/// </summary>
public static class ForwardedClientAddress
{
    /// <summary>Forwarded headers from the configured proxies, the admin key rules at start, and the middleware first in the pipeline.</summary>
    public static WebApplicationBuilder AddExBuySecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IValidateOptions<ExBuyOptions>, SecuritySettingsValidation>();
        builder.Services.AddSingleton<IConfigureOptions<ForwardedHeadersOptions>, ConfigureFromTrustedProxies>();
        builder.Services.AddTransient<IStartupFilter, ForwardedHeadersFirst>();
        return builder;
    }

    private sealed class ConfigureFromTrustedProxies(IOptions<ExBuyOptions> exbuy) : IConfigureOptions<ForwardedHeadersOptions>
    {
        public void Configure(ForwardedHeadersOptions options)
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            options.ForwardLimit = 1;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            var trusted = AddressList.Parse(exbuy.Value.TrustedProxies);
            foreach (var address in trusted.Addresses)
            {
                options.KnownProxies.Add(address);
            }

            foreach (var network in trusted.Networks)
            {
                options.KnownIPNetworks.Add(network);
            }
        }
    }

    /// <summary>Before every other middleware, so that every later decision (admin, logs, metrics) sees the client.</summary>
    private sealed class ForwardedHeadersFirst : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseForwardedHeaders();
            next(app);
        };
    }
}
