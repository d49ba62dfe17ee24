using System.Linq.Expressions;
using ExBuy.Infrastructure.Observability;
using FluentValidation;
using Marten;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory;

public static class InventoryRegistration
{
    public static IServiceCollection AddInventory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ConcurrencyOptions>()
            .Bind(configuration.GetSection(ConcurrencyOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.DefaultLockType != LockType.None, "ExBuy:Concurrency:DefaultLockType may not be 'none': it oversells by design.")
            .ValidateOnStart();
        services.AddOptions<StockRecoveryOptions>()
            .Bind(configuration.GetSection(StockRecoveryOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddHostedService<ProductStockBackfill>();
        services.AddSingleton<ExBuy.Infrastructure.Http.IEndpointConvention, UnsafeLockTypeGuard.Convention>();
        services.AddSingleton<RedisStock>();
        services.AddSingleton<ExBuy.Features.Audit.IAuditCheck, Audit.StockChecks>();
        services.AddSingleton<ExBuy.Infrastructure.Marten.IModuleReset, InventoryReset>();
        services.AddSingleton<ExBuy.Infrastructure.Marten.IModuleSeed, InventorySeed>();
        services.AddSingleton<StockStrategies>();
        services.AddSingleton<StockHoldSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<StockHoldSweeper>());
        services.AddSingleton<StockReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<StockReconciler>());
        services.AddSingleton(new ScrapeTimeCount(
            InventorySql.OpenHoldsCount, ExBuyMetrics.StockHoldsOpen));
        return services;
    }

    public static StoreOptions ConfigureInventoryEvents(this StoreOptions opts)
    {
        // Stock moves are recorded per operation stream (order-123, reservation-…), never per product, so the
        // event store adds no second hot row beside the product's.
        opts.Events.AddEventType<StockReserved>();
        ProductStock.Register(opts);
        StockHolds.Register(opts);
        RedisStockGates.Register(opts);
        return opts;
    }
}

/// <summary>Parses the <c>lock_type</c> query parameter shared by every stock-taking route.</summary>
public static class LockTypeParameter
{
    public const string Name = "lock_type";

    public static string Message => $"lock_type must be one of: {string.Join(", ", LockTypes.Names)}.";

    public static bool IsValid(string? value) => string.IsNullOrEmpty(value) || LockTypes.TryParse(value, out _);

    public static LockType? Parse(string? value) => LockTypes.TryParse(value, out var type) ? type : null;

    /// <summary>The rule every stock-taking request validates its <c>lock_type</c> with.</summary>
    public static void AddRule<T>(AbstractValidator<T> validator, Expression<Func<T, string?>> lockType) =>
        validator.RuleFor(lockType).Must(IsValid).WithMessage(Message).OverridePropertyName(Name);
}
