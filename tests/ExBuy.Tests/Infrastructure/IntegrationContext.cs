using Alba;
using ExBuy.Infrastructure.Marten;
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
        // Then each module's own tables, as the modules register their resets (the seeder's reset runs the same).
        await Host.Services.GetServices<ExBuy.Infrastructure.Marten.IModuleReset>().ResetAllAsync(Store, default);
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
