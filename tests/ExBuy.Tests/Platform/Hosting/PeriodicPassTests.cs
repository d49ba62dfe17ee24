using ExBuy.Infrastructure.Hosting;
using Shouldly;

namespace ExBuy.Tests.Platform.Hosting;

/// <summary>The loop the sweeper and the reconcilers share: a failing pass never ends it, a zero interval turns it off.</summary>
public sealed class PeriodicPassTests
{
    private sealed class CountingPass(TimeSpan interval, bool runAtStart, int failFirst) : PeriodicPass(TimeProvider.System)
    {
        private int _passes;

        public int Passes => Volatile.Read(ref _passes);

        public int Failures;

        protected override TimeSpan Interval => interval;

        protected override bool RunAtStart => runAtStart;

        protected override Task RunPassAsync(CancellationToken ct) =>
            Interlocked.Increment(ref _passes) <= failFirst ? throw new InvalidOperationException("Redis is away") : Task.CompletedTask;

        protected override void PassFailed(Exception e) => Interlocked.Increment(ref Failures);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        // A bound against a hang, not a speed expectation: the passes are 10 ms apart.
        for (var i = 0; i < 3_000 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task a_failing_pass_is_reported_and_the_next_tick_runs_again()
    {
        var pass = new CountingPass(TimeSpan.FromMilliseconds(10), runAtStart: false, failFirst: 2);
        await pass.StartAsync(TestContext.Current.CancellationToken);
        await WaitFor(() => pass.Passes >= 4);
        await pass.StopAsync(CancellationToken.None);

        pass.Passes.ShouldBeGreaterThanOrEqualTo(4);
        pass.Failures.ShouldBe(2);
        pass.ExecuteTask!.IsFaulted.ShouldBeFalse();
    }

    [Fact]
    public async Task a_zero_interval_runs_no_pass_even_when_asked_to_run_at_start()
    {
        var pass = new CountingPass(TimeSpan.Zero, runAtStart: true, failFirst: 0);
        await pass.StartAsync(TestContext.Current.CancellationToken);
        await pass.ExecuteTask!;
        pass.Passes.ShouldBe(0);
    }

    [Fact]
    public async Task run_at_start_runs_before_the_first_interval()
    {
        var pass = new CountingPass(TimeSpan.FromHours(1), runAtStart: true, failFirst: 0);
        await pass.StartAsync(TestContext.Current.CancellationToken);
        await WaitFor(() => pass.Passes >= 1);
        await pass.StopAsync(CancellationToken.None);
        pass.Passes.ShouldBe(1);
    }
}
