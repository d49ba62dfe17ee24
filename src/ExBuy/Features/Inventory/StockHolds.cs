using System.Data.Common;
using Marten;
using Npgsql;
using Weasel.Core;
using Weasel.Postgresql;
using Weasel.Postgresql.Functions;
using Weasel.Postgresql.Tables;
using Weasel.Storage;

namespace ExBuy.Features.Inventory;

/// <summary>
/// Escrow for hot rows. The <c>atomic</c> strategy takes stock in one autocommitted statement that also records a
/// hold (all lines or none), so a product row is locked only for the microseconds of that statement — never across
/// a round trip to the application. The order, events, balance and coupon are then written in their own transaction,
/// which consumes the hold; if that transaction fails the hold is released (stock given back), and a sweeper
/// releases holds a crashed process left behind. Stock = initial − sold + returned − held, always.
/// <para>
/// A hold row lives through <c>held</c> → <c>consumed</c> (the sale committed) or <c>released</c> (the stock went
/// back); a request that gave up before knowing whether its take happened writes <c>void</c> rows, which make that
/// take fail if it still arrives. Each transition is one conditional statement, so exactly one party makes it — and
/// only the party whose release moved a hold from held to released gives its quantity back to Redis. Finished rows
/// are kept for <see cref="Retention"/> (so a request can still learn what became of its hold), then purged. Times
/// are the database's clock (<c>now()</c>), never a node's.
/// </para>
/// </summary>
public static class StockHolds
{
    /// <summary>Holds older than this belong to a request that can no longer finish (requests give up after seconds).</summary>
    public static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(2);

    /// <summary>How long finished holds are kept (from the moment they finished) before the sweeper purges them.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.stock_holds";

    private static string MissingRowFunction(string schema) => $"{schema}.exbuy_stock_row_missing";

    /// <summary>The SQLSTATE the hold step raises when a product of the demand has no stock row (it was deleted).</summary>
    public const string ProductGoneSqlState = "EB003";

