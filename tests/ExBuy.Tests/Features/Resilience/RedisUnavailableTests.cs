using System.Text.Json.Nodes;
using ExBuy.Infrastructure.Http;
using ExBuy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Resilience;

/// <summary>
/// Redis going away (restarted, paused, refused) is a 503 problem, like PostgreSQL going away — found by a flash sale
/// with <c>--fault restart-redis</c>, whose purchases caught by the restart answered 500 — and a Redis bug stays a 500.
/// The failures are real ones, from the test Redis and from a port nothing listens on.
/// </summary>
public sealed class RedisUnavailableTests(AppFixture app) : IntegrationContext(app)
{
    private static string Redis => Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? AppFixture.DefaultRedis;

    private static async Task<Exception> RefusedCommand()
    {
        await using var nowhere = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:1,abortConnect=false,connectTimeout=500,connectRetry=0");
        return (await Should.ThrowAsync<Exception>(async () => await nowhere.GetDatabase().StringGetAsync("exbuy:stock:1"))).ShouldNotBeNull();
    }

    [Fact]
    public async Task a_refused_or_closed_redis_connection_is_unavailable_even_wrapped()
    {
        var error = await RefusedCommand();

        RedisUnavailable.Is(error).ShouldBeTrue(error.ToString());
        RedisUnavailable.Is(new InvalidOperationException("wrapped", error)).ShouldBeTrue();
        DatabaseUnavailable.Is(error).ShouldBeFalse("Redis is not the database: the answer names which server is away");
    }

    [Fact]
    public async Task an_error_in_a_redis_command_is_not()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Redis);
        var key = $"exbuy:test:{Guid.NewGuid():N}";
        await redis.GetDatabase().ListLeftPushAsync(key, "x");
        try
        {
            var error = (await Should.ThrowAsync<Exception>(async () => await redis.GetDatabase().StringIncrementAsync(key))).ShouldNotBeNull();

            RedisUnavailable.Is(error).ShouldBeFalse("WRONGTYPE is a bug to fix, a 500, not a reason to retry");
        }
        finally
        {
            await redis.GetDatabase().KeyDeleteAsync(key);
        }
    }

    [Fact]
    public async Task the_api_answers_a_redis_outage_with_a_503_problem_and_retry_after()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/flash-sales/1/purchase";
        context.Response.Body = new MemoryStream();
        var handler = new UnhandledExceptionHandler(NullLogger<UnhandledExceptionHandler>.Instance);

        (await handler.TryHandleAsync(context, await RefusedCommand(), Ct)).ShouldBeTrue();

        context.Response.StatusCode.ShouldBe(503);
        context.Response.ContentType.ShouldBe("application/problem+json");
        context.Response.Headers.RetryAfter.ToString().ShouldBe("1");
        context.Response.Body.Position = 0;
        var body = JsonNode.Parse(context.Response.Body)!;
        body["status"]!.GetValue<int>().ShouldBe(503);
        body["detail"]!.GetValue<string>().ShouldContain("Redis");
    }
}
