using Marten;

namespace ExBuy.Features.Inventory;

/// <summary>
/// The Inventory module's hand-written statements, in one place: its own tables <c>product_stock</c>
/// (<see cref="ProductStock"/>) and <c>stock_holds</c> (<see cref="StockHolds"/>), which are Weasel tables beside
/// Marten's and have no document or LINQ provider, so every statement on them is SQL. Each statement says in one line
/// why it is written by hand beyond that. Statements for Marten's queued commands (<c>QueueSqlCommand</c>) use its
/// <c>?</c> placeholders; the others use Npgsql's positional <c>$n</c>.
/// </summary>
public static class InventorySql
{
    /// <summary>The lines of a demand as the take's row source <c>w(id, quantity)</c>, from parameters $1 and $2.</summary>
    public const string DemandLines = "unnest($1::bigint[], $2::int[]) as w(id, quantity)";

    /// <summary>
    /// The stock take, written once for every strategy: each product row of <paramref name="lines"/> (a row source
    /// <c>w</c> with <c>id</c> and <c>quantity</c>) loses its quantity and bumps its version. The rule "never sell what
    /// is not there" is not in it: the table's check constraint <see cref="ProductStock.NonNegativeConstraint"/> fails the
    /// whole statement instead. <paramref name="also"/> adds a path's own condition (its <c>locked</c> CTE, a version
    /// compare-and-set); <paramref name="returning"/> what it reads back. Hand-written: a set-based UPDATE … FROM unnest
    /// of all lines in one statement, which Marten has no API for.
    /// </summary>
    public static string TakeStock(IDocumentStore store, string lines, string also = "", string returning = "") =>
        $"update {ProductStock.Table(store)} s set stock = s.stock - w.quantity, version = s.version + 1, updated_at = now() from {lines} where s.product_id = w.id{also}{returning}";

    /// <summary>
    /// Stock given back, the take's inverse (a cancelled order, a released hold): unconditional, returning never needs a
    /// check. Hand-written for the same reason as <see cref="TakeStock"/>.
    /// </summary>
    public static string GiveBackStock(IDocumentStore store, string lines, string also = "", string returning = "") =>
        $"update {ProductStock.Table(store)} s set stock = s.stock + w.quantity, version = s.version + 1, updated_at = now() from {lines} where s.product_id = w.id{also}{returning}";

    /// <summary>
    /// A CTE <c>locked</c> that locks the stock rows of <paramref name="ids"/> (a parameter or a subquery) in id order:
    /// an <c>UPDATE … FROM</c> locks rows in whatever order its join produces, and two orders naming the same products in
    /// opposite orders would deadlock (PostgreSQL 40P01, seen under the contention tests). Hand-written: row locks in a
    /// chosen order have no Marten API.
    /// </summary>
    public static string LockInIdOrder(IDocumentStore store, string ids) =>
        $"locked as materialized (select product_id from {ProductStock.Table(store)} where product_id = any({(ids.StartsWith('$') ? ids : $"array{ids}")}) order by product_id for update)";

    // ---- product_stock -------------------------------------------------------------------------------------------

    /// <summary>New products' stock rows, queued in Marten's unit of work (? placeholders). Hand-written: a Weasel table.</summary>
    public static string QueueCreateRows(IDocumentStore store) =>
        $"insert into {ProductStock.Table(store)} (product_id, stock, initial_stock) select id, stock, stock from unnest(?::bigint[], ?::int[]) as p(id, stock)";

    /// <summary>The seeder's stock rows, one statement of their own ($1, $2). Hand-written: a Weasel table, one multi-row insert.</summary>
    public static string InsertRows(IDocumentStore store) =>
        $"insert into {ProductStock.Table(store)} (product_id, stock, initial_stock) select id, stock, stock from unnest($1::bigint[], $2::int[]) as p(id, stock)";

    /// <summary>Deleted products' stock rows, queued (?). Hand-written: a Weasel table.</summary>
    public static string QueueDeleteRows(IDocumentStore store) => $"delete from {ProductStock.Table(store)} where product_id = any(?)";

