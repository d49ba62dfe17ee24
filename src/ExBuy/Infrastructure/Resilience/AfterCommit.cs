using System.ComponentModel.DataAnnotations;
using ExBuy.Infrastructure.Observability;
using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Resilience;

/// <summary>Settings of <see cref="AfterCommit"/> (section <c>ExBuy:AfterCommit</c>).</summary>
public sealed class AfterCommitOptions
{
    public const string Section = "ExBuy:AfterCommit";

    /// <summary>
    /// How long an answer waits for the work that follows a commit (a Redis mirror, a give-back, a lock release)
    /// before it leaves anyway; the work goes on in the background. Redis answers in well under a millisecond when it
    /// is well, so this bounds only what a stalled Redis adds to a committed write's answer.
    /// </summary>
    [Range(0, 60_000)]
    public int WaitMs { get; set; } = 250;
}

/// <summary>
/// The one rule for work after a commit. Once PostgreSQL committed, the answer is the commit's outcome: what follows
/// — mirroring the stock into Redis, giving a gate decrement back, releasing a Redis lock, writing a cache — is
/// best-effort. It never turns a committed write into an error (a client told "unavailable, retry" would write twice),
/// it delays the answer by at most <see cref="AfterCommitOptions.WaitMs"/>, and every failure or late finish is
/// counted (<c>exbuy_after_commit_total{work,result}</c>) and logged once. The reconcilers repair what it missed: the
/// stock keys (<c>StockReconciler</c>), the coupon gates, locks by their expiry.
/// </summary>
public sealed partial class AfterCommit(IOptions<AfterCommitOptions> options, ILogger<AfterCommit> logger)
{
    /// <summary>Runs <paramref name="work"/>, never throws, waits for it at most the configured time.</summary>
    /// <param name="kind">What it is, for the metric and the log: <c>stock_mirror</c>, <c>lock_release</c>, …</param>
    public async Task RunAsync(string kind, Func<Task> action)
    {
        Task task;
        try
        {
            task = action();
        }
        catch (Exception e)
        {
            Failed(kind, e);
            return;
        }

        try
        {
            await task.WaitAsync(TimeSpan.FromMilliseconds(options.Value.WaitMs)).ConfigureAwait(false);
            ExBuyMetrics.AfterCommit.WithLabels(kind, "done").Inc();
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            // Still running (Redis stalled): the answer leaves now, the work may yet land; its failure is counted then.
            ExBuyMetrics.AfterCommit.WithLabels(kind, "late").Inc();
            _ = task.ContinueWith(
                finished => Failed(kind, finished.Exception!.GetBaseException()),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
        catch (Exception e)
        {
            Failed(kind, e);
        }
    }

    /// <summary>Releases a lock handle after the commit, by the same rule (<c>lock_release</c>).</summary>
    public Task ReleaseAsync(IAsyncDisposable? handle) =>
        handle is null ? Task.CompletedTask : RunAsync("lock_release", () => handle.DisposeAsync().AsTask());

    private void Failed(string kind, Exception e)
    {
        ExBuyMetrics.AfterCommit.WithLabels(kind, "failed").Inc();
        LogFailed(logger, kind, Failures.Classify(e), e.GetBaseException().Message);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "After-commit work {Work} failed ({Kind}: {Reason}); the answer stands, the reconcilers repair what it missed")]
    private static partial void LogFailed(ILogger logger, string work, FailureKind kind, string reason);
}
