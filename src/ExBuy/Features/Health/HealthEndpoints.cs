using System.Diagnostics;
using ExBuy.Infrastructure;
using ExBuy.Infrastructure.Hosting;
using ExBuy.Infrastructure.Marten;
using Microsoft.Extensions.Options;
using FastEndpoints;
using Npgsql;
using StackExchange.Redis;

namespace ExBuy.Features.Health;

public sealed record HealthResponse(string Status, string Instance);

/// <summary>
/// <c>GET /api/health</c>: the process answers, and names itself (<see cref="ExBuyInstance"/>: which instance behind
/// the load balancer answered). Says nothing of its dependencies (see readiness).
/// </summary>
public sealed class HealthEndpoint(ExBuyInstance instance) : EndpointWithoutRequest<HealthResponse>
{
    public override void Configure()
    {
        Get("/api/health");
        Tags("health");
    }

    public override Task HandleAsync(CancellationToken ct) => Send.OkAsync(new HealthResponse("ok", instance.Id), ct);
}

public sealed record DependencyHealth(string Status, double LatencyMs, string? Error);

/// <param name="ProjectionDaemon">Whether this instance runs the projection daemon: <c>leader</c> (elected), <c>standby</c>,
/// <c>solo</c> or <c>off</c> (ExBuy:ProjectionDaemon).</param>
public sealed record ReadinessResponse(string Status, string Instance, string ProjectionDaemon, IReadOnlyDictionary<string, DependencyHealth> Checks);

/// <summary><c>GET /api/health/ready</c>: PostgreSQL and Redis each answer a round trip; 503 when either does not.</summary>
public sealed class ReadinessEndpoint(
    NpgsqlDataSource db, IConnectionMultiplexer redis, ExBuyInstance instance, ProjectionLeadership projections, IOptions<ExBuyOptions> options) : EndpointWithoutRequest<ReadinessResponse>
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    public override void Configure()
    {
        Get("/api/health/ready");
        Tags("health");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var checks = new Dictionary<string, DependencyHealth>
        {
            ["postgres"] = await Check(async token =>
            {
                await using var command = db.CreateCommand("select 1");
                await command.ExecuteScalarAsync(token);
            }, ct),
            ["redis"] = await Check(async _ => await redis.GetDatabase().PingAsync(), ct),
        };

        var healthy = checks.Values.All(c => c.Status == "ok");
        await Send.ResponseAsync(
            new ReadinessResponse(healthy ? "ok" : "unavailable", instance.Id, DaemonRole(), checks),
            healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
            ct);
    }

    private string DaemonRole() => options.Value.ProjectionDaemon switch
    {
        ProjectionDaemonMode.Solo => "solo",
        ProjectionDaemonMode.Off => "off",
        _ => projections.IsLeader ? "leader" : "standby",
    };

    private static async Task<DependencyHealth> Check(Func<CancellationToken, Task> probe, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(CheckTimeout);
            await probe(timeout.Token).WaitAsync(timeout.Token);
            return new DependencyHealth("ok", Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new DependencyHealth("unavailable", Stopwatch.GetElapsedTime(started).TotalMilliseconds, e.Message);
        }
    }
}
