using System.Diagnostics;
using ExBuy.Infrastructure.Locking;
using ExBuy.Tests.Infrastructure;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>
/// RedLock across the five test nodes: losing a minority mid-rush changes nothing; losing a majority refuses
/// cleanly. The nodes are real redis-server processes, stopped with SHUTDOWN and started again afterwards.
/// </summary>
public sealed class RedlockTests(AppFixture app) : IntegrationContext(app)
{
    private List<(string Host, int Port)> Nodes =>
        App.RedlockNodes.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(n => (n.Split(':')[0], int.Parse(n.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();

    private static async Task StopAsync((string Host, int Port) node)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{node.Host}:{node.Port},allowAdmin=true,abortConnect=false");
        try
        {
            await admin.GetDatabase().ExecuteAsync("SHUTDOWN", "NOSAVE");
        }
        catch (RedisConnectionException)
        {
            // The connection drops as the server goes away.
        }
    }

    private async Task StartAsync((string Host, int Port) node)
    {
        var dir = Path.Combine(App.RedisDirectory, $"redlock-{node.Port}");
        Directory.CreateDirectory(dir);
        using var process = Process.Start(new ProcessStartInfo("redis-server",
            ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", node.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--dir", dir, "--save", "", "--appendonly", "no"]) { UseShellExecute = false })!;
        await process.WaitForExitAsync(Ct);
    }

    private async Task RestartAllAsync()
    {
        foreach (var node in Nodes)
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"{node.Host}:{node.Port},abortConnect=true,connectTimeout=300");
            }
            catch (RedisConnectionException)
            {
                await StartAsync(node);
            }
        }

        var connections = Host.Services.GetRequiredService<RedlockNodes>().Connections;
        for (var i = 0; i < 100 && connections.Any(c => !c.IsConnected); i++)
        {
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task losing_a_minority_of_nodes_mid_rush_sells_exactly_the_stock()
    {
        Nodes.Count.ShouldBe(5);
        var productId = await Host.SetUpFlashSale(100);
        try
        {
            var rush = Host.FireAsync(300, i => (HttpMethod.Post, $"/api/flash-sales/{productId}/purchase?lock_type=redlock", $$"""{"user_id":{{i + 1}}}"""));
            await Task.Delay(50, Ct);
            await StopAsync(Nodes[0]);
            await StopAsync(Nodes[1]);
            var responses = await rush;

            responses.Count(r => r.Status == 201).ShouldBe(100, string.Join("\n", responses.Where(r => r.Status is not (201 or 409)).Take(3).Select(r => r.Body)));
            responses.Where(r => r.Status != 201).ShouldAllBe(r => r.Status == 409);
            var stock = await Host.GetJson($"/api/flash-sales/{productId}/stock");
            stock["db_stock"]!.GetValue<int>().ShouldBe(0);
            stock["consistent"]!.GetValue<bool>().ShouldBeTrue();
            await Host.ShouldPassAudit();
        }
        finally
        {
            await RestartAllAsync();
        }
    }

    [Fact]
    public async Task losing_a_majority_refuses_cleanly_and_takes_nothing()
    {
        var productId = await Host.SetUpFlashSale(10);
        try
        {
            await StopAsync(Nodes[0]);
            await StopAsync(Nodes[1]);
            await StopAsync(Nodes[2]);

            var refused = await Host.PostJson($"/api/flash-sales/{productId}/purchase?lock_type=redlock", """{"user_id":1}""", 409);
            refused["error"]!.GetValue<string>().ShouldContain("redlock");
            (await Host.GetJson($"/api/flash-sales/{productId}/stock"))["db_stock"]!.GetValue<int>().ShouldBe(10);
        }
        finally
        {
            await RestartAllAsync();
        }

        await Host.PostJson($"/api/flash-sales/{productId}/purchase?lock_type=redlock", """{"user_id":1}""", 201);
    }
}
