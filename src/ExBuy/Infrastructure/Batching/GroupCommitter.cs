using System.Diagnostics;
using System.Threading.Channels;
using Prometheus;

namespace ExBuy.Infrastructure.Batching;

/// <summary>One request waiting in a <see cref="GroupCommitter{TRequest,TResult}"/>: its input, its answer, and how long it waited for its batch.</summary>
public sealed class Pending<TRequest, TResult>(TRequest request, CancellationToken requestAborted)
{
    private readonly TaskCompletionSource<TResult> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TRequest Request { get; } = request;

    /// <summary>When it was enqueued (a <see cref="Stopwatch"/> timestamp): the start of its deadline.</summary>
    public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>The time between enqueueing and the start of its batch (the <c>batch</c> phase of the answer's timing).</summary>
    public TimeSpan Waited { get; internal set; }

    public CancellationToken RequestAborted { get; } = requestAborted;

    public bool IsAnswered => _answer.Task.IsCompleted;

    public Task<TResult> Answer => _answer.Task;

    public TimeSpan Age => Stopwatch.GetElapsedTime(EnqueuedAt);

    public void Complete(TResult result) => _answer.TrySetResult(result);

    public void Fail(Exception e) => _answer.TrySetException(e);

    public void Cancel() => _answer.TrySetCanceled(RequestAborted);
}

/// <summary>
/// Natural batching (group commit): requests enqueue and wait; one loop takes everything that is waiting (up to
/// <c>maxBatch</c>), hands it to <c>commit</c> as one batch, and as soon as that returns takes what arrived meanwhile.
/// No timer: an idle system commits a lone request at once, a busy one commits many per round trip. The commit
/// callback answers every request of its batch; one it leaves unanswered (or all, when it throws) is failed here, so
/// nobody waits forever.
/// </summary>
public sealed partial class GroupCommitter<TRequest, TResult> : IAsyncDisposable
{
    private static readonly Histogram BatchSize = Metrics.CreateHistogram(
        "exbuy_group_commit_batch_size", "Requests per group-commit batch, by committer.",
        new HistogramConfiguration { LabelNames = ["committer"], Buckets = Histogram.ExponentialBuckets(1, 2, 10) });

    private static readonly Histogram BatchWait = Metrics.CreateHistogram(
        "exbuy_group_commit_wait_seconds", "Time a request waited for its group-commit batch to start, by committer.",
        new HistogramConfiguration { LabelNames = ["committer"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });

    private readonly Channel<Pending<TRequest, TResult>> _queue =
        Channel.CreateUnbounded<Pending<TRequest, TResult>>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Func<IReadOnlyList<Pending<TRequest, TResult>>, Task> _commit;
    private readonly int _maxBatch;
    private readonly string _name;
    private readonly ILogger _logger;
    private readonly Lazy<Task> _loop;

    public GroupCommitter(string name, int maxBatch, Func<IReadOnlyList<Pending<TRequest, TResult>>, Task> commit, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _name = name;
        _maxBatch = maxBatch;
        _commit = commit;
        _logger = logger;
        _loop = new Lazy<Task>(StartLoop, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Requests waiting for a batch (not counting the batch being committed).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    private int _waiting;

    /// <summary>Enqueues a request; the returned pending is answered once its batch committed (or refused it).</summary>
    public Pending<TRequest, TResult> Enqueue(TRequest request, CancellationToken requestAborted)
    {
        _ = _loop.Value;
        var pending = new Pending<TRequest, TResult>(request, requestAborted);
        Interlocked.Increment(ref _waiting);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _waiting);
            pending.Fail(new ObjectDisposedException(_name, "The group committer has stopped."));
        }

        return pending;
    }

    /// <summary>The loop runs for every request, so it inherits none's async context (request id, trace, timing scope).</summary>
    private Task StartLoop()
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending<TRequest, TResult>>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var pending))
            {
                Interlocked.Decrement(ref _waiting);
                // A request whose caller left before its batch began is dropped: nothing of it was written.
                if (pending.RequestAborted.IsCancellationRequested)
                {
                    pending.Cancel();
                    continue;
                }

                pending.Waited = pending.Age;
                BatchWait.WithLabels(_name).Observe(pending.Waited.TotalSeconds);
                batch.Add(pending);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            BatchSize.WithLabels(_name).Observe(batch.Count);
            try
            {
                await _commit(batch);
            }
            catch (Exception e)
            {
                BatchFailed(_logger, e, _name, batch.Count);
                foreach (var pending in batch)
                {
                    pending.Fail(e);
                }
            }

            foreach (var pending in batch.Where(p => !p.IsAnswered))
            {
                pending.Fail(new InvalidOperationException($"Group commit {_name} left a request unanswered."));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Group commit {Committer} failed for a batch of {Count}")]
    private static partial void BatchFailed(ILogger logger, Exception e, string committer, int count);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_loop.IsValueCreated)
        {
            await _loop.Value;
        }
    }
}
