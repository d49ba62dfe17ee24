using System.Text;
using Alba;
using ExBuy.Features.Inventory;
using ExBuy.Features.Inventory.Strategies;
using ExBuy.Features.Orders;
using ExBuy.Tests.Infrastructure;
using Marten;
using Npgsql;
using Shouldly;
using static ExBuy.Tests.Infrastructure.ShopFlowScenarios;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>
/// <c>lock_type=batched</c> beyond the contention theories it shares with every safe strategy: a batch is gathered
/// deterministically by holding the product's row lock in another transaction while the first batch waits for it and
/// the next requests queue behind it; then the batch's decisions, its split on a failed commit and its answers are
/// checked against the database.
/// </summary>
public sealed class BatchedStrategyTests(AppFixture app) : IntegrationContext(app)
{
    /// <summary>A host of its own whose lock timeout outlasts the setup below on a slow machine.</summary>
    private Task<IAlbaHost> PatientHost() => App.StartHostWithAsync(($"{ConcurrencyOptions.Section}:LockTimeoutMs", "30000"));

    private static BatchedStockStrategy Batched(IAlbaHost host) => host.Services.GetRequiredService<StockStrategies>().Batched;

    private static async Task<(int Status, string Body)> Order(HttpClient client, long userId, long productId, int quantity)
    {
        using var content = new StringContent(
            $$"""{"user_id":{{userId}},"items":[{"product_id":{{productId}},"quantity":{{quantity}}}]}""", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/api/orders?lock_type=batched", content);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task Until(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 10)
        {
            waited.ShouldBeLessThan(20_000, "the batch never formed");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Holds the product's row lock, sends <paramref name="first"/> (its batch then waits for the lock), queues
    /// <paramref name="rest"/> behind it and releases the lock once they all wait: they form the next batch.
    /// </summary>
    private Task<(int Status, string Body)[]> GatherAsync(IAlbaHost host, long productId, int first, int[] rest) =>
        GatherAsync(host, productId, rest.Length, (client, i) => Order(client, i + 1, productId, i == 0 ? first : rest[i - 1]));

    /// <summary>Request 0 first (its batch waits for the held row), then requests 1..<paramref name="rest"/> queued behind it.</summary>
    private async Task<(int Status, string Body)[]> GatherAsync(
        IAlbaHost host, long productId, int rest, Func<HttpClient, int, Task<(int Status, string Body)>> send)
    {
        var batched = Batched(host);
        using var client = host.Server.CreateClient();
        Task<(int Status, string Body)> head;
        List<Task<(int Status, string Body)>> tail;
        await using (var holder = Store.LightweightSession())
        {
            await holder.BeginTransactionAsync(Ct);
            await ProductStock.LockAsync(holder, [productId], TimeSpan.FromSeconds(5), Ct);
            var attempts = batched.Attempts;
            head = send(client, 0);
            await Until(() => batched.Attempts > attempts && batched.Waiting == 0);
            tail = Enumerable.Range(1, rest).Select(i => send(client, i)).ToList();
            await Until(() => batched.Waiting == rest);
        }

        return [await head, .. await Task.WhenAll(tail)];
    }

    [Fact]
    public async Task a_request_that_would_oversell_is_refused_alone_and_the_rest_of_its_batch_commits()
    {
        await using var host = await PatientHost();
        var product = await Store.AddProduct(stock: 5);
        var batched = Batched(host);
        var attempts = batched.Attempts;

        // 1 first, then 3, 3 and 1 in one batch against the 4 left: whatever their order, one 3 cannot be served.
        var answers = await GatherAsync(host, product.Id, 1, [3, 3, 1]);

        answers[0].Status.ShouldBe(201);
        answers.Count(a => a.Status == 201).ShouldBe(3, string.Join("\n", answers.Select(a => a.Body)));
        var refused = answers.Where(a => a.Status != 201).ShouldHaveSingleItem();
        refused.Status.ShouldBe(400);
        answers.Skip(1).Where(a => a.Status == 201).Select(a => HttpScenarios.Parse(a.Body)["items"]![0]!["quantity"]!.GetValue<int>()).Order().ShouldBe([1, 3]);
        (batched.Attempts - attempts).ShouldBe(2, "the first request's batch and one more for the three: the refusal split nothing");
        (await Store.Reload(product.Id)).Stock.ShouldBe(0);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_batch_whose_commit_fails_is_split_and_retried_and_answers_only_what_committed()
    {
        await using var host = await PatientHost();
        var product = await Store.AddProduct(stock: 10);
        var schema = Store.Options.DatabaseSchemaName;
        // A deferred constraint trigger fails the second commit that changes this product's stock, at COMMIT itself: the
        // batch's statements all succeeded, its commit did not. The sequence is outside any transaction, so it fails once.
        await Sql($"""
            create sequence {schema}.batched_fail_once;
            create function {schema}.batched_fail_once() returns trigger language plpgsql as $$
            begin
              if nextval('{schema}.batched_fail_once') = 2 then raise exception 'planted commit failure'; end if;
              return null;
            end $$;
            create constraint trigger batched_fail_once after update on {ProductStock.Table(Store)} deferrable initially deferred
              for each row when (new.product_id = {product.Id}) execute function {schema}.batched_fail_once();
            """);
        try
        {
            var batched = Batched(host);
            var attempts = batched.Attempts;

            var answers = await GatherAsync(host, product.Id, 1, [1, 2, 1, 1]);

            answers.ShouldAllBe(a => a.Status == 201, string.Join("\n", answers.Select(a => a.Body)));
            // 1 (the first) + 1 (the four, failed at commit) + 2 (its halves, committed).
            (batched.Attempts - attempts).ShouldBe(4);
            (await Store.Reload(product.Id)).Stock.ShouldBe(4);
            await using var session = Store.QuerySession();
            var orders = await session.Query<Order>().ToListAsync(Ct);
            orders.Select(o => o.Id).Order().ShouldBe(answers.Select(a => HttpScenarios.Parse(a.Body)["id"]!.GetValue<long>()).Order());
            await Host.ShouldPassAudit();
        }
        finally
        {
            await Sql($"""
                drop trigger if exists batched_fail_once on {ProductStock.Table(Store)};
                drop function if exists {schema}.batched_fail_once();
                drop sequence if exists {schema}.batched_fail_once;
                """);
        }
    }

    [Fact]
    public async Task a_row_held_past_the_lock_timeout_is_a_409_busy_and_nothing_is_taken()
    {
        await using var impatient = await App.StartHostWithAsync(($"{ConcurrencyOptions.Section}:LockTimeoutMs", "300"));
        var product = await Store.AddProduct(stock: 5);
        using var client = impatient.Server.CreateClient();
        await using (var holder = Store.LightweightSession())
        {
            await holder.BeginTransactionAsync(Ct);
            await ProductStock.LockAsync(holder, [product.Id], TimeSpan.FromSeconds(5), Ct);

            var answers = await Task.WhenAll(Enumerable.Range(1, 4).Select(i => Order(client, i, product.Id, 1)));

            answers.ShouldAllBe(a => a.Status == 409);
            answers.ShouldAllBe(a => a.Body.Contains("locked"));
        }

        (await Store.Reload(product.Id)).Stock.ShouldBe(5);
        (await Order(client, 9, product.Id, 1)).Status.ShouldBe(201);
        (await Store.Reload(product.Id)).Stock.ShouldBe(4);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task paid_orders_of_many_users_at_once_sell_exactly_the_stock_and_debit_exactly_the_buyers()
    {
        var shop = await Host.InitShop("""{"userCount":40,"stock":15}""");
        var users = new List<long>();
        for (var i = 1; i <= 40; i++)
        {
            users.Add(await Host.UserId($"u{i}"));
            await Host.Charge(users[^1], 10_000);
        }

        var responses = await Host.FireAsync(users.Count, i =>
            (HttpMethod.Post, "/orders?lock_type=batched", OrderBody(users[i], null, Items([shop.ProductIds[0]]))));
        TimingLog.Record("batched paid orders 40 users -> 15 units", responses, ConcurrentRequests.LastWallClock);

        responses.Count(r => r.Status == 201).ShouldBe(15, string.Join("\n", responses.Where(r => r.Status is not (201 or 409)).Take(3).Select(r => r.Body)));
        responses.Where(r => r.Status != 201).ShouldAllBe(r => r.Status == 409);
        (await Store.Reload(shop.ProductIds[0])).Stock.ShouldBe(0);
        var balances = new List<decimal>();
        foreach (var user in users)
        {
            balances.Add(await Host.Balance(user));
        }

        balances.Count(b => b == 8_000).ShouldBe(15);
        balances.Count(b => b == 10_000).ShouldBe(25);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task each_request_of_a_batch_stamps_its_own_events_with_its_own_request_id()
    {
        await using var host = await PatientHost();
        var product = await Store.AddProduct(stock: 10);
        var batched = Batched(host);
        var attempts = batched.Attempts;

        var answers = await GatherAsync(host, product.Id, 5, async (client, i) =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, "/api/inventory/reserve?lock_type=batched")
            {
                Content = new StringContent($$"""{"product_id":{{product.Id}},"quantity":1}""", Encoding.UTF8, "application/json"),
            };
            message.Headers.Add("X-Request-Id", $"batched-{i}");
            using var response = await client.SendAsync(message);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        });

        answers.ShouldAllBe(a => a.Status == 200, string.Join("\n", answers.Select(a => a.Body)));
        (batched.Attempts - attempts).ShouldBe(2, "the five after the first committed as one batch");
        await using var connection = Store.Storage.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(
            $"select correlation_id, count(*) from {Store.Options.DatabaseSchemaName}.mt_events where type = 'stock_reserved' group by correlation_id order by correlation_id", connection);
        var stamped = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            stamped.Add($"{(reader.IsDBNull(0) ? "null" : reader.GetString(0))}:{reader.GetInt64(1)}");
        }

        stamped.ShouldBe(Enumerable.Range(0, 6).Select(i => $"batched-{i}:1"));
    }

    [Fact]
    public async Task batched_as_the_server_default_takes_orders_and_claims_that_name_no_lock_type()
    {
        await using var host = await App.StartHostWithAsync(($"{ConcurrencyOptions.Section}:DefaultLockType", "Batched"));
        var product = await Store.AddProduct(stock: 3);
        var batched = Batched(host);
        var claims = host.Services.GetRequiredService<ExBuy.Features.Coupons.BatchedClaims>();
        var (orders, claimed) = (batched.Attempts, claims.Attempts);

        var order = await host.PostJson("/api/orders", $$"""{"user_id":1,"items":[{"product_id":{{product.Id}},"quantity":2}]}""", 201);
        await host.PostJson("/api/orders", $$"""{"user_id":2,"items":[{"product_id":{{product.Id}},"quantity":2}]}""", 400);
        (batched.Attempts - orders).ShouldBe(2);
        order["items"]![0]!["quantity"]!.GetValue<int>().ShouldBe(2);
        (await Store.Reload(product.Id)).Stock.ShouldBe(1);

        var shop = await host.InitShop("""{"userCount":1,"couponQuantity":5,"policyCount":1}""");
        await host.Scenario(s =>
        {
            HttpScenarios.WithQuery(s.Post.Url("/coupons"), $"/coupons?userId={shop.UserIds[0]}&policyId={shop.PolicyIds[0]}");
            s.StatusCodeShouldBe(201);
        });

        (claims.Attempts - claimed).ShouldBe(1);
    }

    [Theory]
    [InlineData(true, "committed")]
    [InlineData(false, "aborted")]
    public async Task a_transaction_s_fate_is_read_back_by_its_id_from_another_connection(bool commit, string fate)
    {
        string id;
        await using (var session = Store.LightweightSession())
        {
            await session.BeginTransactionAsync(Ct);
            id = await ExBuy.Infrastructure.Batching.TransactionFate.CurrentIdAsync(session);
            session.QueueSqlCommand("select 1");
            if (commit)
            {
                await session.SaveChangesAsync(Ct);
            }
        }

        (await ExBuy.Infrastructure.Batching.TransactionFate.OfAsync(Store, id)).ShouldBe(fate);
    }

    private async Task Sql(string sql)
    {
        await using var connection = Store.Storage.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
