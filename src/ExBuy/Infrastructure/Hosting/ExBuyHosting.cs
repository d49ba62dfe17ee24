using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Locking;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Redis;
using ExBuy.Infrastructure.Security;
using ExBuy.Infrastructure.Messaging;
using ExBuy.Infrastructure.Observability;
using FastEndpoints;
using Prometheus;
using Scalar.AspNetCore;

namespace ExBuy.Infrastructure.Hosting;

/// <summary>
/// The infrastructure every module builds on (PostgreSQL through Marten, Redis, Wolverine, the lock providers, the
/// HTTP pipeline). It knows no feature: the modules add themselves in <c>Features/Modules.cs</c>.
/// </summary>
public static class ExBuyHosting
{
    public static WebApplicationBuilder AddExBuyInfrastructure(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ExBuyOptions>()
            .Bind(builder.Configuration.GetSection(ExBuyOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.AddExBuySecurity();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ExBuyInstance>();
        builder.Services.AddOptions<WriteRetryOptions>()
            .Bind(builder.Configuration.GetSection(WriteRetryOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<WriteRetry>();
        builder.Services.AddOptions<ExBuy.Infrastructure.Resilience.AfterCommitOptions>()
            .Bind(builder.Configuration.GetSection(ExBuy.Infrastructure.Resilience.AfterCommitOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ExBuy.Infrastructure.Resilience.AfterCommit>();
        builder.Services.AddOptions<RequestBodyOptions>()
            .Bind(builder.Configuration.GetSection(RequestBodyOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.AddExBuyHostFiltering();
        builder.AddExBuyObservability();
        builder.AddExBuyMarten();
        builder.AddExBuyRedis();
        builder.AddExBuyMessaging();
        builder.AddExBuyLocking();

        builder.Services.AddFastEndpoints();
        builder.Services.AddOpenApi();
        builder.Services.AddExceptionHandler<UnhandledExceptionHandler>();
        builder.Services.AddProblemDetails();
        builder.ApplyJasperFxExtensionsQuietly();
        return builder;
    }

    public static WebApplication UseExBuyHttp(this WebApplication app)
    {
        app.UseServerTiming();
        app.UseMiddleware<InstanceHeaderMiddleware>();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages(JsonStatusCodePages.WriteAsync);
        app.UseMiddleware<NulCharacterGuardMiddleware>();
        app.UseMiddleware<TrailingSlashMiddleware>();
        app.UseRouting();
        // Content-type rules that need the routed endpoint, before it binds: a body-less request ignores its
        // content type, then a JSON body's charset must be UTF-8.
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        app.UseMiddleware<BodylessContentTypeMiddleware>();
        app.UseMiddleware<JsonCharsetMiddleware>();
        app.UseHttpMetrics();
        var conventions = app.Services.GetServices<IEndpointConvention>().ToArray();
        app.UseFastEndpoints(c => ExBuyJson.ConfigureFastEndpoints(c, conventions));
        app.MapMetrics("/metrics");
        ExBuy.Infrastructure.Observability.ScrapeTimeGauges.Register(app.Services);
        // Only the one document: any other name is a routing 404 with the usual JSON body, not OpenAPI's plain text.
        app.MapOpenApi("/openapi/{documentName:regex(^v1$)}.json");
        app.MapScalarApiReference("/docs");
        return app;
    }
}
