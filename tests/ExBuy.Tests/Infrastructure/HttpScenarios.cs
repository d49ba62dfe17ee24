using System.Text.Json.Nodes;
using Alba;

namespace ExBuy.Tests.Infrastructure;

/// <summary>Wire-level helpers: requests as raw JSON, answers parsed as JSON nodes so tests see exactly what k6 sees.</summary>
public static class HttpScenarios
{
    public static async Task<JsonNode> GetJson(this IAlbaHost host, string url, int status = 200)
    {
        var result = await host.Scenario(s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBe(status);
        });
        return Parse(await result.ReadAsTextAsync());
    }

    public static async Task<JsonNode> PostJson(this IAlbaHost host, string url, string json, int status, (string Name, string Value)[]? headers = null)
    {
        var result = await host.Scenario(s =>
        {
            WithQuery(s.Post.RawJson(json), url);
            foreach (var (name, value) in headers ?? [])
            {
                s.WithRequestHeader(name, value);
            }

            s.StatusCodeShouldBe(status);
        });
        return Parse(await result.ReadAsTextAsync());
    }

    public static async Task<JsonNode> PatchJson(this IAlbaHost host, string url, string json, int status)
    {
        var result = await host.Scenario(s =>
        {
            WithQuery(s.Patch.RawJson(json), url);
            s.StatusCodeShouldBe(status);
        });
        return Parse(await result.ReadAsTextAsync());
    }

    public static async Task<string> GetText(this IAlbaHost host, string url, int status = 200)
    {
        var result = await host.Scenario(s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBe(status);
        });
        return await result.ReadAsTextAsync();
    }

    /// <summary>Alba's ToUrl takes a path; a query string in it would become part of the path and miss every route.</summary>
    public static SendExpression WithQuery(SendExpression send, string url)
    {
        var parts = url.Split('?', 2);
        send.ToUrl(parts[0]);
        if (parts.Length == 2)
        {
            foreach (var (key, values) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(parts[1]))
            {
                foreach (var value in values)
                {
                    send.QueryString(key, value ?? string.Empty);
                }
            }
        }

        return send;
    }

    public static JsonNode Parse(string text) => JsonNode.Parse(text) ?? throw new InvalidOperationException("empty JSON body");

    /// <summary>The field names a 400 answer blames, from the problem-details <c>errors</c> array.</summary>
    public static IReadOnlyList<string> ErrorFields(this JsonNode problem) =>
        problem["errors"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()).ToList();
}
