using ExBuy.Infrastructure.Http;
using Microsoft.Net.Http.Headers;

namespace ExBuy.Infrastructure.Security;

/// <summary>
/// Whether a web page on another site could have made the browser send this request without asking the server first.
/// A "simple" request (GET, HEAD or POST with no custom header and a <c>text/plain</c>, form or multipart content type,
/// or none at all) goes out without a CORS preflight: <c>fetch(url, {method: "POST", mode: "no-cors"})</c> from any
/// page the developer has open reaches 127.0.0.1. ExBuy answers no preflight, so a request that would need one — any
/// other method, a JSON content type, or the <see cref="AdminHeaderName"/> / <c>X-Admin-Key</c> header — can only
/// come from a client that is not a cross-site page. Destructive and set-up routes take only those, in every profile.
/// </summary>
public static class CrossSiteRequests
{
    /// <summary>A header with no meaning but "a browser page did not send this": its value is not read.</summary>
    public const string AdminHeaderName = "X-ExBuy-Admin";

    public static readonly string Refusal =
        $"This route changes or sets up the shop: send it with Content-Type: application/json (a body is optional) or with an {AdminHeaderName} header " +
        "(any value), which a web page cannot send to another site without asking first.";

    /// <summary>True when the request could not have been sent cross-site by a page without a CORS preflight.</summary>
    public static bool NeedsPreflight(HttpContext http)
    {
        var request = http.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsPost(request.Method))
        {
            return true;
        }

        if (request.Headers.ContainsKey(AdminHeaderName) || request.Headers.ContainsKey(AdminOnly<object>.HeaderName))
        {
            return true;
        }

        // A body-less request's content type is dropped before the endpoint binds (BodylessContentTypeMiddleware);
        // what the client sent is what a browser would have had to ask about.
        var contentType = http.Features.Get<SentContentType>()?.Value ?? request.ContentType;
        return MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            && parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Writes the 415 that tells the caller what to send instead.</summary>
    public static Task RefuseAsync(HttpContext http, CancellationToken ct)
    {
        http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
        return http.Response.WriteAsJsonAsync(new ErrorDetail(Refusal), ExBuyJson.Options, ct);
    }
}

/// <summary>The content type a body-less request arrived with, kept when the pipeline drops it for binding.</summary>
public sealed record SentContentType(string Value);
