using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Features.Reviews;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>
/// The atomic strategy when its hold outlives the sweep window: the stock goes back to PostgreSQL and to Redis
/// exactly once, by whoever released the hold, and the sale never reports success without its records.
/// </summary>
public sealed class AtomicHoldRecoveryTests(AppFixture app) : IntegrationContext(app)
{
    private const long SaleRecordId = 987_654_321;

    private IStockStrategy Atomic => Host.Services.GetRequiredService<StockStrategies>().For(LockType.Atomic);

    private StockHoldSweeper Sweeper => Host.Services.GetRequiredService<StockHoldSweeper>();

    private RedisStock RedisStock => Host.Services.GetRequiredService<RedisStock>();

    /// <summary>Makes every open hold look as old as one a dead request left behind, then runs the sweeper: a sale slower than the window.</summary>
    private void AgeAndSweep() => Task.Run(async () =>
    {
        await Store.AgeHolds();
        await Sweeper.SweepAsync(CancellationToken.None);
    }).GetAwaiter().GetResult();

    private static void RecordSale(IDocumentSession session, long productId) =>
        session.Store(new Review { Id = SaleRecordId, ProductId = productId, UserId = 1, Rating = 5, Body = "sold", CreatedAt = DateTimeOffset.UtcNow });

    private async Task<(StockOutcome? Outcome, Exception? Error)> Run(TestProduct product, StockWork work)
    {
        try
        {
            return (await Atomic.TakeAsync([new(product.Id, 2)], work, Ct), null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    private async Task ShouldBeInStep(long productId, int stock)
    {
        (await Store.Reload(productId)).Stock.ShouldBe(stock);
        (await RedisStock.GetAsync(productId)).ShouldBe(stock, "Redis gets the swept hold back once: from the sweeper, not again from the request");
        await using var query = Store.QuerySession();
        (await query.LoadAsync<Review>(SaleRecordId, Ct)).ShouldBeNull("nothing of the sale was recorded");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_hold_swept_before_its_sale_commits_goes_back_to_redis_once()
    {
        var product = await Store.AddProduct(stock: 5);

        var (outcome, error) = await Run(product, session =>
        {
            AgeAndSweep();
            RecordSale(session, product.Id);
        });

        error.ShouldBeNull();
        outcome.ShouldBeOfType<StockOutcome.Busy>("the hold was gone when the sale tried to consume it: nothing taken");
        await ShouldBeInStep(product.Id, 5);
    }

    [Fact]
    public async Task a_sale_whose_hold_was_swept_and_whose_commit_failed_is_not_reported_as_taken()
    {
        var product = await Store.AddProduct(stock: 5);

        var (outcome, error) = await Run(product, _ =>
        {
            AgeAndSweep();
            throw new InvalidOperationException("the order could not be written");
        });

        outcome.ShouldBeNull("an answer of Taken would be a 201 for an order that was never written");
        error.ShouldBeOfType<InvalidOperationException>();
        await ShouldBeInStep(product.Id, 5);
    }

    [Fact]
    public async Task hold_times_come_from_the_database_clock()
    {
        // The take has no application time to go by (a node whose clock is an hour behind cannot date it): the database
        // dates the hold, so it is seconds old by the database's clock, and the sweeper leaves it alone.
        var product = await Store.AddProduct(stock: 5);
        (await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(product.Id, 1)], Ct)).ShouldNotBeNull();

        (await Sweeper.SweepAsync(Ct)).ShouldBe(0, "the hold is seconds old by the database's clock");
        (await Store.Reload(product.Id)).Stock.ShouldBe(4);
    }
}
