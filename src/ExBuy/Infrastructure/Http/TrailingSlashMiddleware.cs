namespace ExBuy.Infrastructure.Http;

/// <summary>
/// The Django original routes <c>/api/products/</c>; the contract accepts both spellings. Trimming the
/// slash before routing lets every endpoint declare one route.
/// </summary>
public sealed class TrailingSlashMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value;
        if (path is { Length: > 1 } && path[^1] == '/')
        {
            context.Request.Path = new PathString(path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/");
        }

        return next(context);
    }
}
