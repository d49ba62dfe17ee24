using Microsoft.Net.Http.Headers;

namespace ExBuy.Infrastructure.Http;

/// <summary>
/// JSON is UTF-8 (RFC 8259 §8.1), and every ExBuy reader reads it so: FastEndpoints' binder, <c>/init</c>'s strict
/// decoder, the NUL guard. A <c>charset</c> parameter on a JSON content type is therefore either UTF-8 spelt some way
/// (<c>utf-8</c>, <c>UTF8</c>, quoted) or US-ASCII (UTF-8's subset), both normalised here to <c>charset=utf-8</c> so
/// no reader transcodes; or anything else, refused with 415 and DRF's <c>{"detail": "Unsupported media type ..."}</c>
/// before an endpoint runs, so nothing is written. Without this, a charset .NET does not know made the body reader
/// throw (a 500), and one it does know (Latin-1, UTF-16) was silently transcoded on some routes and not on others.
/// One rule at the edge, after <see cref="BodylessContentTypeMiddleware"/> (a GET without a body has already lost its
/// content type) and only on a routed request (an unknown path stays a 404).
/// </summary>
public sealed class JsonCharsetMiddleware(RequestDelegate next)
{
    private static readonly HashSet<string> Utf8Names = new(StringComparer.OrdinalIgnoreCase)
    {
        "utf-8", "utf8",
        // US-ASCII and its IANA aliases: ASCII bytes are the same bytes in UTF-8.
        "us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "iso-ir-6", "cp367", "ibm367", "csascii",
    };

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (context.GetEndpoint() is null || request.ContentType is not { } contentType || !request.HasJsonContentType()
            || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || !mediaType.Charset.HasValue)
        {
            return next(context);
        }

        var charset = HeaderUtilities.RemoveQuotes(mediaType.Charset).Value ?? string.Empty;
        if (!Utf8Names.Contains(charset.Trim()))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return context.Response.WriteAsJsonAsync(
                new ErrorDetail($"Unsupported media type \"{contentType}\" in request: JSON is read as UTF-8 (charset=utf-8 or none), not as {charset}."),
                ExBuyJson.Options,
                context.RequestAborted);
        }

        if (!string.Equals(mediaType.Charset.Value, "utf-8", StringComparison.Ordinal))
        {
            mediaType.Charset = "utf-8";
            request.ContentType = mediaType.ToString();
        }

        return next(context);
    }
}
