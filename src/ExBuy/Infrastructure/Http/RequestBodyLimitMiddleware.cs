using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Http;

/// <summary>Settings of the request body cap (section <c>ExBuy:Http</c>).</summary>
public sealed class RequestBodyOptions
{
    public const string Section = "ExBuy:Http";

    /// <summary>
    /// The largest request body a route takes unless it says otherwise (1 MiB): the largest valid body of the contract
    /// (a bulk order of the allowed size) is far below it. Uploads set their own limit (<c>[DisableRequestSizeLimit]</c>
    /// at the edge, 10 MB in the endpoint, answered as the contract says).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1024, 1L << 30)]
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>
/// Caps every request body before any endpoint reads it: a <c>Content-Length</c> over the route's limit is a 413 with a
/// JSON body at once (a 9 MB invalid order was read, validated item by item and answered after 5.9 s with a 59 MB
/// error list), and a body without a length is cut off at the limit by the server (Kestrel's per-request
/// <see cref="IHttpMaxRequestBodySizeFeature"/>, a 413 too). A route's <see cref="IRequestSizeLimitMetadata"/> wins: a
/// number is its own limit, none (<c>[DisableRequestSizeLimit]</c>) leaves the body to the endpoint.
/// </summary>
public sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<RequestBodyOptions> options)
{
    public Task InvokeAsync(HttpContext context)
    {
        var limit = options.Value.MaxBodyBytes;
        if (context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } own)
        {
            if (own.MaxRequestBodySize is not { } ownLimit)
            {
                return next(context);
            }

            limit = ownLimit;
        }

        if (context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return context.Response.WriteAsJsonAsync(
                new ErrorDetail($"The request body is {context.Request.ContentLength} bytes; this route takes at most {limit} (ExBuy:Http:MaxBodyBytes)."),
                ExBuyJson.Options);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        return next(context);
    }
}