    public static void Register(StoreOptions opts)
    {
        var schema = opts.DatabaseSchemaName;
        var table = new Table(new PostgresqlObjectName(schema, "stock_holds", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("hold_id").AsPrimaryKey();
        table.AddColumn<long>("product_id").AsPrimaryKey();
        table.AddColumn<int>("quantity").NotNull();
        table.AddColumn<DateTimeOffset>("created_at").NotNull();
        table.AddColumn<string>("state").NotNull().DefaultValueByString("held");
        table.AddColumn<DateTimeOffset>("finished_at"); // when the hold stopped being held: the purge counts from here
        // Finished rows stay for a while; the sweeper, the audit and the open-holds gauge look only at the held ones.
        table.Indexes.Add(new IndexDefinition("ix_stock_holds_held") { Columns = ["created_at"], Predicate = "state = 'held'" });
        opts.Storage.ExtendedSchemaObjects.Add(table);

        // The take is one plain SQL statement (InventorySql.TakeHold); this function only raises its "no stock row" error, and runs only
        // then. (The take used to be a PL/pgSQL function: 18 % of PostgreSQL's CPU in a paid-orders run, a sixth of that
        // planning its statements again on each call.)
        opts.Storage.ExtendedSchemaObjects.Add(new Function(
            new PostgresqlObjectName(schema, "exbuy_stock_row_missing", Weasel.Postgresql.SchemaUtils.IdentifierUsage.Function),
            $$"""
            CREATE OR REPLACE FUNCTION {{MissingRowFunction(schema)}}(p_hold uuid) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $function$
            BEGIN
              RAISE EXCEPTION 'a product of hold % has no stock row', p_hold USING ERRCODE = '{{ProductGoneSqlState}}';
            END;
            $function$;
            """));
    }

    /// <summary>
    /// Takes every line and records the hold, in one statement that commits on its own (the stock rows are locked for
    /// that statement alone). Returns the stock each product was left with, or null when any line was refused (then
    /// nothing changed). The hold is timed by the database's clock.
    /// </summary>
    /// <exception cref="HoldNotAttemptedException">No connection to the database: the take was never sent.</exception>
    public static async Task<Dictionary<long, int>?> TakeAsync(IDocumentStore store, Guid holdId, IReadOnlyList<StockLine> demand, CancellationToken ct)
    {
        // The statement's last clause must see a row to judge the count by; a demand without lines has none to take anyway.
        ArgumentOutOfRangeException.ThrowIfZero(demand.Count);
        await using var connection = store.Storage.Database.CreateConnection();
        try
        {
            await connection.OpenAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            throw new HoldNotAttemptedException(e);
        }

        // A line the stock cannot cover fails the statement on the check constraint; a product without a stock row fails
        // it on its last clause; a hold the request already gave up (void rows) fails it on the primary key. Each time it
        // takes nothing. Sent as one batch, which PostgreSQL runs as one implicit transaction, with synchronous_commit
        // off for it: the stock rows are released the moment the statement ends, without waiting for the WAL flush.
        // That is safe because nobody relies on the hold alone: the sale that consumes it commits synchronously later,
        // and its flush covers the hold's earlier WAL; a hold lost in a crash took stock for a sale that never
        // happened; a release lost in a crash leaves a hold the sweeper releases.
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set local synchronous_commit = off"));
        // One plan per connection for the take, costed for data in memory. With plan_cache_mode=auto PostgreSQL planned
        // it again on every call (0.17 ms, half its cost): its generic plan, which cannot know the array holds one to
        // three ids, looked dearer than the custom ones. Costed with random_page_cost=4 (disk seeks) that generic plan
        // scans the whole stock table; with 1.1, the usual setting for data in memory, it looks the rows up by key.
        // Local to this statement's transaction: for the catalogue's filtered searches a generic plan can be a thousand
        // times slower (perf/README.md, "The write path").
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set local plan_cache_mode = force_generic_plan"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set local random_page_cost = 1.1"));
        var command = new NpgsqlBatchCommand(InventorySql.TakeHold(store, MissingRowFunction(store.Options.DatabaseSchemaName)));
        batch.BatchCommands.Add(command);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = demand.Select(l => l.ProductId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = demand.Select(l => l.Quantity).ToArray() });
        var taken = new Dictionary<long, int>(demand.Count);
        try
        {
            await using var reader = await batch.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                taken[reader.GetInt64(0)] = reader.GetInt32(1);
            }
        }
        catch (PostgresException e) when (ProductStock.IsNotEnoughStock(e) || e.SqlState is ProductGoneSqlState or PostgresErrorCodes.UniqueViolation)
        {
            return null;
        }

        return taken;
    }

    /// <summary>
    /// Gives a held hold's stock back to the database and returns its lines — to this caller only: a second release,
    /// or one after the sale consumed the hold, finds nothing. The caller then owes Redis those lines.
    /// </summary>
    public static async Task<IReadOnlyList<StockLine>> ReleaseAsync(IDocumentStore store, Guid holdId, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(InventorySql.ReleaseHold(store), connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
        return await ReadLinesAsync(command, ct);
    }

    /// <summary>
    /// For a request that gave up on its hold (its take or its sale failed, perhaps with an unknown outcome): settles
    /// what became of it. A take that never happened is made impossible (void rows); a hold still held is released;
    /// otherwise the sale consumed it or someone else released it. One transaction.
    /// </summary>
    public static async Task<HoldFate> SettleAsync(IDocumentStore store, Guid holdId, IReadOnlyList<StockLine> demand, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // The void rows conflict with a take that committed; with a take still in flight the insert waits for it.
        await using (var voiding = new NpgsqlCommand(InventorySql.VoidHold(store), connection, transaction))
        {
            voiding.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
            voiding.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = demand.Select(l => l.ProductId).ToArray() });
            if (await voiding.ExecuteNonQueryAsync(ct) > 0)
            {
                await transaction.CommitAsync(ct);
                return new HoldFate.NeverTaken();
            }
        }

        await using var release = new NpgsqlCommand(InventorySql.ReleaseHold(store), connection, transaction);
        release.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
        var lines = await ReadLinesAsync(release, ct);
        HoldFate fate;
        if (lines.Count > 0)
        {
            fate = new HoldFate.Released(lines);
        }
        else
        {
            await using var state = new NpgsqlCommand(InventorySql.HoldState(store), connection, transaction);
            state.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
            fate = await state.ExecuteScalarAsync(ct) as string == "consumed" ? new HoldFate.Consumed() : new HoldFate.ReleasedByOther();
        }

        await transaction.CommitAsync(ct);
        return fate;
    }

    private static async Task<IReadOnlyList<StockLine>> ReadLinesAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var lines = new List<StockLine>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            lines.Add(new StockLine(reader.GetInt64(0), reader.GetInt32(1)));
        }

        return lines;
    }

    /// <summary>Forgets every hold (a reset that deletes the products and their events too).</summary>
    public static async Task ClearAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(InventorySql.ClearHolds(store), connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The holds no request will consume any more: held for longer than <see cref="Abandoned"/> by the database's clock.</summary>
    public static async Task<List<Guid>> AbandonedAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(InventorySql.AbandonedHolds(store), connection);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = Abandoned });
        var holds = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            holds.Add(reader.GetGuid(0));
        }

        return holds;
    }

    /// <summary>Deletes finished holds older than <see cref="Retention"/>.</summary>
    public static async Task<int> PurgeFinishedAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(InventorySql.PurgeFinishedHolds(store), connection);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = Retention });
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Queues the hold's consumption (held → consumed, one conditional statement) in the sale's unit of work, so it goes
    /// to the database in the same round trip as the sale's writes and commits with them. When the hold is no longer held
    /// (the sweeper released it), the unit of work fails with <see cref="HoldGoneException"/> and nothing of the sale
    /// commits.
    /// </summary>
    public static void QueueConsume(IDocumentSession session, Guid holdId, int lines) =>
        session.QueueOperation(new ConsumeHoldOperation(Table(session.DocumentStore), holdId, lines));

    /// <summary>
    /// The consumption as a Marten storage operation: its statement returns how many lines it consumed, and a count short
    /// of the hold's lines fails the whole unit of work (Marten rolls the transaction back and throws it).
    /// </summary>
    private sealed class ConsumeHoldOperation(string table, Guid holdId, int lines) : Marten.Internal.Operations.IStorageOperation
    {
        // What Marten's own queued SQL names: no document type, so no document storage to create or sort by.
        public Type DocumentType => typeof(Marten.Storage.StorageFeatures);

        public void ConfigureCommand(Weasel.Postgresql.ICommandBuilder builder, Weasel.Storage.IStorageSession session)
        {
            var parameters = builder.AppendWithParameters(
                InventorySql.ConsumeHold(table),
                '?');
            parameters[0].Value = holdId;
            parameters[0].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid;
        }

        public async Task PostprocessAsync(DbDataReader reader, IList<Exception> exceptions, CancellationToken token)
        {
            var consumed = await reader.ReadAsync(token) ? reader.GetInt64(0) : 0;
            if (consumed != lines)
            {
                exceptions.Add(new HoldGoneException(holdId));
            }
        }

        public OperationRole Role() => OperationRole.Other;
    }
}

/// <summary>What became of a hold its request gave up on (<see cref="StockHolds.SettleAsync"/>).</summary>
public abstract record HoldFate
{
    private HoldFate()
    {
    }

    /// <summary>The take never happened and now never will: the request still owes Redis its gate decrement.</summary>
    public sealed record NeverTaken : HoldFate;

    /// <summary>This request released the hold: the stock is back in the database and Redis is owed the lines.</summary>
    public sealed record Released(IReadOnlyList<StockLine> Lines) : HoldFate;

    /// <summary>The sale committed (the client saw an error after COMMIT): the sale stands, and Redis with it.</summary>
    public sealed record Consumed : HoldFate;

    /// <summary>The sweeper released it first, and gave Redis its share: nothing is owed.</summary>
    public sealed record ReleasedByOther : HoldFate;
}

/// <summary>The sale's hold was released (by the sweeper) before the sale could consume it: nothing of the sale may commit.</summary>
public sealed class HoldGoneException(Guid holdId) : Exception($"Stock hold {holdId} is no longer held.");

/// <summary>The hold's take was never sent (no connection could be opened): nothing of it can be in the database.</summary>
public sealed class HoldNotAttemptedException(Exception inner) : Exception("The stock hold was not attempted: no database connection.", inner);
