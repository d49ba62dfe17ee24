using ExBuy.Infrastructure.Batching;
using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Observability;
using ExBuy.Infrastructure.Resilience;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ExBuy.Features.Inventory.Strategies;

/// <summary>One request's part of a batch: what it takes and the writes that record why.</summary>
public sealed record BatchedTake(IReadOnlyList<StockLine> Demand, StockWork Work, string? RequestId);

/// <summary>
/// Group commit (<c>lock_type=batched</c>): requests that arrive while a batch commits wait for the next one
/// (<see cref="GroupCommitter{TRequest,TResult}"/>, one loop per process). A batch locks the stock rows of all its
/// products once (<c>FOR UPDATE</c>, in id order), decides its requests in arrival order against the batch's running
/// stock — a request that would oversell is refused alone, the others go on — queues every accepted request's writes in
/// one Marten session, takes each product's total with one checked conditional UPDATE and commits once.
/// <para>
/// A batch that fails for a technical reason (a conflict with a writer outside it, a deadlock, a stale revision of one
/// request's own writes, a lost connection) is split in halves and each half tried again, down to a single request,
/// which then gets its own failure as with any other strategy. A failure at commit is settled first by asking
/// PostgreSQL about the batch's transaction id (<c>pg_xact_status</c>): committed means every accepted request is
/// answered as taken; aborted means it is safe to retry; no answer (the database is gone) fails every request of the
/// batch — never a 201 without its commit, never a second commit of the same writes. Several API processes each batch
/// their own requests; the row locks and the conditional UPDATE keep PostgreSQL the authority between them and the other
/// strategies.
/// </para>
/// </summary>
public sealed class BatchedStockStrategy : IStockStrategy, IAsyncDisposable
{
    private readonly IDocumentStore _store;
    private readonly RedisStock _redisStock;
    private readonly AfterCommit _afterCommit;
    private readonly IOptions<ConcurrencyOptions> _options;
    private readonly GroupCommitter<BatchedTake, StockOutcome> _committer;

    public BatchedStockStrategy(
        IDocumentStore store, RedisStock redisStock, AfterCommit afterCommit, IOptions<ConcurrencyOptions> options, ILogger logger)
    {
        _store = store;
        _redisStock = redisStock;
        _afterCommit = afterCommit;
        _options = options;
        _committer = new GroupCommitter<BatchedTake, StockOutcome>("stock", options.Value.BatchMaxSize, CommitAsync, logger);
    }

    public LockType Type => LockType.Batched;

    /// <summary>Attempts made by batches (one per commit tried, splits included); for tests and diagnostics.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    private long _attempts;

    /// <summary>Requests waiting for the next batch.</summary>
    public int Waiting => _committer.Waiting;

    public async Task<StockOutcome> TakeAsync(IReadOnlyList<StockLine> demand, StockWork work, CancellationToken ct)
    {
        var pending = _committer.Enqueue(new BatchedTake(demand, work, RequestIds.Current), ct);
        StockOutcome outcome;
        // The request's `batch` phase: waiting for its batch and for that batch's one commit. Not cancelled while
        // waiting: once its batch began, the request is either committed or refused.
        using (RequestPhases.Measure(RequestPhases.Batch))
        {
            outcome = await pending.Answer;
        }

        if (outcome is StockOutcome.Taken)
        {
            await _afterCommit.RunAsync("stock_mirror", () => _redisStock.MirrorTakenAsync(demand));
        }

        return outcome;
    }

    private Task CommitAsync(IReadOnlyList<Pending<BatchedTake, StockOutcome>> batch) => RunAsync(batch, retried: false);

