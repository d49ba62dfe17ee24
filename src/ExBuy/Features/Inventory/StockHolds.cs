using System.Data.Common;
using ExBuy.Features.Catalog;
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

    /// <summary>The SQLSTATE the consume step raises when its hold is no longer held: the sale's transaction fails with it.</summary>
    public const string HoldGoneSqlState = "EB001";

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.stock_holds";

    private static string ConsumeFunction(string schema) => $"{schema}.exbuy_consume_stock_hold";

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

        // The consume step as one statement that fails the sale's transaction when the hold is not (or no longer) held.
        opts.Storage.ExtendedSchemaObjects.Add(new Function(
            new PostgresqlObjectName(schema, "exbuy_consume_stock_hold", Weasel.Postgresql.SchemaUtils.IdentifierUsage.Function),
            $$"""
            CREATE OR REPLACE FUNCTION {{ConsumeFunction(schema)}}(p_hold uuid, p_lines integer) RETURNS void LANGUAGE plpgsql AS $function$
            DECLARE
              consumed integer;
            BEGIN
              UPDATE {{schema}}.stock_holds SET state = 'consumed', finished_at = now() WHERE hold_id = p_hold AND state = 'held';
              GET DIAGNOSTICS consumed = ROW_COUNT;
              IF consumed <> p_lines THEN
                RAISE EXCEPTION 'stock hold % is no longer held', p_hold USING ERRCODE = '{{HoldGoneSqlState}}';
              END IF;
            END;
            $function$;
            """));
    }

    /// <summary>
    /// Takes every line (rows locked in id order, each only while its stock covers it and its price is the one the
    /// order was priced with) and records the hold, in one statement that commits on its own. Returns the products
    /// as committed, or null when any line was refused (then nothing changed). <paramref name="now"/> only stamps the
    /// products' <c>UpdatedAt</c>; the hold is timed by the database.
    /// </summary>
    public static async Task<Dictionary<long, Product>?> TakeAsync(
        IDocumentStore store, Guid holdId, IReadOnlyList<StockLine> demand, IReadOnlyDictionary<long, Product> pricedWith, DateTimeOffset now, CancellationToken ct)
    {
        var products = ProductStockSql.Table(store);
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        // When only some lines can be taken, the final select divides by zero: the statement fails and takes nothing.
        // When none can, it returns no rows and has taken nothing either. When the request already gave this hold up
        // (void rows), the insert violates the primary key and the statement takes nothing either.
        // Sent as one batch, which PostgreSQL runs as one implicit transaction, with synchronous_commit off for it:
        // the product rows are released the moment the statement ends, without waiting for the WAL flush. That is
        // safe because nobody relies on the hold alone: the sale that consumes it commits synchronously later, and its
        // flush covers the hold's earlier WAL; a hold lost in a crash took stock for a sale that never happened; a
        // release lost in a crash leaves a hold the sweeper releases.
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("set local synchronous_commit = off"));
        var command = new NpgsqlBatchCommand(
            $"""
             with wanted as (select * from unnest($1::bigint[], $2::int[], $3::numeric[]) as w(id, qty, price)),
             locked as (select p.id from {products} p where p.id in (select id from wanted) order by p.id for update),
             taken as (
                 update {products} p
                 set data = p.data || jsonb_build_object('Stock', (p.data ->> 'Stock')::int - w.qty, 'UpdatedAt', $4, 'Version', p.mt_version + 1),
                     mt_version = p.mt_version + 1, mt_last_modified = now()
                 from wanted w
                 where p.id = w.id and p.id in (select id from locked)
                   and (p.data ->> 'Stock')::int >= w.qty and (p.data ->> 'Price')::numeric = w.price
                 returning p.id, p.data, p.mt_version, w.qty),
             held as (insert into {Table(store)} (hold_id, product_id, quantity, created_at, state) select $5, id, qty, now(), 'held' from taken)
             select data, mt_version, 1 / (case when (select count(*) from taken) = cardinality($1) then 1 else 0 end) from taken
             """);
        batch.BatchCommands.Add(command);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = demand.Select(l => l.ProductId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = demand.Select(l => l.Quantity).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<decimal[]> { TypedValue = demand.Select(l => pricedWith[l.ProductId].Price).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
        var taken = new Dictionary<long, Product>(demand.Count);
        try
        {
            var serializer = store.Options.Serializer();
            await using var reader = await batch.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var product = serializer.FromJson<Product>(reader, 0);
                product.Version = reader.GetInt32(1);
                taken[product.Id] = product;
            }
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DivisionByZero or PostgresErrorCodes.UniqueViolation)
        {
            return null;
        }

        return taken.Count == demand.Count ? taken : null;
    }

    // held → released, with the stock back in the product rows: one statement, so exactly one caller gets the lines.
    private static string ReleaseSql(IDocumentStore store) =>
        $"""
         with gone as (update {Table(store)} set state = 'released', finished_at = now() where hold_id = $1 and state = 'held' returning product_id, quantity),
         locked as (select p.id from {ProductStockSql.Table(store)} p where p.id in (select product_id from gone) order by p.id for update),
         back as (
             update {ProductStockSql.Table(store)} p
             set data = p.data || jsonb_build_object('Stock', (p.data ->> 'Stock')::int + g.quantity, 'Version', p.mt_version + 1),
                 mt_version = p.mt_version + 1, mt_last_modified = now()
             from gone g
             where p.id = g.product_id and p.id in (select id from locked)
             returning p.id)
         select product_id, quantity from gone
         """;

    /// <summary>
    /// Gives a held hold's stock back to the database and returns its lines — to this caller only: a second release,
    /// or one after the sale consumed the hold, finds nothing. The caller then owes Redis those lines.
    /// </summary>
    public static async Task<IReadOnlyList<StockLine>> ReleaseAsync(IDocumentStore store, Guid holdId, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(ReleaseSql(store), connection);
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
        await using (var voiding = new NpgsqlCommand(
            $"""
             insert into {Table(store)} (hold_id, product_id, quantity, created_at, state, finished_at)
             select $1, unnest($2::bigint[]), 0, now(), 'void', now() on conflict do nothing
             """,
            connection, transaction))
        {
            voiding.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
            voiding.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = demand.Select(l => l.ProductId).ToArray() });
            if (await voiding.ExecuteNonQueryAsync(ct) > 0)
            {
                await transaction.CommitAsync(ct);
                return new HoldFate.NeverTaken();
            }
        }

        await using var release = new NpgsqlCommand(ReleaseSql(store), connection, transaction);
        release.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
        var lines = await ReadLinesAsync(release, ct);
        HoldFate fate;
        if (lines.Count > 0)
        {
            fate = new HoldFate.Released(lines);
        }
        else
        {
            await using var state = new NpgsqlCommand($"select state from {Table(store)} where hold_id = $1 limit 1", connection, transaction);
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
        await using var command = new NpgsqlCommand($"delete from {Table(store)}; delete from {RedisStockGates.Table(store)}", connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The holds no request will consume any more: held for longer than <see cref="Abandoned"/> by the database's clock.</summary>
    public static async Task<List<Guid>> AbandonedAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"select distinct hold_id from {Table(store)} where state = 'held' and created_at < now() - $1", connection);
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
        await using var command = new NpgsqlCommand($"delete from {Table(store)} where state <> 'held' and finished_at < now() - $1", connection);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = Retention });
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>True when the exception (or one inside it) is the consume step's refusal: the hold was released before the sale committed.</summary>
    public static bool IsHoldGone(Exception e) => e switch
    {
        PostgresException p => p.SqlState == HoldGoneSqlState,
        AggregateException a => a.InnerExceptions.Any(IsHoldGone),
        _ => e.InnerException is { } inner && IsHoldGone(inner),
    };

    internal static string ConsumeCall(IDocumentStore store) => $"select {ConsumeFunction(store.Options.DatabaseSchemaName)}(";
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

/// <summary>Consumes the hold inside the caller's Marten transaction: the sale and the end of the hold commit together,
/// and the transaction fails (SQLSTATE <see cref="StockHolds.HoldGoneSqlState"/>) when the hold is no longer held.</summary>
public sealed class ConsumeStockHoldOperation(IDocumentStore store, Guid holdId, int lines) : Weasel.Storage.IStorageOperation
{
    public Type DocumentType => typeof(Product);

    public OperationRole Role() => OperationRole.Other;

    public void ConfigureCommand(Weasel.Core.ICommandBuilder builder, IStorageSession session)
    {
        builder.Append(StockHolds.ConsumeCall(store));
        builder.AppendParameter(holdId);
        builder.Append(", ");
        builder.AppendParameter(lines);
        builder.Append(")");
    }

    public Task PostprocessAsync(DbDataReader reader, IList<Exception> exceptions, CancellationToken token) => Task.CompletedTask;
}
