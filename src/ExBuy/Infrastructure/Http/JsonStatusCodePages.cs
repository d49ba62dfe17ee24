using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
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
/// Turns what escapes the endpoints into JSON: client faults keep their 4xx; PostgreSQL or Redis being unreachable
/// (stopped, restarting, paused, its pool exhausted) is a 503 problem with <c>Retry-After</c>, logged as one line, not a
/// stack trace per request; the rest is a logged 500. Nothing needs resetting when the server returns: the next
/// request opens fresh connections (Redis: the multiplexer reconnects by itself).
/// </summary>
public sealed partial class UnhandledExceptionHandler(ILogger<UnhandledExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var database = exception is not OperationCanceledException && DatabaseUnavailable.Is(exception);
        if (database || RedisUnavailable.Is(exception))
        {
            LogUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, database ? "PostgreSQL" : "Redis", exception.GetBaseException().Message);
            if (!httpContext.Response.HasStarted)
            {
                httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                httpContext.Response.Headers.RetryAfter = "1";
                await httpContext.Response.WriteAsJsonAsync(
                    new ProblemDetails
                    {
                        Type = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
                        Title = "Service Unavailable",
                        Status = StatusCodes.Status503ServiceUnavailable,
                        Detail = database ? "The database is unavailable; retry shortly." : "Redis is unavailable; retry shortly.",
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "503 on {Method} {Path}: {Server} is unavailable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, PathString path, string server, string reason);
}

/// <summary>Whether an exception (or one it wraps, as Marten's and Wolverine's do) says PostgreSQL cannot be reached or cannot take more work.</summary>
public static class DatabaseUnavailable
{
    public static bool Is(Exception exception) => exception switch
    {
        // Connection exceptions (class 08), the server shutting down or starting (57P01-57P03), out of connections
        // or resources (class 53).
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("53", StringComparison.Ordinal)
            || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        // Not a server error: refused or broken connections, timeouts, the pool exhausted.
        NpgsqlException n => n.IsTransient,
        AggregateException a => a.InnerExceptions.Any(Is),
        _ => exception.InnerException is { } inner && Is(inner),
    };
}

/// <summary>
/// Whether an exception (or one it wraps) says Redis cannot be reached: the connection closed, refused or not yet back
/// (a restart, a pause), or a command timed out — as with PostgreSQL, a 503, not a bug. Redis holds only copies (the
/// stock and coupon gates, rankings): what a failed script may have left in it is repaired from PostgreSQL by the
/// reconcilers.
/// </summary>
public static class RedisUnavailable
{
    public static bool Is(Exception exception) => exception switch
    {
        StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException => true,
        AggregateException a => a.InnerExceptions.Any(Is),
        _ => exception.InnerException is { } inner && Is(inner),
    };
}
