using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FastEndpoints;
using FluentValidation;
using FluentValidation.Validators;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ExBuy.Tests.Infrastructure;

/// <summary>One route of the running app, as its endpoint metadata describes it.</summary>
public sealed record ApiRoute(string Method, string Pattern, IReadOnlyList<string> RouteParameters, EndpointDefinition? Definition)
{
    public override string ToString() => $"{Method} {Pattern}";

    /// <summary>Every route the app serves, read from its endpoint data source: nothing is listed by hand.</summary>
    public static IReadOnlyList<ApiRoute> All(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(method => new ApiRoute(
                method,
                e.RoutePattern.RawText ?? "/",
                e.RoutePattern.Parameters.Select(p => p.Name).ToList(),
                e.Metadata.GetMetadata<EndpointDefinition>())))
            .Where(r => r.Method is not "HEAD" and not "OPTIONS")
            .DistinctBy(r => r.ToString())
            .OrderBy(r => r.Pattern, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
            .ToList();

    public bool HasBody => Method is "POST" or "PUT" or "PATCH";
}

/// <summary>A generated request that must be refused (or, when <see cref="MayBeValid"/>, at least not fail on the server).</summary>
public sealed record BadRequest(
    ApiRoute Route, string Description, string Url, string? Body, string? ContentType, bool MayBeValid = false, byte[]? RawBody = null, string? Header = null, string? HeaderValue = null)
{
    public override string ToString() => $"{Route} [{Description}] {Url}";

    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(new HttpMethod(Route.Method), Url);
        if (Header is not null)
        {
            message.Headers.TryAddWithoutValidation(Header, HeaderValue);
        }

        if ((RawBody ?? (Body is null ? null : Encoding.UTF8.GetBytes(Body))) is { } bytes)
        {
            var content = new ByteArrayContent(bytes);
            if (ContentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }

            message.Content = content;
        }

        return message;
    }
}

/// <summary>
/// Generates bad input for a route from its request type: every body field gets values of the wrong JSON type,
/// numbers beyond its range, fractions where integers are expected, NUL characters and oversized strings, nulls
/// (where the field is required, and inside arrays); every query parameter and route value gets the same in
/// text; every body route gets malformed JSON and malformed multipart. The rest of each request is a plausible
/// valid request (<see cref="World"/> supplies real ids), so a bad value travels as deep as the app lets it.
/// </summary>
public static class BadRequests
{
    public const int LongStringLength = 10_001;

    public sealed record World(long ProductId, long FlashSaleProductId, long OrderId, long UserId, long PolicyId)
    {
        /// <summary>The existing entity a route value points at, by the route it is in.</summary>
        public long RouteId(string pattern, string parameter) => (pattern, parameter) switch
        {
            (_, "user_id") => UserId,
            _ when pattern.StartsWith("/api/orders", StringComparison.Ordinal) => OrderId,
            _ when pattern.StartsWith("/api/coupon-policies", StringComparison.Ordinal) => PolicyId,
            _ when pattern.StartsWith("/api/flash-sales", StringComparison.Ordinal) => FlashSaleProductId,
            _ => ProductId,
        };

        /// <summary>The value a body field holds in the otherwise valid request, by its JSON name.</summary>
        public JsonNode? FieldValue(string jsonName, Kind kind) => Normalise(jsonName) switch
        {
            "productid" or "product" => ProductId,
            "userid" => UserId,
            "policyid" => PolicyId,
            "status" => "shipped",
            _ => kind switch
            {
                Kind.Whole => 1,
                Kind.Number => 1m,
                Kind.Flag => true,
                _ => "x",
            },
        };

        private static string Normalise(string name) => name.Replace("_", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
    }

    public enum Kind { Whole, Number, Text, Flag, List, Record }

    public sealed record Field(string Name, Kind Kind, bool Required, Type Type, IReadOnlyList<Field> Element);

    private static readonly string Long = new('x', LongStringLength);

    /// <summary>Raw JSON tokens per kind: each is wrong for a field of that kind.</summary>
    private static IEnumerable<(string Label, string Json)> BadJson(Field field)
    {
        IEnumerable<(string, string)> values = field.Kind switch
        {
            Kind.Whole =>
            [
                ("string", "\"1\""), ("bool", "true"), ("object", "{}"), ("fraction", "1.5"), ("exponent", "1e30"),
                ("beyond long", "99999999999999999999"), ("below long", "-9223372036854775809"), ("negative", "-1"),
            ],
            Kind.Number => [("text", "\"abc\""), ("bool", "true"), ("object", "{}"), ("beyond decimal", "1e30"), ("huge exponent", "1e400"), ("negative", "-1")],
            Kind.Text =>
            [
                ("number", "12"), ("bool", "true"), ("object", "{}"), ("array", "[]"), ("NUL", "\"a\\u0000b\""), ("only NUL", "\"\\u0000\""),
                ("long", $"\"{Long}\""),
            ],
            Kind.Flag => [("text", "\"maybe\""), ("number", "2"), ("object", "{}")],
            Kind.List => [("text", "\"abc\""), ("object", "{}"), ("null element", "[null]"), ("number element", "[1]"), ("nested array", "[[]]")],
            _ => [("text", "\"abc\""), ("array", "[]"), ("number", "1")],
        };

        return field.Required ? values.Append(("null", "null")) : values;
    }

