using ExBuy.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ExBuy.Tests.Infrastructure;

/// <summary>
/// Runs one request as if the app were deployed under another profile: a request that carries <see cref="Header"/>
/// sees <see cref="ExBuyOptions"/> with that profile and an admin key through its request services — the key in
/// <see cref="KeyHeader"/> when the request names one (<c>none</c>: no key configured), else <see cref="AdminKey"/>. Test host only (an <see cref="IStartupFilter"/> added by <see cref="AppFixture"/>);
/// the shared singleton options stay untouched, and no second host is needed (FastEndpoints keeps its service
/// resolver in a static, so two hosts in one process would share it).
/// </summary>
public sealed class ProfileOverride : IStartupFilter
{
    public const string Header = "X-Test-Profile";
    public const string KeyHeader = "X-Test-Configured-Admin-Key";
    public const string AdminKey = "test-admin-key";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var profile))
            {
                var current = context.RequestServices.GetRequiredService<IOptions<ExBuyOptions>>().Value;
                var options = new ExBuyOptions
                {
                    Profile = profile.ToString(),
                    AdminKey = context.Request.Headers.TryGetValue(KeyHeader, out var key) ? NoneIsNull(key.ToString()) : AdminKey,
                    DataDirectory = current.DataDirectory,
                    DatabaseSchema = current.DatabaseSchema,
                };
                context.RequestServices = new OptionsOverridingProvider(context.RequestServices, Options.Create(options));
            }

            return nextMiddleware(context);
        });
        next(app);
    };

    private static string? NoneIsNull(string value) => value == "none" ? null : value;

    /// <summary>The request's own services, except for the one options instance.</summary>
    private sealed class OptionsOverridingProvider(IServiceProvider inner, IOptions<ExBuyOptions> options) : IServiceProvider, IKeyedServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IOptions<ExBuyOptions>) ? options : inner.GetService(serviceType);

        public object? GetKeyedService(Type serviceType, object? serviceKey) =>
            ((IKeyedServiceProvider)inner).GetKeyedService(serviceType, serviceKey);

        public object GetRequiredKeyedService(Type serviceType, object? serviceKey) =>
            ((IKeyedServiceProvider)inner).GetRequiredKeyedService(serviceType, serviceKey);
    }
}

public static class ProfileOverrideScenarios
{
    /// <summary>
    /// This one request under the production profile: with <paramref name="configuredKey"/> as the API's key (null: the
    /// default <see cref="ProfileOverride.AdminKey"/>) and <paramref name="key"/> sent as <c>X-Admin-Key</c> (null: none).
    /// </summary>
    public static void AsProduction(this Alba.Scenario s, string? key, string? configuredKey = null)
    {
        s.WithRequestHeader(ProfileOverride.Header, "production");
        if (configuredKey is not null)
        {
            s.WithRequestHeader(ProfileOverride.KeyHeader, configuredKey);
        }

        if (key is not null)
        {
            s.WithRequestHeader("X-Admin-Key", key);
        }
    }
}
