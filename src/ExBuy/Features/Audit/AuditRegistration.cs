namespace ExBuy.Features.Audit;

public static class AuditRegistration
{
    /// <summary>The audit's runner and its one shared run (<see cref="AuditSingleFlight"/>): singletons, so every request sees the run in progress.</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddSingleton<AuditRunner>();
        services.AddSingleton<AuditSingleFlight>();
        return services;
    }
}
