using ExBuy.Infrastructure.Marten;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Inventory;

/// <summary>A product's stock as the database has it: the units left and the row's version (bumped by every change).</summary>
public sealed record StockLevel(long ProductId, int Stock, int Version);

/// <summary>
/// The Inventory slice's own table of stock levels, <c>product_stock</c>: one narrow row per product, created through a
/// Weasel schema object beside Marten's tables and never inside them. Every strategy contends on this row; the catalogue
/// reads it beside the product document.
/// <para>
/// The rule "never sell what is not there" is defined once, as the table's check constraint <c>stock &gt;= 0</c>: a
/// take is a plain <c>stock = stock - n</c>, and a take that would go below zero fails with a check violation, which
/// aborts the whole statement (every line of an order, or none). The C# <see cref="StockDecider"/> reads the same rule
/// off committed rows to refuse early and to say how much was left; the Redis gate's Lua script (<see cref="RedisStock"/>)
/// is the unavoidable third copy, in front of the database. Each write bumps <c>version</c>, so the optimistic strategy's
/// compare-and-set (<see cref="TakeAtVersionsAsync"/>) can never overwrite a change it did not read.
/// </para>
/// </summary>
public static class ProductStock
{
    public const string NonNegativeConstraint = "product_stock_not_negative";

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.product_stock";

