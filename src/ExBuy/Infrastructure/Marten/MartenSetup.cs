using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Features.Orders;
using ExBuy.Features.ShopFlow;
using ExBuy.Features.Stats;
using ExBuy.Features.Reviews;
using ExBuy.Features.Uploads;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using Weasel.Core;
using Wolverine.Marten;

namespace ExBuy.Infrastructure.Marten;

public static class MartenSetup
{
    public static WebApplicationBuilder AddExBuyMarten(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set.");

        // One pool for Marten and for the few hand-written SQL statements (conditional updates, aggregates).
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());

        builder.Services.AddMarten(sp =>
            {
                var settings = sp.GetRequiredService<IOptions<ExBuyOptions>>().Value;
                var opts = new StoreOptions();
                opts.Connection(sp.GetRequiredService<NpgsqlDataSource>());
                opts.DatabaseSchemaName = settings.DatabaseSchema;
                opts.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.Default);
                opts.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                opts.Logger(new ExBuy.Infrastructure.Observability.MartenTimingLogger());

                opts.ConfigureCatalog();
                opts.ConfigureReviews();
                opts.ConfigureOrders();
                opts.ConfigureInventoryEvents();
                opts.ConfigureStats();
                opts.ConfigureShopFlow();
                opts.ConfigureUploads();
                return opts;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup()
            .AddAsyncDaemon(DaemonMode.Solo)
            .IntegrateWithWolverine();

        return builder;
    }
}
