using Marten;
using Npgsql;

namespace ExBuy.Tests.Features.Coupons;

/// <summary>
/// A real PostgreSQL failure on demand: a trigger that raises on the rows a predicate picks, on each table named,
/// until disposed. Nothing in the application knows about it.
/// </summary>
public sealed class PostgresFault : IAsyncDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly List<string> _tables;
    private readonly string _name;

    private PostgresFault(NpgsqlDataSource db, List<string> tables, string name)
    {
        _db = db;
        _tables = tables;
        _name = name;
    }

    /// <param name="tables">Table names (unqualified), found in whichever schema holds them.</param>
    /// <param name="when">A trigger WHEN condition over <c>new</c>.</param>
    public static async Task<PostgresFault> OnInsertAsync(NpgsqlDataSource db, IEnumerable<string> tables, string when)
    {
        var name = $"exbuy_test_fault_{Guid.NewGuid():N}";
        var qualified = new List<string>();
        await using (var find = db.CreateCommand("select table_schema || '.' || table_name from information_schema.tables where table_name = any($1)"))
        {
            find.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = tables.ToArray() });
            await using var reader = await find.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                qualified.Add(reader.GetString(0));
            }
        }

        await using (var create = db.CreateCommand($"create function public.{name}() returns trigger language plpgsql as $$ begin raise exception 'injected fault'; end $$"))
        {
            await create.ExecuteNonQueryAsync();
        }

        foreach (var table in qualified)
        {
            await using var trigger = db.CreateCommand($"create trigger {name} before insert on {table} for each row when ({when}) execute function public.{name}()");
            await trigger.ExecuteNonQueryAsync();
        }

        return new PostgresFault(db, qualified, name);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var table in _tables)
        {
            await using var drop = _db.CreateCommand($"drop trigger if exists {_name} on {table}");
            await drop.ExecuteNonQueryAsync();
        }

        await using var function = _db.CreateCommand($"drop function if exists public.{_name}()");
        await function.ExecuteNonQueryAsync();
    }
}
