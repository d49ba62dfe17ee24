using System.Net;
using System.Security.Cryptography;
using System.Text;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Security;

/// <summary>
/// Guards destructive routes. In the local profile a loopback caller (or an in-process test host) is trusted;
/// everywhere else the <c>X-Admin-Key</c> header must match the configured key. No key configured means closed.
/// Before either, in every profile, the request must be one a web page cannot send cross-site without a preflight
/// (<see cref="CrossSiteRequests"/>): a loopback caller may be a browser running someone else's page.
/// </summary>
public sealed class AdminOnly<TRequest> : IPreProcessor<TRequest>
{
    public const string HeaderName = "X-Admin-Key";

    public Task PreProcessAsync(IPreProcessorContext<TRequest> context, CancellationToken ct)
    {
        var http = context.HttpContext;
        if (!CrossSiteRequests.NeedsPreflight(http))
        {
            return CrossSiteRequests.RefuseAsync(http, ct);
        }

        var options = http.RequestServices.GetRequiredService<IOptions<ExBuyOptions>>().Value;
        if (IsAllowed(http, options))
        {
            return Task.CompletedTask;
        }

        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        return http.Response.WriteAsJsonAsync(
            new ErrorDetail($"This route needs the {HeaderName} header outside the local profile."), ExBuyJson.Options, ct);
    }

    internal static bool IsAllowed(HttpContext http, ExBuyOptions options)
    {
        if (options.IsLocalProfile && IsLoopback(http.Connection.RemoteIpAddress))
        {
            return true;
        }

        var presented = http.Request.Headers[HeaderName].ToString();
        return !string.IsNullOrEmpty(options.AdminKey)
            && presented.Length > 0
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(options.AdminKey));
    }

    // TestServer leaves the remote address empty: an in-process caller is as local as it gets.
    private static bool IsLoopback(IPAddress? address) => address is null || IPAddress.IsLoopback(address);
}
