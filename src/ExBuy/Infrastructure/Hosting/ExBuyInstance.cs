using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Hosting;

/// <summary>
/// The name of this API process among the ones behind a load balancer: <c>ExBuy:InstanceId</c> when set (./exbuy sets
/// <c>api-1</c>, <c>api-2</c>, …), otherwise the machine name and the process id (in a container the machine name is
/// the container's or pod's host name). It is on every response (<see cref="HeaderName"/>) and in the health answers,
/// so a client sees how its requests spread.
/// </summary>
public sealed class ExBuyInstance(IOptions<ExBuyOptions> options)
{
    public const string HeaderName = "X-ExBuy-Instance";

    public string Id { get; } = Resolve(options.Value.InstanceId);

    public static string Resolve(string? configured) =>
        string.IsNullOrWhiteSpace(configured) ? $"{Environment.MachineName}-{Environment.ProcessId}" : configured.Trim();
}

/// <summary>Adds <see cref="ExBuyInstance.HeaderName"/> to every response, errors included (set when the headers go out,
/// so the exception handler's reset of the response cannot drop it).</summary>
public sealed class InstanceHeaderMiddleware(RequestDelegate next, ExBuyInstance instance)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var (response, id) = ((HttpResponse, string))state;
            response.Headers[ExBuyInstance.HeaderName] = id;
            return Task.CompletedTask;
        }, (context.Response, instance.Id));
        return next(context);
    }
}