    /// <summary>Text values per kind for the query string (already URL-encoded).</summary>
    private static IEnumerable<(string Label, string Encoded, bool MayBeValid)> BadQuery(Field field) => field.Kind switch
    {
        Kind.Whole =>
        [
            ("text", "abc", false), ("fraction", "1.5", false), ("beyond long", "99999999999999999999", false), ("negative", "-1", false),
            ("NUL", "1%00", false),
            // In range for an int, but a page this far on would start past int's end (a page of 100 rows from
            // 2,147,483,700 on): a filter may match nothing, a page must not overflow.
            ("int's top", "2147483647", true), ("page past int offsets", "21474838", true),
        ],
        Kind.Number => [("text", "abc", false), ("huge exponent", "1e400", false), ("NUL", "1%00", false)],
        Kind.Flag => [("text", "maybe", false), ("NUL", "true%00", false)],
        // A long search term is a valid (if fruitless) query; it must not fail on the server.
        _ => [("NUL", "a%00b", false), ("long", Long, true)],
    };

    private static readonly (string Label, string Encoded)[] BadRouteValues =
    [
        ("NUL", "%00"), ("id then NUL", "1%00"), ("negative", "-1"), ("zero", "0"), ("beyond long", "99999999999999999999"),
        ("fraction", "1.5"), ("text", "abc"), ("long", new string('9', 300)),
    ];

    public static IEnumerable<BadRequest> For(ApiRoute route, World world)
    {
        var requestType = route.Definition?.ReqDtoType is { } t && t != typeof(EmptyRequest) ? t : null;
        var validator = Validator(route.Definition?.ValidatorType);
        var all = requestType is null ? [] : requestType.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var headers = all.Select(p => p.GetCustomAttribute<FromHeaderAttribute>()?.HeaderName).OfType<string>().ToList();
        var props = all
            .Where(p => p.GetCustomAttribute<FromHeaderAttribute>() is null && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Where(p => !route.RouteParameters.Contains(QueryName(p), StringComparer.OrdinalIgnoreCase))
            .ToList();
        var queryFields = props.Where(p => !route.HasBody || p.GetCustomAttribute<BindFromAttribute>() is not null)
            .Select(p => Describe(QueryName(p), p.PropertyType, validator, p.Name)).ToList();
        var bodyFields = route.HasBody
            ? props.Where(p => p.GetCustomAttribute<BindFromAttribute>() is null).Select(p => Describe(JsonName(p), p.PropertyType, validator, p.Name)).ToList()
            : [];

        var path = Path(route, world);
        var body = route.HasBody ? Baseline(bodyFields, world).ToJsonString() : null;
        var contentType = route.HasBody ? "application/json" : null;

        BadRequest Case(string description, string url, string? b = null, string? type = null, bool mayBeValid = false) =>
            new(route, description, url, b ?? body, type ?? contentType, mayBeValid);

        // Every route: a NUL in an unknown query parameter's value and in its name.
        yield return Case("NUL in a query value", $"{path}?junk=%00");
        yield return Case("NUL in a query name", $"{path}?ju%00nk=1");

        foreach (var parameter in route.RouteParameters)
        {
            foreach (var (label, value) in BadRouteValues)
            {
                // An infrastructure page (the API reference) may serve any name; the API's own routes must refuse.
                yield return Case($"route {parameter}: {label}", Path(route, world, parameter, value), mayBeValid: route.Definition is null && route.Method == "GET");
            }
        }

        foreach (var field in queryFields)
        {
            foreach (var (label, value, mayBeValid) in BadQuery(field))
            {
                yield return Case($"query {field.Name}: {label}", $"{path}?{field.Name}={value}", mayBeValid: mayBeValid && route.Method == "GET");
            }
        }

        // Header-bound fields (Idempotency-Key): an oversized value.
        foreach (var header in headers)
        {
            yield return Case($"header {header}: long", path) with { Header = header, HeaderValue = Long };
        }

        if (!route.HasBody)
        {
            yield break;
        }

        foreach (var (fieldPath, field) in Walk(bodyFields, prefix: []))
        {
            foreach (var (label, json) in BadJson(field))
            {
                yield return Case($"body {string.Join('.', fieldPath)}: {label}", path, Replace(Baseline(bodyFields, world), fieldPath, json));
            }
        }

        yield return Case("truncated JSON", path, body is null ? "{" : body[..(body.Length / 2)]);
        yield return Case("garbage", path, "}{ not json");
        yield return Case("a JSON string", path, "\"text\"");
        yield return Case("a JSON array", path, "[]");
        yield return Case("nested 200 deep", path, "{\"x\":" + new string('[', 200) + new string(']', 200) + "}");
        yield return Case("invalid UTF-8", path, string.Empty) with { RawBody = [(byte)'{', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)':', (byte)'1', (byte)'}'] };
        yield return Case("wrong content type", path, body, "text/plain");
        yield return Case("charset the JSON reader does not know", path, body, "application/json; charset=x-bogus");
        yield return Case("charset other than UTF-8", path, body, "application/json; charset=iso-8859-1");
        if (bodyFields.Any(f => f.Required))
        {
            yield return Case("JSON null", path, "null");
            yield return Case("empty body", path, string.Empty);
        }

        // Malformed multipart: every body route must refuse it, the upload route above all.
        const string multipart = "multipart/form-data; boundary=x";
        yield return Case("multipart: boundary only", path, "--x\r\n", multipart);
        yield return Case("multipart: garbage", path, "garbage", multipart);
        yield return Case("multipart: truncated part", path, "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc", multipart);
        yield return Case("multipart: headers cut off", path, "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n", multipart);
        yield return Case("multipart: no boundary", path, "--x\r\n\r\n--x--\r\n", "multipart/form-data");
        yield return Case("multipart: NUL in the part's content type", path,
            "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/pl\0ain\r\n\r\nabc\r\n--x--\r\n", multipart);
    }

