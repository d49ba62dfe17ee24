using ExBuy.Infrastructure.Http;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Features.Resilience;

/// <summary>Which real PostgreSQL failures the API answers with 503 (unavailable, retry) — and that a bug stays a 500.</summary>
public sealed class DatabaseUnavailableTests(AppFixture app) : IntegrationContext(app)
{
    private static string ConnectionString => Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? AppFixture.DefaultPostgres;

    private static async Task<Exception> Failure(Func<Task> action) => (await Should.ThrowAsync<Exception>(action)).ShouldNotBeNull();

    [Fact]
    public async Task an_exhausted_pool_is_unavailable()
    {
        await using var pool = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(ConnectionString) { MaxPoolSize = 1, Timeout = 1 }.ConnectionString);
        await using var only = await pool.OpenConnectionAsync(Ct);

        var error = await Failure(async () => await pool.OpenConnectionAsync(Ct));

        DatabaseUnavailable.Is(error).ShouldBeTrue(error.Message);
    }

    [Fact]
    public async Task a_connection_the_server_terminated_is_unavailable()
    {
        await using var pool = NpgsqlDataSource.Create(ConnectionString);
        await using var victim = await pool.OpenConnectionAsync(Ct);
        await using (var kill = pool.CreateCommand($"select pg_terminate_backend({victim.ProcessID})"))
        {
            await kill.ExecuteNonQueryAsync(Ct); // what a fast shutdown or restart does to every session
        }

        var error = await Failure(async () =>
        {
            await using var command = new NpgsqlCommand("select 1", victim);
            await command.ExecuteScalarAsync(Ct);
        });

        DatabaseUnavailable.Is(error).ShouldBeTrue(error.Message);
    }

    [Fact]
    public async Task a_refused_connection_is_unavailable_even_wrapped()
    {
        var closed = new NpgsqlConnectionStringBuilder(ConnectionString) { Port = 1, Timeout = 2 };
        await using var pool = NpgsqlDataSource.Create(closed.ConnectionString);

        var error = await Failure(async () => await pool.OpenConnectionAsync(Ct));

        DatabaseUnavailable.Is(new InvalidOperationException("wrapped, as Marten wraps", error)).ShouldBeTrue(error.Message);
    }

    [Fact]
    public async Task an_error_in_the_statement_is_not()
    {
        await using var pool = NpgsqlDataSource.Create(ConnectionString);
        var error = await Failure(async () =>
        {
            await using var command = pool.CreateCommand("select 1 / 0");
            await command.ExecuteScalarAsync(Ct);
        });

        DatabaseUnavailable.Is(error).ShouldBeFalse("a failing statement is a bug to fix, a 500, not a reason to retry");
    }
}
