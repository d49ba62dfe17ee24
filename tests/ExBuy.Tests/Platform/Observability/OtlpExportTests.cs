using System.Collections.Concurrent;
using System.Net;
using System.Text;
using ExBuy.Infrastructure.Observability;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Platform.Observability;

/// <summary>
/// With an OTLP endpoint configured (here <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, as a collector's deployment sets it) the
/// API sends its traces and metrics there over OTLP/HTTP: a real API process, a tiny OTLP receiver in the test. (The
/// opposite, nothing registered without an endpoint, is checked on the shared host in <see cref="ServerTimingTests"/>.)
/// The same process runs with <c>ExBuy:Observability:ServerTiming</c> off: its answers carry no Server-Timing header.
/// </summary>
public sealed class OtlpExportTests(AppFixture app) : IntegrationContext(app)
{
    private const string Schema = "exbuy_otlp";

    [Fact]
    public async Task spans_of_a_request_arrive_at_the_configured_otlp_receiver()
    {
        using var receiver = new FakeOtlpReceiver();
        await App.DropSchemaAsync(Schema);
        var (postgres, redis, redlock) = App.ConnectionStrings;
        var api = await ApiProcess.StartAsync("otlp", new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = postgres,
            ["ConnectionStrings:Redis"] = redis,
            ["ConnectionStrings:RedlockNodes"] = redlock,
            ["ExBuy:DatabaseSchema"] = Schema,
            ["ExBuy:Profile"] = "local",
            ["ExBuy:DataDirectory"] = Path.Combine(App.DataDirectory, "otlp"),
            ["ExBuy:Observability:ServerTiming"] = "false",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Address,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });
        try
        {
            using var http = new HttpClient { BaseAddress = api.BaseAddress };
            using var answer = await http.GetAsync("/api/products/?page=1", Ct);
            answer.StatusCode.ShouldBe(HttpStatusCode.OK);
            answer.Headers.Contains(ServerTimingMiddleware.Header).ShouldBeFalse();

            await Eventually.WaitUntilAsync(
                () => Task.FromResult(receiver.Contains("/v1/traces", "/api/products/")),
                TimeSpan.FromSeconds(30), "a trace export naming the request's route");
            // The export is protobuf: the strings it holds are there as written.
            receiver.Contains("/v1/traces", ObservabilitySetup.ServiceName).ShouldBeTrue();
            receiver.Contains("/v1/traces", "postgresql").ShouldBeTrue("Npgsql's spans (db.system postgresql)");
            await Eventually.WaitUntilAsync(
                () => Task.FromResult(receiver.Contains("/v1/metrics", "http.server.request.duration")),
                TimeSpan.FromSeconds(30), "a metrics export with ASP.NET Core's request duration");
        }
        finally
        {
            await api.DisposeAsync();
            await App.DropSchemaAsync(Schema);
        }
    }

    /// <summary>An OTLP/HTTP receiver: answers 200 to every POST and keeps each body by path.</summary>
    private sealed class FakeOtlpReceiver : IDisposable
    {
        private readonly HttpListener listener = new();
        private readonly ConcurrentQueue<(string Path, byte[] Body)> received = new();

        public FakeOtlpReceiver()
        {
            var port = ApiProcess.FreePort();
            Address = $"http://127.0.0.1:{port}";
            listener.Prefixes.Add(Address + "/");
            listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public string Address { get; }

        public bool Contains(string path, string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            return received.Any(r => r.Path == path && r.Body.AsSpan().IndexOf(bytes) >= 0);
        }

        public void Dispose() => listener.Close();

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                received.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }
    }
}
