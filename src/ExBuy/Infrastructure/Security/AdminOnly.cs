using System.Net;
using System.Security.Cryptography;
using System.Text;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Security;

/// <summary>
/// Guards destructive routes. In the local profile a caller on this machine (127.0.0.1 or ::1, an address in
/// <c>ExBuy:LocalAddresses</c>, or an in-process test host) is trusted; everywhere else the <c>X-Admin-Key</c> header
/// must match the configured key. No key configured means closed. Before either, in every profile, the request must be
/// one a web page cannot send cross-site without a preflight (<see cref="CrossSiteRequests"/>): a loopback caller may
/// be a browser running someone else's page.
/// </summary>
/// <remarks>
/// The caller is the client a trusted proxy names (<see cref="ForwardedClientAddress"/>), not the proxy: behind
/// HAProxy every connection comes from 127.0.0.1. Other loopback addresses (127.0.0.6 is a service-mesh sidecar) are
/// forwarders for someone else and count as local only when configured.
/// </remarks>
public sealed class AdminOnly<TRequest> : IPreProcessor<TRequest>
{
    public const string HeaderName = "X-Admin-Key";

    public Task PreProcessAsync(IPreProcessorContext<TRequest> context, CancellationToken ct)
    {
        var http = context.HttpContext;
        // A read (GET, HEAD: the audit) changes nothing and a cross-site page cannot read its answer: only the key or
        // the local caller decides. Everything else must be a request no page can send cross-site without a preflight.
        var read = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method);
        if (!read && !CrossSiteRequests.NeedsPreflight(http))
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
        if (options.IsLocalProfile && IsThisMachine(http.Connection.RemoteIpAddress, options))
        {
            return true;
        }

        var presented = http.Request.Headers[HeaderName].ToString();
        return !string.IsNullOrEmpty(options.AdminKey)
            && presented.Length > 0
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(options.AdminKey));
    }

    // TestServer leaves the remote address empty: an in-process caller is as local as it gets.
    private static bool IsThisMachine(IPAddress? address, ExBuyOptions options)
    {
        if (address is null)
        {
            return true;
        }

        var normalized = AddressList.Normalize(address);
        return normalized.Equals(IPAddress.Loopback) || normalized.Equals(IPAddress.IPv6Loopback)
            || AddressList.Parse(options.LocalAddresses).Contains(normalized);
    }
}
