using Alba;
using ExBuy.Features.Coupons;
using ExBuy.Tests.Infrastructure;
using Marten;
using Npgsql;
using Shouldly;
using StackExchange.Redis;
using Wolverine;
using Wolverine.Tracking;

namespace ExBuy.Tests.Features.Coupons;

/// <summary>
/// Nothing accepted is lost: a claim answered 201 becomes exactly one coupon whatever fails around it (Redis losing
/// its data, PostgreSQL refusing a write, the issuance failing, a message delivered twice), and the gates come back.
/// </summary>
public sealed class CouponRecoveryTests(AppFixture app) : IntegrationContext(app)
{
    private CouponGate Gate => Host.Services.GetRequiredService<CouponGate>();

    private IDatabase Redis => Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

    private NpgsqlDataSource Db => Host.Services.GetRequiredService<NpgsqlDataSource>();

    private async Task<int> Claim(long userId, long policyId)
    {
        var result = await Host.Scenario(s =>
        {
            HttpScenarios.WithQuery(s.Post.Url("/coupons"), $"/coupons?userId={userId}&policyId={policyId}");
            s.IgnoreStatusCode();
        });
        return result.Context.Response.StatusCode;
    }

    /// <summary>Claims and waits until every message it caused has finished, failures included.</summary>
    private async Task<(int Status, ITrackedSession Tracked)> ClaimTracked(long userId, long policyId)
    {
        var status = 0;
        var tracked = await Host.TrackActivity(TimeSpan.FromSeconds(60)).DoNotAssertOnExceptionsDetected()
            .ExecuteAndWaitAsync((Func<IMessageContext, Task>)(async _ => status = await Claim(userId, policyId)));
        return (status, tracked);
    }

    private async Task FlushRedis()
    {
        var redis = Host.Services.GetRequiredService<IConnectionMultiplexer>();
        foreach (var endpoint in redis.GetEndPoints())
        {
            await redis.GetServer(endpoint).FlushDatabaseAsync();
        }

        // The products' stock keys went too; their own reconciler (a background pass in production, off in tests)
        // brings them back, so the audit speaks of the coupons alone.
        await Host.Services.GetRequiredService<ExBuy.Features.Inventory.StockReconciler>().ReconcileAsync(Ct);
    }

