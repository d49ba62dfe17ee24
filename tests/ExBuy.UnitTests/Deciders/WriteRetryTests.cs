using ExBuy.Features.Catalog;
using ExBuy.Features.Coupons;
using ExBuy.Infrastructure.Marten;
using JasperFx;
using Microsoft.Extensions.Options;
using Shouldly;

namespace ExBuy.UnitTests.Deciders;

/// <summary>The one retry policy of the write side, and how conflicts are told apart.</summary>
public sealed class WriteRetryTests
{
    private static WriteRetry Retry(int attempts, int timeoutMs = 1) =>
        new(Options.Create(new WriteRetryOptions { MaxAttempts = attempts, TimeoutMs = timeoutMs, MaxBackoffMs = 1 }));

    [Fact]
    public async Task stale_state_runs_the_whole_attempt_again_from_the_load()
    {
        var loads = 0;
        var result = await Retry(5).RunAsync("test", _ =>
        {
            loads++;
            return loads < 3 ? throw new ConcurrencyException(typeof(Coupon), 1) : Task.FromResult("committed");
        }, () => "exhausted", TestContext.Current.CancellationToken);

        result.ShouldBe("committed");
        loads.ShouldBe(3);
    }

    [Fact]
    public async Task a_price_that_moved_is_stale_state_too()
    {
        var loads = 0;
        await Retry(5).RunAsync("test", _ => ++loads == 1 ? throw new StaleDecisionException("moved") : Task.FromResult(0), () => -1,
            TestContext.Current.CancellationToken);
        loads.ShouldBe(2);
    }

    [Fact]
    public async Task the_budget_ends_in_the_exhausted_answer_not_an_exception()
    {
        var loads = 0;
        var result = await Retry(4).RunAsync<string>("test", _ =>
        {
            loads++;
            throw new ConcurrencyException(typeof(Coupon), 1);
        }, () => "exhausted", TestContext.Current.CancellationToken);

        result.ShouldBe("exhausted");
        loads.ShouldBe(4);
    }

    [Fact]
    public async Task other_failures_are_not_retried()
    {
        var loads = 0;
        await Should.ThrowAsync<InvalidOperationException>(() => Retry(5).RunAsync<int>("test", _ =>
        {
            loads++;
            throw new InvalidOperationException("boom");
        }, () => -1, TestContext.Current.CancellationToken));
        loads.ShouldBe(1);
    }

    [Fact]
    public void product_row_conflicts_are_told_apart_from_the_callers_own()
    {
        ConcurrencyConflicts.IsConflictOn<Product>(new ConcurrencyException(typeof(Product), 1)).ShouldBeTrue();
        ConcurrencyConflicts.IsConflictOn<Product>(new AggregateException(
            new ConcurrencyException(typeof(Product), 1), new ConcurrencyException(typeof(Product), 2))).ShouldBeTrue();

        // A stale coupon (or balance, or order) must go back to the caller's load, even when a product conflicted too.
        ConcurrencyConflicts.IsConflictOn<Product>(new ConcurrencyException(typeof(Coupon), 1)).ShouldBeFalse();
        ConcurrencyConflicts.IsConflictOn<Product>(new AggregateException(
            new ConcurrencyException(typeof(Product), 1), new ConcurrencyException(typeof(Coupon), 2))).ShouldBeFalse();
        ConcurrencyConflicts.IsConflict(new AggregateException(
            new ConcurrencyException(typeof(Product), 1), new ConcurrencyException(typeof(Coupon), 2))).ShouldBeTrue();
    }
}