    /// <summary>Tries the requests as one batch; on a technical failure splits them in halves, in arrival order.</summary>
    private async Task RunAsync(IReadOnlyList<Pending<BatchedTake, StockOutcome>> requests, bool retried)
    {
        var live = new List<Pending<BatchedTake, StockOutcome>>(requests.Count);
        foreach (var pending in requests)
        {
            if (retried && pending.Age > _options.Value.LockTimeout)
            {
                // Its batch failed and retrying it would outlast what any strategy waits: nothing of it was written.
                pending.Complete(new StockOutcome.Busy("batched: the batch kept failing to commit; nothing was taken"));
            }
            else
            {
                live.Add(pending);
            }
        }

        if (live.Count == 0)
        {
            return;
        }

        try
        {
            await AttemptAsync(live);
        }
        catch (OwnWorkFailedException own)
        {
            // One request's own writes could not even be queued: it alone fails, the others try again without it.
            own.Request.Fail(own.InnerException!);
            await RunAsync(live.Where(p => p != own.Request).ToList(), retried: true);
        }
        catch (BatchFateUnknownException unknown)
        {
            // The commit may or may not have landed and the database cannot say: nobody is told 201, nothing is retried.
            foreach (var pending in live)
            {
                pending.Fail(unknown.InnerException!);
            }
        }
        catch (Exception e) when (PostgresErrors.IsLockTimeout(e))
        {
            // A writer outside the batch held a row past the lock timeout: every request of the batch waited that long
            // already, and smaller batches would wait for the same row. Busy, as the row strategy answers.
            foreach (var pending in live)
            {
                pending.Complete(new StockOutcome.Busy($"batched: a product row stayed locked for more than {_options.Value.LockTimeoutMs} ms"));
            }
        }
        catch (Exception e) when (live.Count == 1)
        {
            // Alone, a failure is this request's own, answered as the other strategies answer it.
            live[0].Fail(e);
        }
        catch (Exception)
        {
            var half = live.Count / 2;
            await RunAsync(live.Take(half).ToList(), retried: true);
            await RunAsync(live.Skip(half).ToList(), retried: true);
        }
    }

    /// <summary>One transaction for the batch: lock, decide in arrival order, queue, one UPDATE per product, one commit.</summary>
    private async Task AttemptAsync(List<Pending<BatchedTake, StockOutcome>> batch)
    {
        Interlocked.Increment(ref _attempts);
        var productIds = batch.SelectMany(p => p.Request.Demand).Select(l => l.ProductId).Distinct().Order().ToList();
        await using var session = _store.LightweightSession();
        await session.BeginTransactionAsync(CancellationToken.None);
        var (transactionId, levels) = await LockAsync(session, productIds);

        var outcomes = new StockOutcome[batch.Count];
        var totals = new Dictionary<long, int>();
        var accepted = 0;
        var queued = Queued(session);
        var stamped = new HashSet<global::JasperFx.Events.IEvent>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < batch.Count; i++)
        {
            var demand = batch[i].Request.Demand;
            var decision = StockDecider.Decide(demand, levels);
            if (decision is not StockDecision.Take take)
            {
                outcomes[i] = StockOutcome.From(decision);
                continue;
            }

            try
            {
                batch[i].Request.Work(session);
            }
            catch (Exception e)
            {
                throw new OwnWorkFailedException(batch[i], e);
            }

            var now = Queued(session);
            if (now == queued)
            {
                throw new OwnWorkFailedException(batch[i], new InvalidOperationException("The stock work queued nothing: the stock change would not be committed."));
            }

            queued = now;
            StampEvents(session, stamped, batch[i].Request.RequestId);
            foreach (var line in demand)
            {
                levels[line.ProductId] = levels[line.ProductId] with { Stock = take.Remaining[line.ProductId] };
                totals[line.ProductId] = totals.GetValueOrDefault(line.ProductId) + line.Quantity;
            }

            outcomes[i] = new StockOutcome.Taken(take.Remaining);
            accepted++;
        }

        if (accepted > 0)
        {
            await TakeTotalsAsync(session, totals);
            await CommitOrSettleAsync(session, transactionId);
        }