    [Fact]
    public async Task a_claim_after_redis_lost_its_data_is_served()
    {
        var shop = await Host.InitShop("""{"userCount":4,"couponQuantity":2,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var (u1, u2, u3) = (await Host.UserId("u1"), await Host.UserId("u2"), await Host.UserId("u3"));
        (await ClaimTracked(u1, policy)).Status.ShouldBe(201);

        await FlushRedis();

        (await ClaimTracked(u2, policy)).Status.ShouldBe(201, "PostgreSQL has issued 1 of 2: the gate is rebuilt from it, not sold out forever");
        (await Host.Coupons(u2)).Count.ShouldBe(1);
        (await Claim(u1, policy)).ShouldBe(409, "u1 holds a coupon: the rebuilt requested set knows it");
        (await Claim(u3, policy)).ShouldBe(409, "2 of 2 issued");
        (await Gate.RemainingAsync(policy)).ShouldBe(0);
        (await Gate.RequestedCountAsync(policy)).ShouldBe(2);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_redelivered_issuance_does_nothing()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var u1 = await Host.UserId("u1");
        var (status, tracked) = await ClaimTracked(u1, policy);
        status.ShouldBe(201);
        var message = tracked.Executed.SingleMessage<IssueCoupon>();

        // The same message again, as after a crash before the envelope was marked handled.
        await Host.TrackActivity(TimeSpan.FromSeconds(60)).DoNotAssertOnExceptionsDetected()
            .ExecuteAndWaitAsync((Func<IMessageContext, Task>)(bus => bus.PublishAsync(message).AsTask()));

        (await Host.Coupons(u1)).Count.ShouldBe(1);
        (await Gate.RemainingAsync(policy)).ShouldBe(2, "the redelivery is not a refusal: no unit goes back");
        (await Gate.RequestedCountAsync(policy)).ShouldBe(1);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task an_issuance_that_keeps_failing_is_compensated_once_and_the_user_may_claim_again()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var u1 = await Host.UserId("u1");

        await using (await PostgresFault.OnInsertAsync(Db, ["mt_doc_coupon"], $"new.user_id = {u1}"))
        {
            (await ClaimTracked(u1, policy)).Status.ShouldBe(201);
        }

        (await Host.Coupons(u1)).ShouldBeEmpty();
        (await Gate.RemainingAsync(policy)).ShouldBe(3, "the unit went back");
        (await Gate.RequestedCountAsync(policy)).ShouldBe(0, "u1 was taken out of the requested set");
        await Host.ShouldPassAudit();

        (await ClaimTracked(u1, policy)).Status.ShouldBe(201);
        (await Host.Coupons(u1)).Count.ShouldBe(1);
        (await Gate.RemainingAsync(policy)).ShouldBe(2);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_claim_that_cannot_be_recorded_is_not_answered_201_and_gives_its_unit_back()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var u1 = await Host.UserId("u1");

        int status;
        await using (await PostgresFault.OnInsertAsync(Db, ["coupon_claims"], $"new.user_id = {u1}"))
        {
            status = (await ClaimTracked(u1, policy)).Status;
        }

        status.ShouldNotBe(201, "the claim was not durable when the answer went out");
        status.ShouldBe(503);
        (await Gate.RemainingAsync(policy)).ShouldBe(3);
        (await Gate.RequestedCountAsync(policy)).ShouldBe(0);
        (await ClaimTracked(u1, policy)).Status.ShouldBe(201, "nothing was taken: the user may claim once PostgreSQL is back");
        (await Host.Coupons(u1)).Count.ShouldBe(1);
    }

    private CouponClaimRecovery Recovery => Host.Services.GetRequiredService<CouponClaimRecovery>();

    /// <summary>
    /// What a process killed after a claim's commit and before its message ran leaves: the Redis admission and the
    /// accepted row, <paramref name="age"/> old, nothing in any queue. Returns the claim's id.
    /// </summary>
    private async Task<Guid> LostClaim(long policyId, long userId, TimeSpan age)
    {
        await Host.AcceptClaimWithoutIssuing(policyId, userId, age: age);
        await using var command = Db.CreateCommand($"select claim_id from {CouponClaims.Table(Store)} where policy_id = $1 and user_id = $2 and status = 'accepted'");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = policyId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
        return (Guid)(await command.ExecuteScalarAsync(Ct))!;
    }

    private async Task<(IReadOnlyList<Guid> Published, ITrackedSession Tracked)> RecoverTracked()
    {
        IReadOnlyList<Guid> published = [];
        var tracked = await Host.TrackActivity(TimeSpan.FromSeconds(60)).DoNotAssertOnExceptionsDetected()
            .ExecuteAndWaitAsync((Func<IMessageContext, Task>)(async _ => published = await Recovery.RecoverOnceAsync(Ct)));
        return (published, tracked);
    }

    [Fact]
    public async Task an_accepted_claim_whose_message_died_with_its_process_is_issued_by_the_recovery()
    {
        var shop = await Host.InitShop("""{"userCount":3,"couponQuantity":3,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var (u1, u2) = (await Host.UserId("u1"), await Host.UserId("u2"));

        // Two claims whose messages died with their process: u1's older than the recovery's wait, u2's a second old.
        var u1Claim = await LostClaim(policy, u1, TimeSpan.FromMinutes(1));
        var u2Claim = await LostClaim(policy, u2, TimeSpan.FromSeconds(1));

        var (published, tracked) = await RecoverTracked();

        published.ShouldBe([u1Claim], "only the claim older than RecoverAfterSeconds (15 s by default)");
        tracked.Executed.SingleMessage<IssueCoupon>().ClaimId.ShouldBe(u1Claim);
        (await Host.Coupons(u1)).Count.ShouldBe(1);
        (await Host.Coupons(u2)).ShouldBeEmpty("a young claim may still be in its process's queue");
        (await Host.CouponCounter(policy)).ShouldBe((3, 1));
        (await Gate.RemainingAsync(policy)).ShouldBe(1, "3 − u1's coupon − u2's claim in flight: nothing given back");
        (await RecoverTracked()).Published.ShouldBeEmpty("u1's claim is issued; u2's is still young");

        // u2's claim grows old without a message: the next pass publishes it.
        await using (var age = Db.CreateCommand($"update {CouponClaims.Table(Store)} set created_at = now() - interval '1 minute' where claim_id = $1"))
        {
            age.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = u2Claim });
            await age.ExecuteNonQueryAsync(Ct);
        }

        (await RecoverTracked()).Published.ShouldBe([u2Claim]);
        (await Host.Coupons(u2)).Count.ShouldBe(1);
        (await Host.CouponCounter(policy)).ShouldBe((3, 2));
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task the_recovery_leaves_a_claim_this_process_is_still_handling_and_a_second_delivery_issues_once()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":2,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var u1 = await Host.UserId("u1");
        var claim = await LostClaim(policy, u1, TimeSpan.FromMinutes(1));

        // Its message is this process's (published a moment ago, not settled yet, as in a long queue): left alone.
        Recovery.Publishing(claim);
        (await RecoverTracked()).Published.ShouldBeEmpty();
        (await Host.Coupons(u1)).ShouldBeEmpty();

        // Published again although its first message is still coming (another node's pass, or this one's once its
        // wait is over): the claim becomes one coupon, whichever delivery comes first.
        Recovery.Done(claim);
        IReadOnlyList<Guid> published = [];
        var tracked = await Host.TrackActivity(TimeSpan.FromSeconds(60)).DoNotAssertOnExceptionsDetected()
            .ExecuteAndWaitAsync((Func<IMessageContext, Task>)(async bus =>
            {
                published = await Recovery.RecoverOnceAsync(Ct);
                await bus.PublishAsync(new IssueCoupon(claim, policy, u1));
            }));

        published.ShouldBe([claim]);
        tracked.Executed.MessagesOf<IssueCoupon>().Count().ShouldBe(2);
        (await Host.Coupons(u1)).Count.ShouldBe(1);
        (await Host.CouponCounter(policy)).ShouldBe((2, 1));
        (await Gate.RemainingAsync(policy)).ShouldBe(1, "the second delivery is not a refusal: no unit goes back");
        Recovery.Handling(claim).ShouldBeFalse("settled");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task a_claim_taken_by_a_recovery_pass_is_left_to_it_for_a_window_and_a_locked_claim_is_skipped()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":2,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var (u1, u2) = (await Host.UserId("u1"), await Host.UserId("u2"));
        var first = await LostClaim(policy, u1, TimeSpan.FromMinutes(1));

        // Issuance held back by a lock on the policy's counter row, as behind a long queue: the claim stays accepted.
        await using (await HeldRow.LockAsync(Db, CouponPolicyStock.Table(Store), "policy_id", policy, Ct))
        {
            (await Recovery.RecoverOnceAsync(Ct)).ShouldBe([first]);

            // Another node's pass (a map without the claim) within the window: the claim is taken, nothing to publish.
            Recovery.Done(first);
            (await Recovery.RecoverOnceAsync(Ct)).ShouldBeEmpty("recovered_at gives the claim to one node for RecoverAfterSeconds");
        }

        await Eventually.WaitUntilAsync(async () => (await Host.Coupons(u1)).Count == 1 && !Recovery.Handling(first), TimeSpan.FromSeconds(60), "u1's claim issued");

        // A claim whose row is locked (another pass taking it, or its issuance in progress) is skipped, not waited for.
        var second = await LostClaim(policy, u2, TimeSpan.FromMinutes(1));
        await using (await HeldRow.LockAsync(Db, CouponClaims.Table(Store), "claim_id", second, Ct))
        {
            (await Recovery.RecoverOnceAsync(Ct)).ShouldBeEmpty();
        }

        (await RecoverTracked()).Published.ShouldBe([second]);
        (await Host.Coupons(u2)).Count.ShouldBe(1);
        (await Host.CouponCounter(policy)).ShouldBe((2, 2));
        (await Gate.RemainingAsync(policy)).ShouldBe(0);
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task redis_coupon_counter_present_catches_a_missing_counter()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        await Redis.KeyDeleteAsync(CouponGate.Remaining(shop.PolicyIds[0]));

        var audit = await Host.Audit();
        audit.Violations.ShouldHaveSingleItem().Invariant.ShouldBe("redis_coupon_counter_present");
        (await Host.GetJson($"/api/coupon-policies/{shop.PolicyIds[0]}/stock"))["consistent"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task after_redis_lost_its_data_a_burst_of_claims_is_served_exactly_up_to_the_quantity()
    {
        var shop = await Host.InitShop("""{"userCount":40,"couponQuantity":10,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var users = await UsersInIdOrder();
        await using var session = Store.QuerySession();
        foreach (var user in users.Take(3))
        {
            (await ClaimTracked(user, policy)).Status.ShouldBe(201);
        }

        await FlushRedis();

        List<TimedResponse> responses = [];
        await Host.ExecuteAndWaitAsync(async () =>
        {
            responses = await Host.FireAsync(40, i => (HttpMethod.Post, $"/coupons?userId={users[i]}&policyId={policy}", null));
        }, 60_000);

        responses.ShouldAllBe(r => r.Status == 201 || r.Status == 409);
        responses.Count(r => r.Status == 201).ShouldBe(7, "10 coupons, 3 issued before Redis lost its data");
        responses.Take(3).ShouldAllBe(r => r.Status == 409, "the holders are known again");
        (await session.Query<Coupon>().CountAsync(Ct)).ShouldBe(10);
        // Redis lost the sales ranking too: the ranking's repair pass restores it within its interval.
        await Eventually.WaitUntilAsync(async () => (await Host.Audit()).Ok, TimeSpan.FromSeconds(60), "the ranking Redis lost is restored");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task the_reconciler_brings_the_gate_back_to_the_database_and_keeps_claims_in_flight()
    {
        var shop = await Host.InitShop("""{"userCount":4,"couponQuantity":5,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var (u1, u2, u3, u4) = (await Host.UserId("u1"), await Host.UserId("u2"), await Host.UserId("u3"), await Host.UserId("u4"));
        (await ClaimTracked(u1, policy)).Status.ShouldBe(201);

        // Damage of every kind: a holder missing from the requested set, an admission whose request died long ago
        // (no claim ever recorded), and the counter at 0 although the database has issued 1 of 5.
        // And a claim in flight: admitted a moment ago, its row not committed yet. PostgreSQL cannot see it.
        (await Gate.AdmitAsync(policy, u3)).ShouldBe(Admission.Admitted);
        await Redis.SortedSetRemoveAsync(CouponGate.Requested(policy), u1);
        await Redis.SortedSetAddAsync(CouponGate.Requested(policy), u2, 1);
        await Redis.StringSetAsync(CouponGate.Remaining(policy), 0);
        (await Claim(u4, policy)).ShouldBe(409, "the broken counter says sold out");

        (await Host.Services.GetRequiredService<CouponGateReconciler>().RunOnceAsync(Ct)).ShouldBe(1);

        (await Gate.RequestedAsync(policy)).ShouldBe([u1, u3], ignoreOrder: true);
        (await Gate.RemainingAsync(policy)).ShouldBe(3, "5 − u1's coupon − u3's claim in flight");
        // u3's claim commits now: the gate already counted it.
        await Host.AcceptClaimWithoutIssuing(policy, u3, admit: false);
        await Host.ShouldPassAudit();
        (await ClaimTracked(u2, policy)).Status.ShouldBe(201, "the dead admission no longer blocks u2");
        (await ClaimTracked(u4, policy)).Status.ShouldBe(201);
        (await Host.Services.GetRequiredService<CouponGateReconciler>().RunOnceAsync(Ct)).ShouldBe(0, "nothing left to repair");
    }

    private async Task<List<long>> UsersInIdOrder()
    {
        await using var session = Store.QuerySession();
        return (await session.Query<ExBuy.Features.Users.ShopUser>().OrderBy(u => u.Id).Select(u => u.Id).ToListAsync(Ct)).ToList();
    }

    /// <summary>A shop whose every user has a claim accepted (recorded, not admitted by Redis) and not yet issued, in id order.</summary>
    private async Task<(long Policy, List<long> Users, List<Guid> Claims)> ClaimsAcceptedNotIssued(string shopJson)
    {
        var policy = (await Host.InitShop(shopJson)).PolicyIds[0];
        var users = await UsersInIdOrder();
        foreach (var user in users)
        {
            await Host.AcceptClaimWithoutIssuing(policy, user, admit: false);
        }

        return (policy, users, await ClaimIds(policy));
    }

    private async Task<List<Guid>> ClaimIds(long policyId)
    {
        await using var command = Db.CreateCommand($"select claim_id from {CouponClaims.Table(Store)} where policy_id = $1 order by created_at, claim_id");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = policyId });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    [Fact]
    public async Task one_transaction_issues_a_batch_up_to_the_counter_and_fails_the_rest_once()
    {
        // Six claims accepted for four coupons: Redis admitted only four, so the database must turn two away.
        var (policy, _, claims) = await ClaimsAcceptedNotIssued("""{"userCount":6,"couponQuantity":4,"policyCount":1}""");
        await using var session = Store.QuerySession();
        var outcomes = await CouponIssuance.IssueAsync(Store, claims, DateTimeOffset.UtcNow, Ct);

        outcomes.Values.Count(o => o == ClaimOutcome.Issued).ShouldBe(4);
        claims.Take(4).ShouldAllBe(c => outcomes[c] == ClaimOutcome.Issued, "first come, first served");
        claims.Skip(4).ShouldAllBe(c => outcomes[c] == ClaimOutcome.SoldOut);
        (await Host.CouponCounter(policy)).ShouldBe((4, 4));
        (await session.Query<Coupon>().Where(c => c.PolicyId == policy).CountAsync(Ct)).ShouldBe(4);

        // Delivered again, all of them: nothing to do.
        (await CouponIssuance.IssueAsync(Store, claims, DateTimeOffset.UtcNow, Ct)).Values.ShouldAllBe(o => o == ClaimOutcome.AlreadySettled);
        (await Host.CouponCounter(policy)).ShouldBe((4, 4));

        // The coupons are ordinary Marten documents: an order can take one with its revision.
        var coupon = (await session.Query<Coupon>().Where(c => c.PolicyId == policy).FirstAsync(Ct));
        coupon.Version.ShouldBe(1);
        coupon.ClaimId.ShouldNotBeNull();
    }

    [Fact]
    public async Task a_claim_that_cannot_be_issued_fails_alone_and_the_claims_batched_with_it_are_issued()
    {
        var (policy, users, claims) = await ClaimsAcceptedNotIssued("""{"userCount":12,"couponQuantity":20,"policyCount":1}""");
        await using var session = Store.QuerySession();
        var poisoned = users[5];
        var issuer = Host.Services.GetRequiredService<CouponIssuer>();
        Task<ClaimOutcome>[] issuing;
        await using (await PostgresFault.OnInsertAsync(Db, ["mt_doc_coupon"], $"new.user_id = {poisoned}"))
        {
            issuing = claims.Select(c => issuer.IssueAsync(c, Ct)).ToArray();
            await Should.ThrowAsync<Exception>(() => Task.WhenAll(issuing));
        }

        issuing.Count(t => t.IsFaulted).ShouldBe(1, "only the claim whose coupon cannot be written fails");
        issuing.Where(t => !t.IsFaulted).ShouldAllBe(t => t.Result == ClaimOutcome.Issued);
        (await Host.Coupons(poisoned)).ShouldBeEmpty();
        (await Host.CouponCounter(policy)).ShouldBe((20, 11));
        (await session.Query<Coupon>().Where(c => c.PolicyId == policy).CountAsync(Ct)).ShouldBe(11);
    }

    private async Task<(double Batches, double Claims)> IssueBatchMetrics()
    {
        var metrics = await Host.GetText("/metrics");
        double Value(string name) =>
            double.Parse(metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (Value("exbuy_coupon_issue_batch_size_count"), Value("exbuy_coupon_issue_batch_size_sum"));
    }

    [Fact]
    public async Task claims_that_arrive_while_a_batch_is_issuing_are_issued_together_by_the_next()
    {
        var (policy, _, claims) = await ClaimsAcceptedNotIssued("""{"userCount":11,"couponQuantity":20,"policyCount":1}""");
        await using var session = Store.QuerySession();
        var issuer = Host.Services.GetRequiredService<CouponIssuer>();
        (await issuer.IssueAsync(claims[0], Ct)).ShouldBe(ClaimOutcome.Issued, "a lone claim is issued at once, no timer");
        var before = await IssueBatchMetrics();

        // The counter row held by another transaction: the first batch waits on it with whatever it took, and every
        // claim handed in meanwhile waits for the next batch.
        Task<ClaimOutcome>[] issuing;
        await using (await HeldRow.LockAsync(Db, CouponPolicyStock.Table(Store), "policy_id", policy, Ct))
        {
            issuing = claims.Skip(1).Select(c => issuer.IssueAsync(c, Ct)).ToArray();
        }

        (await Task.WhenAll(issuing)).ShouldAllBe(o => o == ClaimOutcome.Issued);
        var after = await IssueBatchMetrics();
        (after.Claims - before.Claims).ShouldBe(10);
        (after.Batches - before.Batches).ShouldBeInRange(1, 2, "ten claims in at most two transactions");
        (await Host.CouponCounter(policy)).ShouldBe((20, 11));
        (await session.Query<Coupon>().Where(c => c.PolicyId == policy).CountAsync(Ct)).ShouldBe(11);
    }

    [Fact]
    public async Task a_claim_of_a_user_who_already_holds_a_coupon_of_the_policy_fails_once_without_a_second_coupon()
    {
        var shop = await Host.InitShop("""{"userCount":2,"couponQuantity":3,"policyCount":1}""");
        var policy = shop.PolicyIds[0];
        var u1 = await Host.UserId("u1");

        // A coupon from before claims were recorded: the Redis gate and the claims table do not know it.
        await using (var session = Store.LightweightSession())
        {
            var now = DateTimeOffset.UtcNow;
            session.Insert(new Coupon { Id = await ExBuy.Infrastructure.Marten.IdSequences.NextAsync<Coupon>(Store, Ct), PolicyId = policy, UserId = u1, Discount = 2_000, IssuedAt = now, ExpiresAt = now.AddDays(3) });
            await session.SaveChangesAsync(Ct);
        }

        var (status, tracked) = await ClaimTracked(u1, policy);

        status.ShouldBe(201, "only PostgreSQL knows the coupon");
        tracked.Executed.SingleMessage<IssueCoupon>();
        (await Host.Coupons(u1)).Count.ShouldBe(1, "the unique index refused a second coupon");
        (await ClaimIds(policy)).ShouldHaveSingleItem();
        await using var command = Db.CreateCommand($"select status from {CouponClaims.Table(Store)} where user_id = {u1}");
        ((string)(await command.ExecuteScalarAsync(Ct))!).ShouldBe(CouponClaims.Failed);
        (await Host.CouponCounter(policy)).ShouldBe((3, 0), "the failed issuance rolled back whole");
    }

    [Fact]
    public async Task one_node_reconciles_at_a_time()
    {
        await Host.InitShop("""{"userCount":1,"couponQuantity":5,"policyCount":1}""");
        var reconciler = Host.Services.GetRequiredService<CouponGateReconciler>();
        await using (var other = await Db.OpenConnectionAsync(Ct))
        {
            await using var transaction = await other.BeginTransactionAsync(Ct);
            await using var take = new NpgsqlCommand($"select pg_advisory_xact_lock({CouponGateReconciler.LockKey})", other, transaction);
            await take.ExecuteNonQueryAsync(Ct);
            (await reconciler.RunOnceAsync(Ct)).ShouldBeNull("another node holds the pass");
            await transaction.RollbackAsync(Ct);
        }

        (await reconciler.RunOnceAsync(Ct)).ShouldBe(0);
    }
}
