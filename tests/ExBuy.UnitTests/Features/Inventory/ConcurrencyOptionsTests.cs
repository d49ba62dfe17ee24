using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Locking;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Shouldly;

namespace ExBuy.UnitTests.Features.Inventory;

/// <summary>ExBuy:Concurrency is validated when the options are first used (at start-up: ValidateOnStart).</summary>
public sealed class ConcurrencyOptionsTests
{
    private static ConcurrencyOptions Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>($"{ConcurrencyOptions.Section}:{s.Key}", s.Value)))
            .Build();
        using var services = new ServiceCollection().AddInventory(configuration).BuildServiceProvider();
        return services.GetRequiredService<IOptions<ConcurrencyOptions>>().Value;
    }

    [Fact]
    public void the_defaults_are_valid()
    {
        var options = Bind();
        options.DefaultLockType.ShouldBe(LockType.Atomic);
    }

    [Fact]
    public void a_lock_poll_range_upside_down_is_refused()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([
                new KeyValuePair<string, string?>($"{LockPollingOptions.Section}:LockPollMinMs", "30"),
                new KeyValuePair<string, string?>($"{LockPollingOptions.Section}:LockPollMaxMs", "10")])
            .Build();
        using var services = new ServiceCollection().AddLockPolling(configuration).BuildServiceProvider();
        Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IOptions<LockPollingOptions>>().Value)
            .Message.ShouldContain("LockPollMaxMs");
    }

    [Fact]
    public void the_default_lock_poll_range_is_valid()
    {
        using var services = new ServiceCollection().AddLockPolling(new ConfigurationBuilder().Build()).BuildServiceProvider();
        var options = services.GetRequiredService<IOptions<LockPollingOptions>>().Value;
        options.LockPollMinMs.ShouldBeLessThanOrEqualTo(options.LockPollMaxMs);
    }

    [Fact]
    public void none_is_refused_as_the_default_lock_type()
    {
        Should.Throw<OptionsValidationException>(() => Bind(("DefaultLockType", "None"))).Message.ShouldContain("none");
    }
}