        // Refusals are answered only now too: a refusal read inside a batch that then failed would be answered from its retry.
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Complete(outcomes[i]);
        }
    }

    /// <summary>The batch's transaction id and its products' stock, locked in id order, in one round trip.</summary>
    private async Task<(string TransactionId, Dictionary<long, StockLevel> Levels)> LockAsync(IDocumentSession session, List<long> productIds)
    {
        var connection = session.Connection!;
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"set local lock_timeout = {_options.Value.LockTimeoutMs}"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(TransactionFate.CurrentIdSql));
        var select = new NpgsqlBatchCommand(InventorySql.LockLevels(_store));
        select.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = productIds.ToArray() });
        batch.BatchCommands.Add(select);
        await using var reader = await batch.ExecuteReaderAsync(CancellationToken.None);
        await reader.ReadAsync();
        var transactionId = reader.GetString(0);
        await reader.NextResultAsync();
        var levels = new Dictionary<long, StockLevel>(productIds.Count);
        while (await reader.ReadAsync())
        {
            var level = new StockLevel(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2));
            levels[level.ProductId] = level;
        }

        return (transactionId, levels);
    }

    /// <summary>
    /// One UPDATE for the batch's total per product (the take every strategy uses, <see cref="InventorySql.TakeStock"/>),
    /// checked: every product or the batch fails. Its rows are locked already (<see cref="LockAsync"/>), so it needs no
    /// <c>locked</c> CTE; the check constraint is its "enough stock" rule (the decisions were made against the locked
    /// levels, so it refuses only a bug), and a refusal fails the batch as a stale read does.
    /// </summary>
    private async Task TakeTotalsAsync(IDocumentSession session, IReadOnlyDictionary<long, int> totals)
    {
        var ids = totals.Keys.Order().ToArray();
        await using var command = new NpgsqlCommand(InventorySql.TakeStock(_store, InventorySql.DemandLines), session.Connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = ids.Select(id => totals[id]).ToArray() });
        int taken;
        try
        {
            taken = await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (PostgresException e) when (ProductStock.IsNotEnoughStock(e))
        {
            throw new StaleStockException();
        }

        if (taken != ids.Length)
        {
            throw new StaleStockException();
        }
    }

    /// <summary>
    /// Commits; when the commit throws, asks PostgreSQL what became of the transaction: committed returns normally,
    /// aborted rethrows (safe to retry), unknown throws <see cref="BatchFateUnknownException"/>.
    /// </summary>
    private async Task CommitOrSettleAsync(IDocumentSession session, string transactionId)
    {
        try
        {
            session.CorrelationId = null;
            using (BatchCorrelation.Begin())
            {
                await ProductStock.CommitAsync(session);
            }

            return;
        }
        catch (Exception e)
        {
            switch (await TransactionFate.OfAsync(_store, transactionId))
            {
                case TransactionFate.Committed:
                    return;
                case TransactionFate.Aborted:
                    throw;
                default:
                    throw new BatchFateUnknownException(e);
            }
        }
    }

    /// <summary>Gives the events a request's work just appended that request's id (its correlation id), as its own session would.</summary>
    private static void StampEvents(IDocumentSession session, HashSet<global::JasperFx.Events.IEvent> stamped, string? requestId)
    {
        foreach (var e in session.PendingChanges.Streams().SelectMany(s => s.Events))
        {
            if (stamped.Add(e))
            {
                e.CorrelationId = requestId;
            }
        }
    }

    private static int Queued(IDocumentSession session) =>
        session.PendingChanges.Operations().Count() + session.PendingChanges.Streams().Sum(s => s.Events.Count);

    public ValueTask DisposeAsync() => _committer.DisposeAsync();

    private sealed class OwnWorkFailedException(Pending<BatchedTake, StockOutcome> request, Exception inner)
        : Exception("A request's stock work failed.", inner)
    {
        public Pending<BatchedTake, StockOutcome> Request { get; } = request;
    }

    private sealed class BatchFateUnknownException(Exception inner) : Exception("The batch's commit may or may not have landed.", inner);
}
