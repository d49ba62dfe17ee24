using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;

namespace ExBuy.Infrastructure.Http;

/// <summary>Every error the API answers carries a JSON body, including routing's bare 404/405/415.</summary>
public static class JsonStatusCodePages
{
    public static Task WriteAsync(StatusCodeContext context)
    {
        var response = context.HttpContext.Response;
        return response.WriteAsJsonAsync(
            new ErrorDetail(response.StatusCode == StatusCodes.Status404NotFound
                ? "Not found."
                : ReasonPhrases.GetReasonPhrase(response.StatusCode)),
            ExBuyJson.Options);
    }
}

/// <summary>DRF's error shape: <c>{"detail": "..."}</c>.</summary>
public sealed record ErrorDetail(string Detail);

/// <summary>The contract's business-rule refusal shape: <c>{"error": "..."}</c>.</summary>
public sealed record ErrorMessage(string Error)
{
    public static IResult Result(int status, string message) => TypedResults.Json(new ErrorMessage(message), ExBuyJson.Options, statusCode: status);
}

/// <summary>Turns what escapes the endpoints into JSON: client faults keep their 4xx, the rest is a logged 500.</summary>
public sealed partial class UnhandledExceptionHandler(ILogger<UnhandledExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => (499, "Client closed request."),
            _ => (StatusCodes.Status500InternalServerError, "Internal server error."),
        };

        if (status >= 500)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        if (httpContext.Response.HasStarted)
        {
            return true;
        }

        httpContext.Response.StatusCode = status;
        await httpContext.Response.WriteAsJsonAsync(new ErrorDetail(detail), ExBuyJson.Options, cancellationToken);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);
}
