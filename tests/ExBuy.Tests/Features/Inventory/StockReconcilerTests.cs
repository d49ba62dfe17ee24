using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>The Redis stock keys come back to PostgreSQL's truth, whichever way they drifted.</summary>
public sealed class StockReconcilerTests(AppFixture app) : IntegrationContext(app)
{
    private StockReconciler Reconciler => Host.Services.GetRequiredService<StockReconciler>();

    private RedisStock RedisStock => Host.Services.GetRequiredService<RedisStock>();

    private async Task<int> Reserve(long productId, int quantity, int status = 200) =>
        (await Host.PostJson("/api/inventory/reserve?lock_type=atomic", $$"""{"product_id":{{productId}},"quantity":{{quantity}}}""", status))
            ["remaining_stock"]?.GetValue<int>() ?? -1;

    [Fact]
    public async Task keys_redis_lost_are_restored_from_the_database()
    {
        var productId = await Host.SetUpFlashSale(10);
        await Reserve(productId, 4);
        foreach (var endpoint in Host.Services.GetRequiredService<IConnectionMultiplexer>().GetEndPoints())
        {
            await Host.Services.GetRequiredService<IConnectionMultiplexer>().GetServer(endpoint).FlushDatabaseAsync(); // a restart without its data
        }

        (await Host.Audit()).Violations.ShouldHaveSingleItem().Invariant.ShouldBe("redis_stock_key_present");

        (await Reconciler.ReconcileAsync(Ct)).Restored.ShouldBe(1);

        (await RedisStock.GetAsync(productId)).ShouldBe(6);
        await Host.ShouldPassAudit();
        await Reserve(productId, 6);
        await Reserve(productId, 1, status: 400);
    }

    [Fact]
    public async Task a_key_left_low_by_a_request_that_died_after_the_gate_is_repaired_once_the_difference_holds()
    {
        var productId = await Host.SetUpFlashSale(10);
        await RedisStock.GateWithoutRequest(productId, 3);

        (await Reconciler.ReconcileAsync(Ct)).Repaired.ShouldBe(0, "one sighting may be a request between Redis and the database");
        (await RedisStock.GetAsync(productId)).ShouldBe(7);
        (await Host.Audit()).Violations.ShouldHaveSingleItem().Invariant.ShouldBe("redis_stock_matches_database");

        (await Reconciler.ReconcileAsync(Ct)).Repaired.ShouldBe(1);

        (await RedisStock.GetAsync(productId)).ShouldBe(10);
        await Host.ShouldPassAudit();
        await Reserve(productId, 10);
    }