    public static void Register(StoreOptions opts)
    {
        var schema = opts.DatabaseSchemaName;
        var table = new Table(new PostgresqlObjectName(schema, "product_stock", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("product_id").AsPrimaryKey();
        table.AddColumn<int>("stock").NotNull();
        // Stock when the product entered the catalogue; the audit checks stock = initial − sold + returned − held.
        table.AddColumn<int>("initial_stock").NotNull();
        table.AddColumn<int>("version").NotNull().DefaultValue(1);
        // When the stock last changed (null: never), by the database clock; the catalogue shows it as the product's
        // updated_at when it is later than the document's.
        table.AddColumn<DateTimeOffset>("updated_at");
        table.CheckConstraints.Add(new Weasel.Core.TableCheckConstraint(NonNegativeConstraint, "stock >= 0"));
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>Queues the stock rows of new products in the caller's unit of work (they commit with the documents).</summary>
    public static void QueueCreate(IDocumentSession session, IReadOnlyCollection<(long ProductId, int Stock)> products)
    {
        if (products.Count == 0)
        {
            return;
        }

        session.QueueSqlCommand(
            InventorySql.QueueCreateRows(session.DocumentStore),
            products.Select(p => p.ProductId).ToArray(), products.Select(p => p.Stock).ToArray());
    }

    /// <summary>Inserts the stock rows of products just written in bulk (the seeder), in one statement of its own.</summary>
    public static async Task InsertAsync(IDocumentStore store, IReadOnlyCollection<(long ProductId, int Stock)> products, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(InventorySql.InsertRows(store), connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = products.Select(p => p.ProductId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = products.Select(p => p.Stock).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Queues the removal of deleted products' stock rows in the caller's unit of work.</summary>
    public static void QueueDelete(IDocumentSession session, IReadOnlyCollection<long> productIds) =>
        session.QueueSqlCommand(InventorySql.QueueDeleteRows(session.DocumentStore), productIds.ToArray());

    /// <summary>Queues stock given back (a cancelled order). Unconditional: returning never needs a check.</summary>
    public static void QueueReturn(IDocumentSession session, IReadOnlyList<StockLine> lines) =>
        session.QueueSqlCommand(
            InventorySql.QueueReturn(session.DocumentStore),
            lines.Select(l => l.ProductId).ToArray(), lines.Select(l => l.Quantity).ToArray());

    /// <summary>
    /// The optimistic commit of a decision, on the session's open transaction: every line taken at the version it was read
    /// with, or nothing. A version that moved throws <see cref="StaleStockException"/> (roll the transaction back).
    /// </summary>
    public static async Task TakeAtVersionsAsync(
        IDocumentSession session, IReadOnlyList<StockLine> demand, IReadOnlyDictionary<long, StockLevel> readWith, CancellationToken ct)
    {
        var connection = session.Connection ?? throw new InvalidOperationException("Begin the session's transaction first.");
        await using var command = new NpgsqlCommand(InventorySql.TakeAtVersions(session.DocumentStore), connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = demand.Select(l => l.ProductId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = demand.Select(l => l.Quantity).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = demand.Select(l => readWith[l.ProductId].Version).ToArray() });
        if (await command.ExecuteNonQueryAsync(ct) != demand.Count)
        {
            throw new StaleStockException();
        }
    }

    /// <summary>The unsafe write, queued: sets the stock computed from an earlier read, whatever happened since.</summary>
    public static void QueueOverwrite(IDocumentSession session, IReadOnlyDictionary<long, int> remaining) =>
        session.QueueSqlCommand(
            InventorySql.QueueOverwrite(session.DocumentStore),
            remaining.Keys.ToArray(), remaining.Values.ToArray());

    /// <summary>
    /// Takes every line at once on the session's open transaction (the rows stay locked until it ends). Null when the
    /// check constraint refused a line: the statement changed nothing, and the transaction is aborted (roll it back).
    /// Returns the stock left per product.
    /// </summary>
    public static async Task<Dictionary<long, int>?> TryTakeAsync(IDocumentSession session, IReadOnlyList<StockLine> demand, CancellationToken ct)
    {
        var connection = session.Connection ?? throw new InvalidOperationException("Begin the session's transaction first.");
        await using var command = new NpgsqlCommand(InventorySql.TakeReturningLeft(session.DocumentStore), connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = demand.Select(l => l.ProductId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = demand.Select(l => l.Quantity).ToArray() });
        try
        {
            return await ReadRemainingAsync(command, demand.Count, ct);
        }
        catch (PostgresException e) when (IsNotEnoughStock(e))
        {
            return null;
        }
    }

    /// <summary>
    /// <c>SELECT … FOR UPDATE</c> in id order on the session's transaction, waiting at most <paramref name="timeout"/> for
    /// each row, and returns the locked levels: one round trip (timeout and select batched).
    /// </summary>
    public static async Task<Dictionary<long, StockLevel>> LockAsync(IDocumentSession session, IReadOnlyList<long> orderedIds, TimeSpan timeout, CancellationToken ct)
    {
        var connection = session.Connection ?? throw new InvalidOperationException("Begin the session's transaction first.");
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"set local lock_timeout = {(int)timeout.TotalMilliseconds}"));
        var select = new NpgsqlBatchCommand(InventorySql.LockLevels(session.DocumentStore));
        select.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = orderedIds.ToArray() });
        batch.BatchCommands.Add(select);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        return await ReadLevelsAsync(reader, orderedIds.Count, ct);
    }

    /// <summary>The products' stock as last committed, read without any lock.</summary>
    public static async Task<Dictionary<long, StockLevel>> ReadAsync(IDocumentStore store, IReadOnlyCollection<long> productIds, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        return await ReadAsync(connection, null, store, productIds, ct);
    }

    /// <summary>The products' stock on the given connection (and transaction, if any).</summary>
    public static async Task<Dictionary<long, StockLevel>> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IDocumentStore store, IReadOnlyCollection<long> productIds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(InventorySql.ReadLevels(store), connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = productIds.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await ReadLevelsAsync(reader, productIds.Count, ct);
    }


    /// <summary>Forgets every stock row (a reset that deletes the products too).</summary>
    public static async Task ClearAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(InventorySql.ClearStock(store), connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>True when the exception (or one inside it) is the check constraint refusing to go below zero.</summary>
    public static bool IsNotEnoughStock(Exception e) => PostgresErrors.IsCheckViolation(e, NonNegativeConstraint);

    /// <summary>
    /// Commits a unit of work whose stock statements already ran on its transaction. Marten commits only a session with
    /// queued operations, so a stock-taking caller must have queued the documents that record why the stock moved.
    /// </summary>
    public static Task CommitWorkAsync(IDocumentSession session)
    {
        EnsureWorkQueued(session);
        return CommitAsync(session);
    }

    /// <summary>
    /// Refuses a stock work that queued nothing: Marten would commit nothing, so the stock change would stand without
    /// the records that explain it. Call it right after the work, before queueing anything of the strategy's own.
    /// </summary>
    public static void EnsureWorkQueued(IDocumentSession session)
    {
        if (!session.PendingChanges.Operations().Any() && !session.PendingChanges.Streams().Any())
        {
            throw new InvalidOperationException("The stock work queued nothing: the stock change would not be committed.");
        }
    }

    private static async Task<Dictionary<long, int>> ReadRemainingAsync(NpgsqlCommand command, int capacity, CancellationToken ct)
    {
        var remaining = new Dictionary<long, int>(capacity);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            remaining[reader.GetInt64(0)] = reader.GetInt32(1);
        }

        return remaining;
    }

    private static async Task<Dictionary<long, StockLevel>> ReadLevelsAsync(NpgsqlDataReader reader, int capacity, CancellationToken ct)
    {
        var levels = new Dictionary<long, StockLevel>(capacity);
        while (await reader.ReadAsync(ct))
        {
            var level = new StockLevel(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2));
            levels[level.ProductId] = level;
        }

        return levels;
    }

    /// <summary>
    /// Commits a unit of work that moves stock — deliberately not with the request's cancellation token. Once the
    /// stock is taken (under a lock, a row lock or a hold), the unit of work is finished even if the client has gone:
    /// a commit cut off mid-way may still land on the server, and the Redis copy of the stock must follow what
    /// committed, not what the request believed.
    /// </summary>
    public static Task CommitAsync(IDocumentSession session) => session.SaveChangesAsync(CancellationToken.None);
}

/// <summary>A stock row's version moved between the read and the optimistic commit: nothing was taken; read and decide again.</summary>
public sealed class StaleStockException() : Exception("The product stock changed since it was read.");
