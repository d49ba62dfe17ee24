using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace ExBuy.Infrastructure.Observability;

/// <summary>Where the time of a request goes: <c>ExBuy:Observability</c>.</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "ExBuy:Observability";

    /// <summary>Every response carries a <c>Server-Timing</c> header with the request's phases (<see cref="RequestPhases"/>). On by default.</summary>
    public bool ServerTiming { get; set; } = true;

    /// <summary>
    /// An OTLP collector to send traces and metrics to (e.g. <c>http://127.0.0.1:4318</c>); when unset,
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is used; when neither is set, no OpenTelemetry is registered at all.
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>
    /// Where metrics go when not to <see cref="OtlpEndpoint"/>: the full URL (e.g. Prometheus's OTLP receiver,
    /// <c>http://prometheus:9090/api/v1/otlp/v1/metrics</c>, when the trace backend takes traces only). OTLP/HTTP.
    /// </summary>
    public string? OtlpMetricsEndpoint { get; set; }

    /// <summary>The OTLP protocol: <c>http/protobuf</c> (default, port 4318) or <c>grpc</c> (4317); <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> when unset.</summary>
    public string? OtlpProtocol { get; set; }
}

/// <summary>
/// Server-Timing (<see cref="RequestPhases"/>) and, when an OTLP endpoint is configured, OpenTelemetry traces and
/// metrics: ASP.NET Core, Npgsql (Npgsql.OpenTelemetry), StackExchange.Redis, Wolverine and Marten's sources.
/// </summary>
public static class ObservabilitySetup
{
    public const string ServiceName = "exbuy";

    public static WebApplicationBuilder AddExBuyObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ObservabilityOptions>().Bind(builder.Configuration.GetSection(ObservabilityOptions.Section));
        var options = builder.Configuration.GetSection(ObservabilityOptions.Section).Get<ObservabilityOptions>() ?? new ObservabilityOptions();
        var otlp = OtlpTarget.From(options, builder.Configuration);
        builder.Services.AddSingleton(new OpenTelemetryState(otlp is not null));
        if (otlp is not null)
        {
            AddOpenTelemetry(builder.Services, otlp);
        }

        return builder;
    }

    /// <summary>
    /// Called where the data Redis connection is made. Server-Timing's Redis phase uses the connection's profiler, and a
    /// connection has only one: when OpenTelemetry is on, its Redis instrumentation has it (the header then has no
    /// <c>redis</c> phase; the trace has the Redis spans).
    /// </summary>
    public static void ConfigureRedis(IServiceProvider services, IConnectionMultiplexer redis)
    {
        var options = services.GetRequiredService<IOptions<ObservabilityOptions>>().Value;
        if (options.ServerTiming && !services.GetRequiredService<OpenTelemetryState>().Enabled)
        {
            RequestPhaseListeners.ProfileRedis(redis);
        }
    }

    /// <summary>Adds the Server-Timing middleware first in the pipeline, so that <c>total</c> is the whole request.</summary>
    public static WebApplication UseServerTiming(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ObservabilityOptions>>().Value.ServerTiming)
        {
            RequestPhaseListeners.ListenToNpgsql();
            app.UseMiddleware<ServerTimingMiddleware>();
        }

        return app;
    }

    private static void AddOpenTelemetry(IServiceCollection services, OtlpTarget otlp)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics"))
                .AddNpgsql()
                .AddRedisInstrumentation()
                .AddSource("Wolverine", "Marten")
                .AddOtlpExporter(o => otlp.Apply(o, "traces")))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddMeter("Npgsql", "Wolverine", "Marten")
                .AddOtlpExporter(o => otlp.Apply(o, "metrics")));
    }

    private sealed record OtlpTarget(Uri? Endpoint, OtlpExportProtocol? Protocol, Uri? MetricsEndpoint)
    {
        public static OtlpTarget? From(ObservabilityOptions options, ConfigurationManager configuration)
        {
            var protocol = (options.OtlpProtocol ?? configuration["OTEL_EXPORTER_OTLP_PROTOCOL"]) switch
            {
                null or "" => (OtlpExportProtocol?)null,
                "grpc" => OtlpExportProtocol.Grpc,
                "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
                var other => throw new InvalidOperationException($"{ObservabilityOptions.Section}:OtlpProtocol must be grpc or http/protobuf, not '{other}'."),
            };
            var metrics = string.IsNullOrWhiteSpace(options.OtlpMetricsEndpoint) ? null : Absolute(options.OtlpMetricsEndpoint, "OtlpMetricsEndpoint");
            if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
            {
                return new OtlpTarget(Absolute(options.OtlpEndpoint, "OtlpEndpoint"), protocol ?? OtlpExportProtocol.HttpProtobuf, metrics);
            }

            // The exporter reads OTEL_EXPORTER_OTLP_* itself (and appends /v1/traces, /v1/metrics for http/protobuf).
            return string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) ? null : new OtlpTarget(null, protocol, metrics);
        }

        private static Uri Absolute(string value, string key) => Uri.TryCreate(value, UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"{ObservabilityOptions.Section}:{key} must be an absolute URL, not '{value}'.");

        public void Apply(OtlpExporterOptions exporter, string signal)
        {
            if (signal == "metrics" && MetricsEndpoint is { } metrics)
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = metrics;
                return;
            }

            if (Protocol is { } protocol)
            {
                exporter.Protocol = protocol;
            }

            if (Endpoint is { } endpoint)
            {
                // Set in code, the endpoint is used as given: an HTTP exporter needs the signal's path.
                exporter.Endpoint = exporter.Protocol == OtlpExportProtocol.HttpProtobuf
                    ? new Uri(endpoint, $"{endpoint.AbsolutePath.TrimEnd('/')}/v1/{signal}")
                    : endpoint;
            }
        }
    }
}

/// <summary>Whether OpenTelemetry was registered (an OTLP endpoint is configured).</summary>
public sealed record OpenTelemetryState(bool Enabled);

/// <summary>Starts the request's <see cref="RequestPhases"/> and writes its <c>Server-Timing</c> header when the response starts.</summary>
public sealed class ServerTimingMiddleware(RequestDelegate next, OpenTelemetryState openTelemetry)
{
    // The Redis profiler is Server-Timing's unless OpenTelemetry's Redis instrumentation took it (ConfigureRedis).
    private readonly bool redisProfiled = !openTelemetry.Enabled;

    public const string Header = "Server-Timing";

    public async Task InvokeAsync(HttpContext context)
    {
        var phases = RequestPhases.Begin(redisProfiled);
        context.Response.OnStarting(static state =>
        {
            var (response, phases) = ((HttpResponse, RequestPhases))state;
            response.Headers[Header] = phases.Format();
            return Task.CompletedTask;
        }, (context.Response, phases));
        try
        {
            await next(context);
        }
        finally
        {
            RequestPhases.End();
        }
    }
}
