using ExBuy.Features.Coupons;
using ExBuy.Infrastructure.Marten;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Coupons;

/// <summary>
/// The coupon quantity rule, "never more than the quantity", has four forms: the rule itself, the check constraint of
/// <c>coupon_policy_stock</c> (<see cref="CouponPolicyStock.WithinQuantity"/>); the issuance's C# grant
/// (<see cref="CouponIssueDecider"/>, <c>quantity − issued</c>); and the Redis gate's two Lua scripts, which the platform
/// forces (a check and a take in one atomic step inside Redis): the admission's <c>remaining</c> counter refused below
/// zero after <see cref="CouponGate.OpenAsync"/>, and the reconcile's <c>remaining = quantity − |requested|</c>. Over a
/// table of cases, against the real PostgreSQL and Redis, all four let exactly as many more claims through.
/// </summary>
public sealed class CouponQuantityFormsTests(AppFixture app) : IntegrationContext(app)
{
    public static TheoryData<int, int, int> Cases() => new()
    {
        { 5, 0, 5 },     // exactly the quantity
        { 5, 0, 6 },     // one more than the quantity
        { 5, 4, 3 },     // one left, three ask
        { 5, 5, 1 },     // none left
        { 1, 0, 3 },
        { 0, 0, 2 },     // a policy of nothing
        { 100, 37, 70 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task the_four_forms_let_the_same_claims_through(int quantity, int issued, int claims)
    {
        // Distinct policy ids per case and per form: the gate's policy is unknown to PostgreSQL, so the reconciler,
        // which walks coupon_policy_stock, never touches it.
        var policy = 9_000_000 + quantity * 10_000 + issued * 100 + claims;
        var gate = Host.Services.GetRequiredService<CouponGate>();

        var decided = Decide(policy, quantity, issued, claims);
        var constrained = await WithinConstraintAsync(policy + 1_000_000, quantity, issued, claims);

        await gate.OpenAsync(policy, quantity);
        for (var user = 1; user <= issued; user++)
        {
            (await gate.AdmitAsync(policy, user)).ShouldBe(Admission.Admitted);
        }

        var admitted = await AdmitNewAsync(gate, policy, quantity, issued, claims);

        var reconciledPolicy = policy + 2_000_000;
        await Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase().KeyDeleteAsync([CouponGate.Requested(reconciledPolicy), CouponGate.Remaining(reconciledPolicy)]);
        await gate.ReconcileAsync(new PolicyTruth(reconciledPolicy, quantity, [.. Enumerable.Range(1, issued).Select(u => (long)u)]), TimeSpan.FromMinutes(1));
        var reconciled = await AdmitNewAsync(gate, reconciledPolicy, quantity, issued, claims);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"quantity {quantity}, issued {issued}, claims {claims}: decider {decided}, constraint {constrained}, admission {admitted}, reconciled {reconciled}");
        constrained.ShouldBe(decided);
        admitted.ShouldBe(decided);
        reconciled.ShouldBe(decided);
        decided.ShouldBe(Math.Clamp(quantity - issued, 0, claims)); // the table's own sanity: the rule as arithmetic
    }

    private static int Decide(long policy, int quantity, int issued, int claims)
    {
        var now = DateTimeOffset.UtcNow;
        var toIssue = Enumerable.Range(0, claims).Select(i => new ClaimToIssue(Guid.NewGuid(), policy, 1_000 + i, now.AddMilliseconds(i))).ToList();
        var stock = new Dictionary<long, PolicyStockRow> { [policy] = new(new CouponPolicy { Id = policy, Discount = 1 }, quantity, issued) };
        return CouponIssueDecider.Decide(toIssue, stock, [.. Enumerable.Range(1, claims).Select(i => (long)i)], now).Coupons.Count;
    }

    /// <summary>The counter row opened at <paramref name="issued"/>, then raised one claim at a time: how many the constraint let through.</summary>
    private async Task<int> WithinConstraintAsync(long policy, int quantity, int issued, int claims)
    {
        var table = CouponPolicyStock.Table(Store);
        await using var connection = await Host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        await using (var open = new NpgsqlCommand($"insert into {table} (policy_id, quantity, issued) values ($1, $2, $3)", connection))
        {
            open.Parameters.Add(new NpgsqlParameter<long> { TypedValue = policy });
            open.Parameters.Add(new NpgsqlParameter<int> { TypedValue = quantity });
            open.Parameters.Add(new NpgsqlParameter<int> { TypedValue = issued });
            await open.ExecuteNonQueryAsync(Ct);
        }

        var through = 0;
        for (var i = 0; i < claims; i++)
        {
            await using var raise = new NpgsqlCommand($"update {table} set issued = issued + 1 where policy_id = $1", connection);
            raise.Parameters.Add(new NpgsqlParameter<long> { TypedValue = policy });
            try
            {
                (await raise.ExecuteNonQueryAsync(Ct)).ShouldBe(1);
                through++;
            }
            catch (PostgresException e) when (PostgresErrors.IsCheckViolation(e, CouponPolicyStock.WithinQuantity))
            {
            }
        }

        await using var read = new NpgsqlCommand($"select issued from {table} where policy_id = $1", connection);
        read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = policy });
        ((int)(await read.ExecuteScalarAsync(Ct))!).ShouldBe(issued + through); // a refusal changed nothing
        return through;
    }

    private static async Task<int> AdmitNewAsync(CouponGate gate, long policy, int quantity, int issued, int claims)
    {
        var admitted = 0;
        for (var i = 0; i < claims; i++)
        {
            var admission = await gate.AdmitAsync(policy, 1_000 + issued + i);
            admission.ShouldBeOneOf(Admission.Admitted, Admission.SoldOut);
            admitted += admission == Admission.Admitted ? 1 : 0;
        }

        (await gate.RemainingAsync(policy)).ShouldBe(quantity - issued - admitted); // a refusal gave its unit back
        return admitted;
    }
}
