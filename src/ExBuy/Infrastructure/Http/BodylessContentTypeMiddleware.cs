using FastEndpoints;
using Microsoft.AspNetCore.Http.Features;

namespace ExBuy.Infrastructure.Http;

/// <summary>
/// A request without a body has no content to type: many HTTP clients (and k6 scripts that share one header object)
/// send <c>Content-Type: application/json</c> on every GET, and FastEndpoints would then read the empty body as JSON
/// and answer 400 "The input does not contain any JSON tokens". Django and Spring ignore the header there, and so does
/// ExBuy: when a request carries no body, its content type is dropped before the endpoint binds — on the methods
/// whose requests take no body (GET, HEAD, DELETE, OPTIONS, TRACE) and on endpoints without a request DTO. A POST,
/// PUT or PATCH to an endpoint that reads a JSON body keeps it, so an empty body there is still the serializer's clear
/// 400. Runs after routing (it needs the endpoint) and before <see cref="JsonCharsetMiddleware"/>.
/// </summary>
public sealed class BodylessContentTypeMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentType is not null && HasNoBody(context) && (TakesNoBody(request.Method) || EndpointReadsNoBody(context.GetEndpoint())))
        {
            // The guards of destructive routes still judge what was sent (CrossSiteRequests).
            context.Features.Set(new ExBuy.Infrastructure.Security.SentContentType(request.ContentType));
            request.ContentType = null;
        }

        return next(context);
    }

    private static bool HasNoBody(HttpContext context) =>
        context.Request.ContentLength == 0
        || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false }
        // No detection feature (not Kestrel): HTTP/1.1's rule, no length and no chunked transfer.
        || (context.Features.Get<IHttpRequestBodyDetectionFeature>() is null
            && context.Request.ContentLength is null
            && !context.Request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.TransferEncoding));

    private static bool TakesNoBody(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsDelete(method)
        || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    // FastEndpoints binds nothing for EmptyRequest: such an endpoint (POST /coupons?userId=&policyId=) reads no body.
    private static bool EndpointReadsNoBody(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<EndpointDefinition>() is { } definition
        && (definition.ReqDtoType is null || definition.ReqDtoType == typeof(EmptyRequest));
}
