using ExBuy.Infrastructure.Resilience;
using ExBuy.Infrastructure.Http;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Platform.Resilience;

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

        Failures.IsPostgresUnavailable(error).ShouldBeTrue(error.Message);
        Failures.NeverReachedPostgres(error).ShouldBeTrue("no connection was had: nothing can have been applied");
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

        Failures.IsPostgresUnavailable(error).ShouldBeTrue(error.Message);
        Failures.NeverReachedPostgres(error).ShouldBeFalse("the connection broke while it was in use: what it sent may have been applied");
    }

    [Fact]
    public async Task a_refused_connection_is_unavailable_even_wrapped()
    {
        var closed = new NpgsqlConnectionStringBuilder(ConnectionString) { Port = 1, Timeout = 2 };
        await using var pool = NpgsqlDataSource.Create(closed.ConnectionString);

        var error = await Failure(async () => await pool.OpenConnectionAsync(Ct));

        Failures.IsPostgresUnavailable(new InvalidOperationException("wrapped, as Marten wraps", error)).ShouldBeTrue(error.Message);
        Failures.NeverReachedPostgres(new InvalidOperationException("wrapped, as Marten wraps", error)).ShouldBeTrue(error.Message);
    }

    [Theory]
    [InlineData("POST", true)]
    [InlineData("PATCH", true)]
    [InlineData("GET", false)]
    public async Task a_write_whose_connection_broke_mid_way_is_answered_as_an_unknown_outcome(string method, bool unknown)
    {
        // A 503 that says "nothing was applied, retry" for a write that may have committed would make the client write twice.
        await using var pool = NpgsqlDataSource.Create(ConnectionString);
        await using var victim = await pool.OpenConnectionAsync(Ct);
        await using (var kill = pool.CreateCommand($"select pg_terminate_backend({victim.ProcessID})"))
        {
            await kill.ExecuteNonQueryAsync(Ct);
        }

        var error = await Failure(async () =>
        {
            await using var command = new NpgsqlCommand("select 1", victim);
            await command.ExecuteScalarAsync(Ct);
        });

        var (status, headers, body) = await HandledAsync(method, error);

        status.ShouldBe(503);
        headers.ContainsKey(UnhandledExceptionHandler.OutcomeHeader).ShouldBe(unknown);
        if (unknown)
        {
            headers[UnhandledExceptionHandler.OutcomeHeader].ToString().ShouldBe("unknown");
            body.ShouldContain("may or may not have been applied");
        }
    }

    [Fact]
    public async Task a_write_that_never_reached_the_database_says_nothing_was_applied()
    {
        await using var pool = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(ConnectionString) { Port = 1, Timeout = 2 }.ConnectionString);
        var error = await Failure(async () => await pool.OpenConnectionAsync(Ct));

        var (status, headers, body) = await HandledAsync("POST", error);

        status.ShouldBe(503);
        headers.ContainsKey(UnhandledExceptionHandler.OutcomeHeader).ShouldBeFalse();
        body.ShouldContain("nothing was applied");
    }

    [Fact]
    public async Task a_revision_conflict_that_escapes_is_a_409_not_a_500()
    {
        var (status, _, body) = await HandledAsync("POST", new JasperFx.ConcurrencyException(typeof(ExBuy.Features.Orders.Order), 1));

        status.ShouldBe(409);
        body.ShouldContain("nothing was applied");
    }

    private static async Task<(int Status, Microsoft.AspNetCore.Http.IHeaderDictionary Headers, string Body)> HandledAsync(string method, Exception error)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = "/api/orders";
        context.Response.Body = new MemoryStream();
        var handler = new UnhandledExceptionHandler(Microsoft.Extensions.Logging.Abstractions.NullLogger<UnhandledExceptionHandler>.Instance);

        (await handler.TryHandleAsync(context, error, Ct)).ShouldBeTrue();

        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, context.Response.Headers, await new StreamReader(context.Response.Body).ReadToEndAsync(Ct));
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

        Failures.IsPostgresUnavailable(error).ShouldBeFalse("a failing statement is a bug to fix, a 500, not a reason to retry");
    }
}