    /// <summary>A cancelled order's stock back, queued (two ? arrays), its lines summed per product and locked in id order.</summary>
    public static string QueueReturn(IDocumentStore store) =>
        $"""
         with w as (select id, sum(quantity)::int as quantity from unnest(?::bigint[], ?::int[]) as l(id, quantity) group by id),
         {LockInIdOrder(store, "(select id from w)")}
         {GiveBackStock(store, "w", also: " and s.product_id in (select product_id from locked)")}
         """;

    /// <summary>
    /// The optimistic commit ($1 ids, $2 quantities, $3 versions): the take, each line only at the version it was read
    /// with (the affected count tells a stale read). Hand-written: a compare-and-set on many rows in one statement.
    /// </summary>
    public static string TakeAtVersions(IDocumentStore store) =>
        $"""
         with {LockInIdOrder(store, "$1")}
         {TakeStock(store, "unnest($1::bigint[], $2::int[], $3::int[]) as w(id, quantity, version)", also: " and s.version = w.version and s.product_id in (select product_id from locked)")}
         """;

    /// <summary>The unsafe strategy's blind write, queued (? ids, ? stock): sets a stock computed from an earlier read. Deliberately not the take.</summary>
    public static string QueueOverwrite(IDocumentStore store) =>
        $"""
         with w as (select * from unnest(?::bigint[], ?::int[]) as w(id, stock)),
         {LockInIdOrder(store, "(select id from w)")}
         update {ProductStock.Table(store)} s set stock = w.stock, version = s.version + 1, updated_at = now()
         from w where s.product_id = w.id and s.product_id in (select product_id from locked)
         """;

    /// <summary>The take on a transaction that keeps the rows locked ($1, $2), returning what each product has left.</summary>
    public static string TakeReturningLeft(IDocumentStore store) =>
        $"""
         with {LockInIdOrder(store, "$1")}
         {TakeStock(store, DemandLines, also: " and s.product_id in (select product_id from locked)", returning: " returning s.product_id, s.stock")}
         """;

    /// <summary>The rows of $1 locked FOR UPDATE in id order, with their levels. Hand-written: Marten has no row locks on a Weasel table.</summary>
    public static string LockLevels(IDocumentStore store) =>
        $"select product_id, stock, version from {ProductStock.Table(store)} where product_id = any($1) order by product_id for update";

    /// <summary>The committed levels of $1, no lock. Hand-written: a Weasel table.</summary>
    public static string ReadLevels(IDocumentStore store) => $"select product_id, stock, version from {ProductStock.Table(store)} where product_id = any($1)";

    /// <summary>Every stock row gone (a reset). Hand-written: a Weasel table.</summary>
    public static string ClearStock(IDocumentStore store) => $"delete from {ProductStock.Table(store)}";

    /// <summary>
    /// Upgrade: products written before the stock table get their row from the old document fields, once at start.
    /// Hand-written: an idempotent insert … select from Marten's document table into a Weasel table.
    /// </summary>
    public static string BackfillStockRows(IDocumentStore store) => $"""
        insert into {ProductStock.Table(store)} (product_id, stock, initial_stock)
        select p.id, coalesce((p.data ->> 'Stock')::int, 0), coalesce((p.data ->> 'InitialStock')::int, (p.data ->> 'Stock')::int, 0)
        from {store.Options.DatabaseSchemaName}.mt_doc_product p
        where not exists (select 1 from {ProductStock.Table(store)} s where s.product_id = p.id)
        on conflict (product_id) do nothing
        """;

    // ---- stock_gates ---------------------------------------------------------------------------------------------

    /// <summary>Products ($1) recorded as having a Redis stock gate (the seeder's and the reconciler's one form). Hand-written: a Weasel table, on conflict.</summary>
    public static string RecordGates(IDocumentStore store) =>
        $"insert into {RedisStockGates.Table(store)} (product_id) select unnest($1::bigint[]) on conflict do nothing";

    /// <summary>Products ($1) whose gate is gone. Hand-written: a Weasel table.</summary>
    public static string ForgetGates(IDocumentStore store) => $"delete from {RedisStockGates.Table(store)} where product_id = any($1)";

    /// <summary>Every gated product. Hand-written: a Weasel table.</summary>
    public static string GatedIds(IDocumentStore store) => $"select product_id from {RedisStockGates.Table(store)}";

    /// <summary>The stock reconciler's advisory lock ($1), tried: one pass at a time across nodes. Hand-written: Marten has no advisory-lock API on a plain transaction.</summary>
    public const string TryReconcilerLock = "select pg_try_advisory_xact_lock($1)";

