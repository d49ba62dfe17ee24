using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation.Results;

namespace ExBuy.Infrastructure.Http;

/// <summary>
/// PostgreSQL's text and jsonb cannot hold a NUL character (U+0000): a name, a review body or a search term that
/// carries one fails in the database, as a 500. No ExBuy input has a use for it, so it is refused at the door:
/// in JSON strings by <see cref="NulFreeStringConverter"/>, in the query string by
/// <see cref="NulCharacterGuardMiddleware"/>. Both answer 400 naming the field.
/// </summary>
public static class NulCharacters
{
    public const string Reason = "must not contain NUL characters (U+0000).";
}

/// <summary>Reads JSON strings as usual and refuses one that contains <c>\u0000</c>; writes them unchanged.</summary>
public sealed class NulFreeStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var value = reader.GetString();
        // The serializer adds the property's path to the exception; the endpoint's error names that field.
        return value is not null && value.Contains('\0', StringComparison.Ordinal)
            ? throw new JsonException($"The value {NulCharacters.Reason}")
            : value;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>
/// Refuses a request whose query string decodes to a NUL character, before any endpoint sees it. (A NUL in the
/// path never gets this far: ASP.NET's URL decoder refuses it, and Kestrel answers 400.)
/// </summary>
public sealed class NulCharacterGuardMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        // A NUL can only arrive percent-encoded; the raw check keeps the common case free of work.
        if (request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) == true)
        {
            foreach (var (key, values) in request.Query)
            {
                if (key.Contains('\0', StringComparison.Ordinal) || values.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true))
                {
                    var name = key.Replace("\0", string.Empty, StringComparison.Ordinal);
                    return Refuse(context, name.Length > 0 ? name : "query");
                }
            }
        }

        return next(context);
    }

    private static Task Refuse(HttpContext context, string field) =>
        new FastEndpoints.ProblemDetails(
                [new ValidationFailure(field, $"{field} {NulCharacters.Reason}")],
                context.Request.Path.Value ?? "/",
                context.TraceIdentifier,
                StatusCodes.Status400BadRequest)
            .ExecuteAsync(context);
}
