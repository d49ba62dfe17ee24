using System.Reflection;
using ExBuy.Infrastructure;
using ExBuy.Infrastructure.Security;
using FastEndpoints;
using FluentValidation.Results;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Inventory;

/// <summary>
/// <c>lock_type=none</c> is a demonstration of what the other strategies prevent: it oversells, and its blind
/// write-back also erases the holds and returns that safe strategies made on the same product meanwhile. In the
/// local profile (a loopback caller) it stays open for the load-test suites; anywhere else it needs the
/// <c>X-Admin-Key</c> header, like the other destructive routes, and is answered 403 with a problem body otherwise.
/// In every profile it also needs a request a web page cannot send cross-site (<see cref="CrossSiteRequests"/>): 415.
/// </summary>
/// <remarks>
/// Attached to every endpoint whose request binds <see cref="LockTypeParameter.Name"/> (found from its
/// <see cref="BindFromAttribute"/> when the endpoints are configured), so a new stock-taking route is covered without
/// remembering to. It reads the bound value, not the raw query, so no other spelling of the field gets past it.
/// </remarks>
public sealed class UnsafeLockTypeGuard : IGlobalPreProcessor
{
    public const string Description =
        "Concurrency strategy: optimistic, pessimistic, redlock, row, atomic (the default), batched (group commit) or none. " +
        "`none` is deliberately unsafe: it reads the stock, pauses and writes back the value it computed from that read, " +
        "with no lock and no check. It oversells, and its blind write-back also erases what safe strategies did to the " +
        "same product in between: units they took or hold become sellable again, units a cancellation returned disappear. " +
        "Open to loopback callers in the local profile; elsewhere it needs the X-Admin-Key header (403 without).";

    private readonly Func<object, string?> _lockType;

    private UnsafeLockTypeGuard(Func<object, string?> lockType) => _lockType = lockType;

    /// <summary>The guard as an endpoint convention, registered by <see cref="InventoryRegistration"/>.</summary>
    internal sealed class Convention : ExBuy.Infrastructure.Http.IEndpointConvention
    {
        public void Apply(EndpointDefinition endpoint) => AttachTo(endpoint);
    }

    /// <summary>Adds the guard to an endpoint whose request carries <c>lock_type</c>; any other endpoint is left alone.</summary>
    public static void AttachTo(EndpointDefinition endpoint)
    {
        if (LockTypeProperty(endpoint.ReqDtoType) is { } property)
        {
            endpoint.PreProcessors(Order.Before, new UnsafeLockTypeGuard(request => property.GetValue(request) as string));
        }
    }

    /// <summary>The request property bound from <c>lock_type</c>, if the request type has one.</summary>
    public static PropertyInfo? LockTypeProperty(Type? requestType) =>
        requestType?.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => p.PropertyType == typeof(string)
                && p.GetCustomAttribute<BindFromAttribute>()?.Name == LockTypeParameter.Name);

    public Task PreProcessAsync(IPreProcessorContext context, CancellationToken ct)
    {
        // A request that failed to bind has no value to judge; it is refused as malformed anyway.
        if (context.Request is null || context.HttpContext.Response.HasStarted
            || LockTypeParameter.Parse(_lockType(context.Request)) != LockType.None)
        {
            return Task.CompletedTask;
        }

        var http = context.HttpContext;
        if (!CrossSiteRequests.NeedsPreflight(http))
        {
            return CrossSiteRequests.RefuseAsync(http, ct);
        }

        if (AdminOnly<object>.IsAllowed(http, http.RequestServices.GetRequiredService<IOptions<ExBuyOptions>>().Value))
        {
            return Task.CompletedTask;
        }

        var reason = $"lock_type=none oversells and erases other strategies' holds and returns; outside the local profile it needs the {AdminOnly<object>.HeaderName} header.";
        return new ProblemDetails([new ValidationFailure(LockTypeParameter.Name, reason)], http.Request.Path, http.TraceIdentifier, StatusCodes.Status403Forbidden)
            .ExecuteAsync(http);
    }
}