    [Fact]
    public async Task a_key_above_the_database_is_repaired_too()
    {
        var productId = await Host.SetUpFlashSale(10);
        await Reserve(productId, 2);
        await RedisStock.InitializeAsync(productId, 12, overwrite: true); // a give-back that happened twice

        await Reconciler.ReconcileAsync(Ct);
        (await Reconciler.ReconcileAsync(Ct)).Repaired.ShouldBe(1);

        (await RedisStock.GetAsync(productId)).ShouldBe(8);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_difference_that_moves_between_passes_is_left_for_a_later_pass()
    {
        var productId = await Host.SetUpFlashSale(10);
        await RedisStock.GateWithoutRequest(productId, 3);
        await Reconciler.ReconcileAsync(Ct);
        await RedisStock.GateWithoutRequest(productId, 1); // traffic: another gate decrement, its take still to come

        (await Reconciler.ReconcileAsync(Ct)).Repaired.ShouldBe(0);
        (await RedisStock.GetAsync(productId)).ShouldBe(6);

        (await Reconciler.ReconcileAsync(Ct)).Repaired.ShouldBe(1, "the difference held for a whole pass");
        (await RedisStock.GetAsync(productId)).ShouldBe(10);
    }

    [Fact]
    public async Task the_same_difference_recurring_while_the_product_sells_is_not_taken_for_drift()
    {
        // Redis 2 above the database (a stray give-back, say); then a sale moves both by one between the two looks: the
        // difference is the same, but the product was touched, so the second look is not proof of drift.
        var productId = await Host.SetUpFlashSale(10);
        (await RedisStock.CompareAndSetAsync(productId, 10, 12)).ShouldBeTrue();
        await Reconciler.ReconcileAsync(Ct);
        await Reserve(productId, 1); // atomic: the gate takes one in Redis, the database one

        (await Reconciler.ReconcileAsync(Ct)).Repaired.ShouldBe(0, "the stock row and the key both changed since the first look");
        (await RedisStock.GetAsync(productId)).ShouldBe(11);

        (await Reconciler.ReconcileAsync(Ct)).Repaired.ShouldBe(1, "a quiet interval with the same difference is drift");
        (await RedisStock.GetAsync(productId)).ShouldBe(9);
    }

    [Fact]
    public async Task the_repair_never_overwrites_a_gate_decrement_that_landed_after_the_read()
    {
        var productId = await Host.SetUpFlashSale(10);
        (await RedisStock.CompareAndSetAsync(productId, 10, 9)).ShouldBeTrue();
        (await RedisStock.CompareAndSetAsync(productId, 10, 12)).ShouldBeFalse("the key holds 9 now, not the 10 that was read");
        (await RedisStock.CompareAndSetAsync(productId, null, 12)).ShouldBeFalse("only a missing key is restored from nothing");
        (await RedisStock.GetAsync(productId)).ShouldBe(9);
    }

    [Fact]
    public async Task one_node_reconciles_at_a_time()
    {
        await Host.SetUpFlashSale(10);
        await using var connection = Store.Storage.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using (var take = new NpgsqlCommand("select pg_advisory_lock($1)", connection))
        {
            take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = StockReconciler.AdvisoryLockKey });
            await take.ExecuteNonQueryAsync(Ct); // another API node in the middle of its pass
        }

        (await Reconciler.ReconcileAsync(Ct)).Skipped.ShouldBeTrue();

        await using (var release = new NpgsqlCommand("select pg_advisory_unlock($1)", connection))
        {
            release.Parameters.Add(new NpgsqlParameter<long> { TypedValue = StockReconciler.AdvisoryLockKey });
            await release.ExecuteNonQueryAsync(Ct);
        }

        (await Reconciler.ReconcileAsync(Ct)).Skipped.ShouldBeFalse();
    }

    [Fact]
    public async Task reconciling_while_buyers_keep_buying_sells_exactly_the_stock_and_ends_in_step()
    {
        const int stock = 120;
        var productId = await Host.SetUpFlashSale(stock);
        await RedisStock.GateWithoutRequest(productId, 5); // a request that died before the traffic started
        var buying = true;
        var passes = 0;
        var reconciling = Task.Run(async () =>
        {
            while (Volatile.Read(ref buying))
            {
                await Reconciler.ReconcileAsync(Ct);
                passes++;
            }
        }, Ct);

        // Buyers keep coming until the gate or the database says sold out; each answer is counted.
        var sold = 0;
        var rounds = 0;
        while (rounds++ < 40)
        {
            var answers = await Host.FireAsync(20, _ => (HttpMethod.Post, "/api/inventory/reserve?lock_type=atomic", $$"""{"product_id":{{productId}},"quantity":1}"""));
            answers.Select(a => a.Status).ShouldAllBe(s => s == 200 || s == 400 || s == 409);
            sold += answers.Count(a => a.Status == 200);
            if (answers.All(a => a.Status != 200) && (await Store.Reload(productId)).Stock == 0)
            {
                break;
            }

            if (answers.All(a => a.Status != 200))
            {
                await Reconciler.ReconcileAsync(Ct); // the gate says sold out while the database has units: let the repair land
            }
        }

        Volatile.Write(ref buying, false);
        await reconciling;
        passes.ShouldBeGreaterThan(0);

        sold.ShouldBe(stock, "every unit sold once, the five the dead request held back included");
        (await Store.Reload(productId)).Stock.ShouldBe(0);
        await Reconciler.ReconcileAsync(Ct);
        await Reconciler.ReconcileAsync(Ct);
        (await RedisStock.GetAsync(productId)).ShouldBe(0);
        await Host.ShouldPassAudit();
    }
}
