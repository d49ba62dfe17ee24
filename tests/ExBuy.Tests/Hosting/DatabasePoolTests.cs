using ExBuy.Infrastructure.Marten;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Hosting;

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
    public async Task the_apis_connections_plan_prepared_statements_generically_for_data_in_memory()
    {
        var db = Host.Services.GetRequiredService<NpgsqlDataSource>();
        (await Setting(db, "plan_cache_mode")).ShouldBe("force_generic_plan");
        (await Setting(db, "random_page_cost")).ShouldBe("1.1");
    }

    [Fact]
    public async Task a_connection_string_that_sets_the_planner_settings_or_preparation_keeps_them()
    {
        var configured = new NpgsqlConnectionStringBuilder(App.ConnectionStrings.Postgres)
        {
            Options = "-c plan_cache_mode=auto -c random_page_cost=4 -c statement_timeout=12345",
            MaxAutoPrepare = 0,
        };

        var builder = MartenSetup.DataSourceBuilder(configured.ConnectionString);
        builder.ConnectionStringBuilder.MaxAutoPrepare.ShouldBe(0);
        await using var db = builder.Build();
        (await Setting(db, "plan_cache_mode")).ShouldBe("auto");
        (await Setting(db, "random_page_cost")).ShouldBe("4");
        (await Setting(db, "statement_timeout")).ShouldBe("12345ms");

        await using var defaults = MartenSetup.DataSourceBuilder(new NpgsqlConnectionStringBuilder(App.ConnectionStrings.Postgres) { Options = "-c statement_timeout=12345" }.ConnectionString).Build();
        (await Setting(defaults, "plan_cache_mode")).ShouldBe("force_generic_plan");
        (await Setting(defaults, "random_page_cost")).ShouldBe("1.1");
        (await Setting(defaults, "statement_timeout")).ShouldBe("12345ms", "options of the connection string are kept beside the default");

        // PostgreSQL takes a setting's name with dashes too: that is a setting of the string's, not a missing one.
        MartenSetup.DataSourceBuilder(new NpgsqlConnectionStringBuilder(App.ConnectionStrings.Postgres) { Options = "-c random-page-cost=4" }.ConnectionString)
            .ConnectionStringBuilder.Options.ShouldBe("-c random-page-cost=4 -c plan_cache_mode=force_generic_plan");
    }
}
