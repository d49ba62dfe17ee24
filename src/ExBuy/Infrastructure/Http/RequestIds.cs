using System.Buffers;
using ExBuy.Infrastructure.Marten;

namespace ExBuy.Infrastructure.Http;

/// <summary>
/// A client's request id (<c>X-Request-Id</c>): 1 to 100 letters, digits and <c>. _ : -</c>. The API echoes it and
/// stores it with every write the request commits — Marten's correlation id on each event the request appends
/// (<c>mt_events.correlation_id</c>, by <see cref="RequestCorrelationListener"/>) and the claim row's <c>request_id</c> —,
/// so that a checker can tell, after a run, what each answer's request really did: stored once, not at all, twice, or
/// stored although the answer said it failed. Without the header nothing is stored (the peers' suites send none).
/// </summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";
    public const int MaxLength = 100;

    private static readonly SearchValues<char> Allowed = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");
    private static readonly AsyncLocal<string?> CurrentId = new();

    /// <summary>The request id of the request this code runs for, or null.</summary>
    public static string? Current => CurrentId.Value;

    public static bool IsValid(string value) => value.Length is > 0 and <= MaxLength && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>Runs <paramref name="next"/> with <paramref name="id"/> as the current request id (tests, background work on a request's behalf).</summary>
    public static async Task RunWithAsync(string? id, Func<Task> next)
    {
        var before = CurrentId.Value;
        CurrentId.Value = id;
        try
        {
            await next();
        }
        finally
        {
            CurrentId.Value = before;
        }
    }
}

/// <summary>Reads and checks <c>X-Request-Id</c>: a malformed one is a 400 that changes nothing; a valid one is echoed and current for the request.</summary>
public sealed class RequestIdMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var values = context.Request.Headers[RequestIds.Header];
        if (values.Count == 0)
        {
            return next(context);
        }

        var id = values.Count == 1 ? values[0] ?? "" : "";
        if (!RequestIds.IsValid(id))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return context.Response.WriteAsJsonAsync(
                new ErrorDetail($"{RequestIds.Header} must be one value of 1 to {RequestIds.MaxLength} letters, digits and . _ : -"), ExBuyJson.Options);
        }

        context.Response.Headers[RequestIds.Header] = id;
        return RequestIds.RunWithAsync(id, () => next(context));
    }
}
