using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Orders;

public static class OrdersRegistration
{
    public static StoreOptions ConfigureOrders(this StoreOptions opts)
    {
        IdSequences.Register<Order>(opts);
        opts.Schema.For<Order>()
            .UseNumericRevisions(true)
            .Duplicate(x => x.UserId)
            .Duplicate(x => x.Status);
        opts.Events.AddEventType<OrderPlaced>();
        opts.Events.AddEventType<OrderStatusChanged>();
        opts.Events.AddEventType<OrderCancelled>();
        opts.Events.AddEventType<OrderRevived>();
        opts.Schema.For<IdempotencyRecord>();
        return opts;
    }

    public static IServiceCollection AddOrders(this IServiceCollection services)
    {
        services.AddOptions<OrderLimitsOptions>().BindConfiguration(OrderLimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<PlacePaidOrderHandler>();
        services.AddSingleton<ExBuy.Features.Audit.IAuditCheck, Audit.OrderChecks>().AddSingleton<ExBuy.Features.Audit.IAuditCheck, Audit.PaymentChecks>();
        services.AddSingleton<IModuleSeed, OrdersSeed>();
        return services.AddSingleton<ChangeOrderStatus.ChangeOrderStatusHandler>();
    }
}
