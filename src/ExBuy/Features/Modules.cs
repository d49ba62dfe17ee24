using ExBuy.Features.Audit;
using ExBuy.Features.Balance;
using ExBuy.Features.Catalog;
using ExBuy.Features.Coupons;
using ExBuy.Features.FlashSale.FlashSaleStock;
using ExBuy.Features.Inventory;
using ExBuy.Features.Orders;
using ExBuy.Features.Rankings;
using ExBuy.Features.Reviews;
using ExBuy.Features.Uploads;
using ExBuy.Features.Users;
using Marten;
using Wolverine;

namespace ExBuy.Features;

/// <summary>
/// The modules, by capability. Each owns its documents, events, Redis keys, queues and services and registers them
/// here; the infrastructure (<c>Infrastructure/Hosting</c>) knows none of them. Endpoints and Wolverine handlers are
/// discovered by FastEndpoints and Wolverine from the assembly.
/// </summary>
public static class Modules
{
    public static WebApplicationBuilder AddExBuyModules(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.ConfigureMarten(opts => opts
            .ConfigureCatalog()
            .ConfigureReviews()
            .ConfigureOrders()
            .ConfigureInventoryEvents()
            .ConfigureFlashSale()
            .ConfigureRankings()
            .ConfigureUsers()
            .ConfigureBalance()
            .ConfigureCoupons()
            .ConfigureUploads());
        services.ConfigureWolverine(opts => opts.ConfigureCoupons());

        services.AddCatalog(builder.Configuration);
        services.AddReviews();
        services.AddInventory(builder.Configuration);
        services.AddOrders();
        services.AddBalance();
        services.AddCoupons(builder.Configuration);
        services.AddRankings();
        services.AddUsers();
        services.AddAudit();
        services.AddUploads(builder.Configuration);

        // The lock_type parameter of every stock-taking route, with the warning on `none`, in the OpenAPI document.
        services.Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", openApi => openApi.AddOperationTransformer(LockTypeOpenApi.DescribeAsync));
        return builder;
    }
}