    // ---- stock_holds ---------------------------------------------------------------------------------------------

    /// <summary>
    /// The atomic hold take ($1 hold, $2 ids, $3 quantities), all lines or none, in one autocommitted statement: every
    /// line's row locked in id order (the scalar count is evaluated before the update touches a row, so every lock is
    /// taken first, in order), taken (<see cref="TakeStock"/>; the check constraint fails the statement) and recorded as
    /// held. A product without a stock row leaves the count short: nothing is updated and the last clause raises
    /// <see cref="StockHolds.ProductGoneSqlState"/>. Hand-written: take and record in one statement, one round trip.
    /// </summary>
    public static string TakeHold(IDocumentStore store, string missingRowFunction) =>
        $"""
         with {LockInIdOrder(store, "$2")},
         took as (
             {TakeStock(store, "unnest($2::bigint[], $3::int[]) as w(id, quantity)", also: " and (select count(*) from locked) = cardinality($2::bigint[])", returning: " returning s.product_id as id, s.stock as left_over, w.quantity")}),
         held as (
             insert into {StockHolds.Table(store)} (hold_id, product_id, quantity, created_at, state)
             select $1, t.id, t.quantity, now(), 'held' from took t),
         counted as (select count(*) as n from took)
         select t.id, t.left_over from counted c left join took t on true
         where case when c.n = cardinality($2::bigint[]) then true else {missingRowFunction}($1) end
         """;

    /// <summary>held → released ($1 hold), with the stock back in the product rows: one statement, so exactly one caller gets the lines.</summary>
    public static string ReleaseHold(IDocumentStore store) =>
        $"""
         with gone as (update {StockHolds.Table(store)} set state = 'released', finished_at = now() where hold_id = $1 and state = 'held' returning product_id, quantity),
         locked as (select s.product_id from {ProductStock.Table(store)} s where s.product_id in (select product_id from gone) order by s.product_id for update),
         back as ({GiveBackStock(store, "gone as w(id, quantity)", also: " and s.product_id in (select product_id from locked)", returning: " returning s.product_id")})
         select product_id, quantity from gone
         """;

    /// <summary>Void rows ($1 hold, $2 ids) that make a take still in flight fail on the primary key. Hand-written: a Weasel table, on conflict.</summary>
    public static string VoidHold(IDocumentStore store) =>
        $"""
         insert into {StockHolds.Table(store)} (hold_id, product_id, quantity, created_at, state, finished_at)
         select $1, unnest($2::bigint[]), 0, now(), 'void', now() on conflict do nothing
         """;

    /// <summary>A hold's state ($1). Hand-written: a Weasel table.</summary>
    public static string HoldState(IDocumentStore store) => $"select state from {StockHolds.Table(store)} where hold_id = $1 limit 1";

    /// <summary>Every hold and every gate row gone (a reset). Hand-written: Weasel tables.</summary>
    public static string ClearHolds(IDocumentStore store) => $"delete from {StockHolds.Table(store)}; delete from {RedisStockGates.Table(store)}";

    /// <summary>Holds still held after $1 by the database's clock. Hand-written: a Weasel table, its partial index.</summary>
    public static string AbandonedHolds(IDocumentStore store) =>
        $"select distinct hold_id from {StockHolds.Table(store)} where state = 'held' and created_at < now() - $1";

    /// <summary>Finished holds older than $1. Hand-written: a Weasel table.</summary>
    public static string PurgeFinishedHolds(IDocumentStore store) =>
        $"delete from {StockHolds.Table(store)} where state <> 'held' and finished_at < now() - $1";

    /// <summary>held → consumed (? hold) in the sale's unit of work, counting the lines. Hand-written: a Weasel table, read back by a storage operation.</summary>
    public static string ConsumeHold(string holdsTable) =>
        $"with consumed as (update {holdsTable} set state = 'consumed', finished_at = now() where hold_id = ? and state = 'held' returning 1) select count(*) from consumed";

    /// <summary>The open-holds gauge. Hand-written: a Weasel table.</summary>
    public static string OpenHoldsCount(IDocumentStore store) => $"select count(distinct hold_id) from {StockHolds.Table(store)} where state = 'held'";
}
