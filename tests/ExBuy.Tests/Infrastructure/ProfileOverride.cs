using ExBuy.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ExBuy.Tests.Infrastructure;

/// <summary>
/// Runs one request as if the app were deployed under another profile, with a known admin key: a request that
/// carries <see cref="Header"/> sees <see cref="ExBuyOptions"/> with that profile and <see cref="AdminKey"/>
/// through its request services. Test host only (an <see cref="IStartupFilter"/> added by <see cref="AppFixture"/>);
/// the shared singleton options stay untouched, and no second host is needed (FastEndpoints keeps its service
/// resolver in a static, so two hosts in one process would share it).
/// </summary>
public sealed class ProfileOverride : IStartupFilter
{
    public const string Header = "X-Test-Profile";
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
                    AdminKey = AdminKey,
                    DataDirectory = current.DataDirectory,
                    DatabaseSchema = current.DatabaseSchema,
                };
                context.RequestServices = new OptionsOverridingProvider(context.RequestServices, Options.Create(options));
            }

            return nextMiddleware(context);
        });
        next(app);
    };

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
