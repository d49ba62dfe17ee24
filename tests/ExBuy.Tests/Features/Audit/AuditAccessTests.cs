using ExBuy.Features.Inventory;
using System.Globalization;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tests.Features.Audit;

/// <summary>The audit reads everything: outside the local profile only an admin may run it, and callers arriving during a run share it.</summary>
public sealed class AuditAccessTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task outside_the_local_profile_the_audit_needs_the_admin_key()
    {
        await Audit(key: null, status: 403);
        await Audit(key: "wrong-key", status: 403);
        await Audit(key: ProfileOverride.AdminKey, status: 200);
        await Audit(key: ProfileOverride.AdminKey, status: 403, configuredKey: "none");
        await Host.GetJson("/api/audit"); // the local profile stays open, as for every admin route
    }

    [Fact]
    public async Task concurrent_audit_calls_share_one_run()
    {
        const int callers = 6;
        await Host.Audit(); // a run before, finished: the next caller starts a fresh one
        var runsBefore = await Metric("exbuy_audit_runs_total");
        var requestsBefore = await AuditRequests();

        // Hold the stock table so the run stays in progress until every caller has arrived (counted by the metric).
        var db = Host.Services.GetRequiredService<NpgsqlDataSource>();
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var hold = await connection.BeginTransactionAsync(Ct);
        await using (var lockTable = new NpgsqlCommand($"lock table {ProductStock.Table(Store)} in access exclusive mode", connection, hold))
        {
            await lockTable.ExecuteNonQueryAsync(Ct);
        }

        var calls = Enumerable.Range(0, callers).Select(_ => Host.GetText("/api/audit")).ToList();
        await Eventually.WaitUntilAsync(async () => await AuditRequests() - requestsBefore >= callers, TimeSpan.FromSeconds(30), "every caller waiting on the audit");
        calls.ShouldAllBe(c => !c.IsCompleted, "the run is held behind the table lock");
        await hold.RollbackAsync(Ct);

        var answers = await Task.WhenAll(calls);
        answers.Distinct().ShouldHaveSingleItem("every caller got the one run's answer");
        (await Metric("exbuy_audit_runs_total") - runsBefore).ShouldBe(1, "one run for every caller");
    }

    private async Task<double> AuditRequests() =>
        await Metric("exbuy_audit_requests_total{share=\"started\"}") + await Metric("exbuy_audit_requests_total{share=\"joined\"}");

    /// <summary>A series' value from <c>/metrics</c> (0 before it first counts).</summary>
    private async Task<double> Metric(string series)
    {
        var line = (await Host.GetText("/metrics")).Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private Task<Alba.IScenarioResult> Audit(string? key, int status, string? configuredKey = null) =>
        Host.Scenario(s =>
        {
            s.Get.Url("/api/audit");
            s.AsProduction(key, configuredKey);

            s.StatusCodeShouldBe(status);
        });
}
