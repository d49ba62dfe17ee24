using ExBuy.Infrastructure.Observability;

namespace ExBuy.Features.Audit;

/// <summary>
/// One audit run at a time, shared: the audit reads every table, so a caller arriving while a run is in progress awaits
/// that run's answer rather than starting another (many callers at once cost one run, not one each). A caller arriving
/// after the run has finished starts a new one, so no answer is older than the request that got it by more than one run.
/// The run belongs to no caller: it goes on when the caller that started it gives up (and ends with the app), so the
/// others still get its answer.
/// </summary>
public sealed class AuditSingleFlight(AuditRunner runner, IHostApplicationLifetime lifetime)
{
    private readonly Lock _gate = new();
    private Task<AuditResponse>? _running;

    public Task<AuditResponse> RunAsync(CancellationToken ct)
    {
        Task<AuditResponse> run;
        lock (_gate)
        {
            if (_running is { IsCompleted: false } current)
            {
                ExBuyMetrics.AuditRequests.WithLabels("joined").Inc();
                run = current;
            }
            else
            {
                ExBuyMetrics.AuditRequests.WithLabels("started").Inc();
                run = _running = Task.Run(() => runner.RunAsync(lifetime.ApplicationStopping), CancellationToken.None);
            }
        }

        return run.WaitAsync(ct);
    }
}
