using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ExBuy.Infrastructure.Resilience;
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

/// <summary>
/// The one place that turns what escapes the endpoints into HTTP answers, by <see cref="Failures.Classify">kind</see>:
/// client faults keep their 4xx; a lost race (a conflict, a lock timeout) is a 409 — nothing was committed; PostgreSQL or
/// Redis being unreachable (stopped, restarting, paused, refusing writes, its pool exhausted) is a 503 problem with
/// <c>Retry-After</c>, logged as one line, not a stack trace per request; the rest is a logged 500. A write whose
/// connection to PostgreSQL broke while it ran may have committed: its 503 says so (<c>X-ExBuy-Outcome: unknown</c>
/// and the detail), so that nobody reads it as "nothing happened, retry". Work after a commit never gets here
/// (<see cref="AfterCommit"/>). Nothing needs resetting when a server returns: the next request opens fresh
/// connections (Redis: the multiplexer reconnects by itself).
/// </summary>
public sealed partial class UnhandledExceptionHandler(ILogger<UnhandledExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>The header that marks an answer whose write may or may not have committed.</summary>
    public const string OutcomeHeader = "X-ExBuy-Outcome";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var request = httpContext.Request;
        var kind = exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested
            ? FailureKind.Other
            : Failures.Classify(exception);
        if (kind is FailureKind.PostgresUnavailable or FailureKind.RedisUnavailable)
        {
            var database = kind == FailureKind.PostgresUnavailable;
            var unknown = database && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !Failures.NeverReachedPostgres(exception);
            LogUnavailable(logger, request.Method, request.Path, database ? "PostgreSQL" : "Redis", exception.GetBaseException().Message);
            if (!httpContext.Response.HasStarted)
            {
                httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                httpContext.Response.Headers.RetryAfter = "1";
                if (unknown)
                {
                    httpContext.Response.Headers[OutcomeHeader] = "unknown";
                }

                await httpContext.Response.WriteAsJsonAsync(
                    new ProblemDetails
                    {
                        Type = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
                        Title = "Service Unavailable",
                        Status = StatusCodes.Status503ServiceUnavailable,
                        Detail = unknown
                            ? "The database connection broke while the request ran: it may or may not have been applied. Check before retrying, or retry with the same Idempotency-Key."
                            : database ? "The database is unavailable; nothing was applied; retry shortly." : "Redis is unavailable; nothing was applied; retry shortly.",
                    },
                    ExBuyJson.Options,
                    "application/problem+json",
                    cancellationToken);
            }

            return true;
        }

        var (status, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => (499, "Client closed request."),
            _ when kind is FailureKind.Conflict or FailureKind.LockTimeout => (StatusCodes.Status409Conflict, "The request raced another one and nothing was applied; try again."),
            _ => (StatusCodes.Status500InternalServerError, "Internal server error."),
        };

        if (status >= 500)
        {
            LogUnhandled(logger, exception, request.Method, request.Path);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "503 on {Method} {Path}: {Server} is unavailable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, PathString path, string server, string reason);
}
