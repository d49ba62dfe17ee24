using ExBuy.Infrastructure.Marten;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Platform.Hosting;

/// <summary>The settings of the API's PostgreSQL pool: ExBuy's defaults, and a connection string's own values kept.</summary>
public sealed class DatabasePoolTests(AppFixture app) : IntegrationContext(app)
{
    private static async Task<string> Setting(NpgsqlDataSource db, string name)
    {
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var command = new NpgsqlCommand($"select current_setting('{name}')", connection);
        return (string)(await command.ExecuteScalarAsync(Ct))!;
    }

    [Fact]
    public async Task the_apis_connections_leave_the_plan_choice_to_the_server()
    {
        // Generic plans for every statement made a filtered catalogue search a thousand times slower on a large catalogue:
        // the pool must not force them (the stock take sets them for itself).
        var db = Host.Services.GetRequiredService<NpgsqlDataSource>();
        (await Setting(db, "plan_cache_mode")).ShouldBe("auto");
        (await Setting(db, "random_page_cost")).ShouldBe("4");
    }

    [Fact]
    public async Task a_connection_string_that_sets_preparation_or_options_keeps_them()
    {
        var configured = new NpgsqlConnectionStringBuilder(App.ConnectionStrings.Postgres) { Options = "-c statement_timeout=12345", MaxAutoPrepare = 0 };

        var builder = MartenSetup.DataSourceBuilder(configured.ConnectionString);
        builder.ConnectionStringBuilder.MaxAutoPrepare.ShouldBe(0);
        await using var db = builder.Build();
        (await Setting(db, "statement_timeout")).ShouldBe("12345ms");

        MartenSetup.DataSourceBuilder(App.ConnectionStrings.Postgres).ConnectionStringBuilder.MaxAutoPrepare.ShouldBe(256, "the default when the string sets none");
    }
}