    private static string Path(ApiRoute route, World world, string? badParameter = null, string? badValue = null)
    {
        var path = route.Pattern;
        foreach (var parameter in route.RouteParameters)
        {
            var value = parameter == badParameter ? badValue! : world.RouteId(route.Pattern, parameter).ToString(System.Globalization.CultureInfo.InvariantCulture);
            path = System.Text.RegularExpressions.Regex.Replace(path, $@"\{{\**{parameter}(:[^}}]*)?\??\}}", value);
        }

        return path;
    }

    private static JsonObject Baseline(IReadOnlyList<Field> fields, World world)
    {
        var body = new JsonObject();
        foreach (var field in fields)
        {
            body[field.Name] = field.Kind switch
            {
                Kind.List => new JsonArray(field.Element.Count > 0 ? Baseline(field.Element, world) : world.FieldValue(field.Name, Kind.Whole)),
                Kind.Record => Baseline(field.Element, world),
                _ => world.FieldValue(field.Name, field.Kind),
            };
        }

        return body;
    }

    private static IEnumerable<(IReadOnlyList<object> Path, Field Field)> Walk(IReadOnlyList<Field> fields, IReadOnlyList<object> prefix)
    {
        foreach (var field in fields)
        {
            var path = prefix.Append(field.Name).ToList();
            yield return (path, field);
            var inner = field.Kind == Kind.List ? path.Append(0).ToList() : path;
            foreach (var nested in Walk(field.Element, inner))
            {
                yield return nested;
            }
        }
    }

    private const string Marker = "\u0001raw\u0001";

    private static string Replace(JsonObject body, IReadOnlyList<object> path, string rawJson)
    {
        JsonNode node = body;
        foreach (var step in path.SkipLast(1))
        {
            node = step is int index ? node[index]! : node[(string)step]!;
        }

        node[(string)path[^1]] = Marker;
        return body.ToJsonString().Replace(JsonSerializer.Serialize(Marker), rawJson, StringComparison.Ordinal);
    }

    private static Field Describe(string name, Type type, IValidator? validator, string memberName)
    {
        var required = validator is not null && IsRequired(validator, memberName, name);
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string))
        {
            return new(name, Kind.Text, required, type, []);
        }

        if (underlying == typeof(bool))
        {
            return new(name, Kind.Flag, required, type, []);
        }

        if (underlying == typeof(int) || underlying == typeof(long) || underlying == typeof(short))
        {
            return new(name, Kind.Whole, required, type, []);
        }

        if (underlying == typeof(decimal) || underlying == typeof(double) || underlying == typeof(float))
        {
            return new(name, Kind.Number, required, type, []);
        }

        if (underlying.IsGenericType && underlying.GetInterfaces().Append(underlying).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)))
        {
            var element = underlying.GetGenericArguments()[0];
            return new(name, Kind.List, required, type, ObjectFields(element));
        }

        return new(name, Kind.Record, required, type, ObjectFields(underlying));
    }

    private static List<Field> ObjectFields(Type type)
    {
        if (type.IsPrimitive || type == typeof(string) || type == typeof(decimal))
        {
            return [];
        }

        var validator = Validator(type.GetNestedTypes().FirstOrDefault(t => typeof(IValidator).IsAssignableFrom(t)));
        return type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Select(p => Describe(JsonName(p), p.PropertyType, validator, p.Name))
            .ToList();
    }

    private static IValidator? Validator(Type? type) =>
        type is not null && type.GetConstructor(Type.EmptyTypes) is not null ? (IValidator)Activator.CreateInstance(type)! : null;

    private static bool IsRequired(IValidator validator, params string[] names) =>
        names.Any(name => validator.CreateDescriptor().GetValidatorsForMember(name)
            .Any(v => v.Validator is INotNullValidator or INotEmptyValidator));

    private static string JsonName(PropertyInfo p) =>
        p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name);

    private static string QueryName(PropertyInfo p) =>
        p.GetCustomAttribute<BindFromAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name);
}
