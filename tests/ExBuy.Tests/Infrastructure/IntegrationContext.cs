using Alba;
using Marten;
using StackExchange.Redis;
using Wolverine.Runtime;

namespace ExBuy.Tests.Infrastructure;

/// <summary>Every test starts from empty PostgreSQL tables and an empty Redis database.</summary>
public abstract class IntegrationContext(AppFixture app) : IAsyncLifetime
{
    protected AppFixture App => app;

    protected IAlbaHost Host => app.Host;

    protected IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual async ValueTask InitializeAsync()
    {
        // Reset (not just clean): also restarts the async daemon, whose progress must start over with the events.
        await Host.ResetAllMartenDataAsync();
        await ExBuy.Features.Inventory.StockHolds.ClearAsync(Host.Services.GetRequiredService<Marten.IDocumentStore>(), default);
        await ExBuy.Features.Inventory.ProductStock.ClearAsync(Host.Services.GetRequiredService<Marten.IDocumentStore>(), default);
        await ExBuy.Features.Coupons.CouponClaims.ClearAsync(Host.Services.GetRequiredService<Marten.IDocumentStore>(), default);
        await Host.ClearAllWolverineStorageAsync();
        var redis = Host.Services.GetRequiredService<IConnectionMultiplexer>();
        foreach (var endpoint in redis.GetEndPoints())
        {
            await redis.GetServer(endpoint).FlushDatabaseAsync();
        }
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
