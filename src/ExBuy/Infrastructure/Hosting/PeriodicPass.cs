namespace ExBuy.Infrastructure.Hosting;

/// <summary>
/// A background pass run every <see cref="Interval"/> that can never stop the host: a failing pass is reported through
/// <see cref="PassFailed"/> and the next tick tries again (by .NET's default an exception escaping a
/// <see cref="BackgroundService"/> stops the whole API). An interval of zero turns the loop off; the pass itself stays
/// callable, which is how tests run it.
/// </summary>
public abstract class PeriodicPass(TimeProvider clock) : BackgroundService
{
    protected abstract TimeSpan Interval { get; }

    /// <summary>Run one pass as soon as the host starts instead of after the first interval.</summary>
    protected virtual bool RunAtStart => false;

    protected abstract Task RunPassAsync(CancellationToken ct);

    protected abstract void PassFailed(Exception e);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, clock);
        if (RunAtStart && !await RunGuardedAsync(stoppingToken))
        {
            return;
        }

        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!await RunGuardedAsync(stoppingToken))
            {
                return;
            }
        }
    }

    /// <returns>False when the host is stopping.</returns>
    private async Task<bool> RunGuardedAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunPassAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e)
        {
            PassFailed(e);
        }

        return true;
    }
}
