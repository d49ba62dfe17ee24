using System.Data.Common;
using ExBuy.Features.Catalog;
using Marten;
using Npgsql;
using Weasel.Core;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;
using Weasel.Storage;

namespace ExBuy.Features.Inventory;

/// <summary>
/// Escrow for hot rows. The <c>atomic</c> strategy takes stock in one autocommitted statement that also records a
/// hold (all lines or none), so a product row is locked only for the microseconds of that statement — never across
/// a round trip to the application. The order, events, balance and coupon are then written in their own transaction,
/// which consumes the hold; if that transaction fails the hold is released (stock given back), and a sweeper
/// releases holds a crashed process left behind. Stock = initial − sold + returned − held, always.
/// </summary>
public static class StockHolds
{
    /// <summary>Holds older than this belong to a request that can no longer finish (requests give up after seconds).</summary>
    public static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(2);

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.stock_holds";

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "stock_holds", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("hold_id").AsPrimaryKey();
        table.AddColumn<long>("product_id").AsPrimaryKey();
        table.AddColumn<int>("quantity").NotNull();
        table.AddColumn<DateTimeOffset>("created_at").NotNull();
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>
    /// Takes every line (rows locked in id order, each only while its stock covers it and its price is the one the
    /// order was priced with) and records the hold, in one statement that commits on its own. Returns the products
    /// as committed, or null when any line was refused (then nothing changed).
    /// </summary>
    public static async Task<Dictionary<long, Product>?> TakeAsync(
        IDocumentStore store, Guid holdId, IReadOnlyList<StockLine> demand, IReadOnlyDictionary<long, Product> pricedWith, DateTimeOffset now, CancellationToken ct)
    {
        var products = ProductStockSql.Table(store);
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        // When only some lines can be taken, the final select divides by zero: the statement fails and takes nothing.
        // When none can, it returns no rows and has taken nothing either.
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
             held as (insert into {Table(store)} (hold_id, product_id, quantity, created_at) select $5, id, qty, $4 from taken)
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
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DivisionByZero)
        {
            return null;
        }

        return taken.Count == demand.Count ? taken : null;
    }

    /// <summary>Gives a hold's stock back and deletes it, once (a second release finds nothing).</summary>
    public static async Task<IReadOnlyList<StockLine>> ReleaseAsync(IDocumentStore store, Guid holdId, CancellationToken ct)
    {
        var products = ProductStockSql.Table(store);
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            $"""
             with gone as (delete from {Table(store)} where hold_id = $1 returning product_id, quantity),
             locked as (select p.id from {products} p where p.id in (select product_id from gone) order by p.id for update),
             back as (
                 update {products} p
                 set data = p.data || jsonb_build_object('Stock', (p.data ->> 'Stock')::int + g.quantity, 'Version', p.mt_version + 1),
                     mt_version = p.mt_version + 1, mt_last_modified = now()
                 from gone g
                 where p.id = g.product_id and p.id in (select id from locked)
                 returning p.id)
             select product_id, quantity from gone
             """,
            connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = holdId });
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
        await using var command = new NpgsqlCommand($"delete from {Table(store)}", connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The holds no request will consume any more.</summary>
    public static async Task<List<Guid>> AbandonedAsync(IDocumentStore store, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"select distinct hold_id from {Table(store)} where created_at < $1", connection);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now - Abandoned, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        var holds = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            holds.Add(reader.GetGuid(0));
        }

        return holds;
    }
}

/// <summary>The hold consumed, as part of the unit of work that records the sale; fails that unit when the hold is gone.</summary>
public sealed class StockHoldGoneException() : Exception("The stock hold was released before the order could be recorded.");

/// <summary>Deletes the hold inside the caller's Marten transaction: the sale and the end of the hold commit together.</summary>
public sealed class ConsumeStockHoldOperation(IDocumentStore store, Guid holdId, int lines) : Weasel.Storage.IStorageOperation
{
    public Type DocumentType => typeof(Product);

    public OperationRole Role() => OperationRole.Other;

    public void ConfigureCommand(Weasel.Core.ICommandBuilder builder, IStorageSession session)
    {
        builder.Append($"delete from {StockHolds.Table(store)} where hold_id = ");
        builder.AppendParameter(holdId);
        builder.Append(" returning product_id");
    }

    public async Task PostprocessAsync(DbDataReader reader, IList<Exception> exceptions, CancellationToken token)
    {
        var deleted = 0;
        while (await reader.ReadAsync(token))
        {
            deleted++;
        }

        if (deleted != lines)
        {
            exceptions.Add(new StockHoldGoneException());
        }
    }
}

/// <summary>Releases the holds of requests that died between taking the stock and recording the sale.</summary>
public sealed partial class StockHoldSweeper(IDocumentStore store, RedisStock redisStock, TimeProvider clock, ILogger<StockHoldSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(30), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                SweepFailed(logger, e);
            }
        }
    }

    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var released = 0;
        foreach (var hold in await StockHolds.AbandonedAsync(store, clock.GetUtcNow(), ct))
        {
            var lines = await StockHolds.ReleaseAsync(store, hold, ct);
            if (lines.Count > 0)
            {
                await redisStock.CompensateAsync(lines);
                released++;
            }
        }

        return released;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing abandoned stock holds failed; retrying on the next tick")]
    private static partial void SweepFailed(ILogger logger, Exception e);
}
