using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ExBuy.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// The entry script perf/runner/accepted.py writes around a suite, run by Node.js with a stand-in k6/http module (no
/// k6, no load): every write carries a fresh X-Request-Id (a suite's own kept) and every answer on a writing route is
/// logged, whatever its status, no answer included.
/// </summary>
public sealed partial class RequestIdWrapperTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-wrapper-").FullName;

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex UuidV4();

    [Fact]
    public async Task every_write_gets_a_request_id_and_every_answer_on_a_writing_route_is_logged()
    {
        var http = Path.Combine(dir, "http.mjs");
        await File.WriteAllTextAsync(http, """
            export const sent = [];
            const answers = {
              "POST /api/orders": [201, { id: 7 }],
              "POST /orders": [503, {}],
              "PATCH /api/orders/42": [200, { id: 42 }],
              "PATCH /api/orders/43": [200, { id: 43 }],
              "POST /api/orders/bulk": [201, { order_ids: [8, 9, 10] }],
              "POST /coupons": [0, null],
              "POST /users/5/balance": [201, { balance: 10 }],
              "POST /api/inventory/reserve": [503, {}, { "X-Exbuy-Outcome": "unknown" }],
              "POST /api/flash-sales/3/purchase": [201, { purchase_id: "p-1" }],
              "GET /api/products": [200, []],
            };
            function respond(method, url, body, params) {
              sent.push({ method, url, headers: (params && params.headers) || {} });
              const [status, json, headers] = answers[`${method} ${url.replace(/^[a-z]+:\/\/[^/]+/i, "").replace(/\?.*$/, "")}`];
              return { status, headers: headers || {}, request: { method, url }, json: () => json };
            }
            export default {
              get: (url, params) => respond("GET", url, null, params),
              post: (url, body, params) => respond("POST", url, body, params),
              put: (url, body, params) => respond("PUT", url, body, params),
              patch: (url, body, params) => respond("PATCH", url, body, params),
              del: (url, body, params) => respond("DELETE", url, body, params),
              request: (method, url, body, params) => respond(method, url, body, params),
              batch: (requests) => requests.map((r) => (Array.isArray(r) ? respond(r[0], r[1], r[2], r[3]) : respond(r.method, r.url, r.body, r.params))),
            };
            """, TestContext.Current.CancellationToken);
        var suite = Path.Combine(dir, "suite.mjs");
        await File.WriteAllTextAsync(suite, $$"""
            import http from "{{http}}";
            const json = { headers: { "Content-Type": "application/json" } };
            export const options = { vus: 1 };
            export default function () {
              http.post("http://x/api/orders", JSON.stringify({ user_id: 1, items: [] }), json);
              http.post("http://x/orders", "{}", { headers: { "x-request-id": "suite-own-1" } });
              http.request("PATCH", "http://x/api/orders/42", JSON.stringify({ status: "cancelled" }), json);
              http.request("PATCH", "http://x/api/orders/43", JSON.stringify({ status: "shipped" }), json);
              http.batch([
                ["POST", "http://x/api/orders/bulk", JSON.stringify({ orders: [{}, {}, {}] }), json],
                { method: "POST", url: "http://x/coupons?userId=5&policyId=2", body: null, params: {} },
              ]);
              http.post("http://x/users/5/balance", JSON.stringify({ amount: 10 }), json);
              http.post("http://x/api/inventory/reserve?lock_type=row", JSON.stringify({ product_id: 1, quantity: 1 }), json);
              http.post("http://x/api/flash-sales/3/purchase", JSON.stringify({ user_id: 1 }));
              http.get("http://x/api/products", json);
            }
            """, TestContext.Current.CancellationToken);
        var (wrapped, entryScript, wrapError) = RunnerProcess.Python(RunnerProcess.Runner("accepted.py"), "wrapper", suite);
        wrapped.ShouldBe(0, wrapError);
        // k6's own modules do not exist under node: k6/http is the stand-in above, and the Server-Timing recorder (which
        // imports k6/metrics) a no-op; what is tested here is the wrapper.
        var timing = Path.Combine(dir, "timing.mjs");
        await File.WriteAllTextAsync(timing, "export function recordTiming() {}\n", TestContext.Current.CancellationToken);
        var entry = Regex.Replace(entryScript.Replace("\"k6/http\"", $"\"{http}\"", StringComparison.Ordinal),
            "\"[^\"]*/k6/lib/timing\\.js\"", $"\"{timing}\"");
        entry.ShouldContain(timing, Case.Sensitive, "the entry script imports the Server-Timing recorder");
        await File.WriteAllTextAsync(Path.Combine(dir, "entry.mjs"), entry, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "run.mjs"), """
            import run from "./entry.mjs";
            import { sent } from "./http.mjs";
            run({});
            console.log("SENT " + JSON.stringify(sent));
            """, TestContext.Current.CancellationToken);

        var result = await Processes.RunAsync("node", [Path.Combine(dir, "run.mjs")], workingDirectory: dir);

        result.ExitCode.ShouldBe(0, result.Output);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var sent = JsonNode.Parse(lines.Single(l => l.StartsWith("SENT ", StringComparison.Ordinal))[5..])!.AsArray();
        string Id(int i) => sent[i]!["headers"]!.AsObject().Single(h => h.Key.Equals("x-request-id", StringComparison.OrdinalIgnoreCase)).Value!.GetValue<string>();
        sent.Count.ShouldBe(10);
        int[] generated = [0, 2, 3, 4, 5, 6, 7, 8];
        foreach (var i in generated)
        {
            Id(i).ShouldMatch(UuidV4().ToString(), $"{sent[i]!["method"]} {sent[i]!["url"]}");
        }

        generated.Select(Id).Distinct().Count().ShouldBe(generated.Length, "a fresh id per request");
        Id(1).ShouldBe("suite-own-1", "the suite's own header is kept");
        sent[1]!["headers"]!.AsObject().Count.ShouldBe(1, "and not sent twice");
        sent[0]!["headers"]!["Content-Type"]!.GetValue<string>().ShouldBe("application/json", "the suite's headers stay");
        sent[9]!["headers"]!.AsObject().ContainsKey("X-Request-Id").ShouldBeFalse("a GET is not a write");

        var answers = lines.Where(l => l.StartsWith("exbuy-answer ", StringComparison.Ordinal)).ToList();
        answers.ShouldBe(
        [
            $"exbuy-answer order {Id(0)} 201 1 7",
            "exbuy-answer paid_order suite-own-1 503 1",
            $"exbuy-answer cancel {Id(2)} 200 1 42",
            $"exbuy-answer order {Id(4)} 201 3 8,9,10",
            $"exbuy-answer claim {Id(5)} 0 1",
            $"exbuy-answer charge {Id(6)} 201 1",
            $"exbuy-answer reserve {Id(7)} 0 1", // a 503 marked X-ExBuy-Outcome: unknown is no answer
            $"exbuy-answer purchase {Id(8)} 201 1 p-1",
        ], "every answer, 201 or not, no answer (0, or an answer whose outcome the server marks unknown) included; a status change other than a cancellation is not a cancel");
        lines.Where(l => l.StartsWith("exbuy-accepted ", StringComparison.Ordinal))
            .ShouldBe(["exbuy-accepted order 7", "exbuy-accepted order 8", "exbuy-accepted order 9", "exbuy-accepted order 10", "exbuy-accepted purchase p-1"],
                "the accepted ids, as before");
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}

/// <summary>
/// The unknown-outcome classifier (accepted.py verify) against the real test PostgreSQL, on fixture rows: each request
/// of a run looked up by its request id (the events' correlation_id, coupon_claims.request_id) in a schema of its own
/// whose tables are copies of the API's (LIKE …), so that the rows and the columns the server stores are the test's
/// alone. An answer that said "failed" for a write that committed fails the run; without the columns it is "not
/// verified", never clean.
/// </summary>
public sealed class OutcomeDatabaseTests(AppFixture app) : IntegrationContext(app)
{
    private static string Url
    {
        get
        {
            var c = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? AppFixture.DefaultPostgres);
            return $"postgresql://{c.Username}:{c.Password}@{c.Host}:{c.Port}/{c.Database}";
        }
    }

    private static async Task SqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? AppFixture.DefaultPostgres);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static (int Exit, JsonNode Result, string Summary) Verify(string schema, string snapshot, IEnumerable<string> answers)
    {
        var console = Path.Combine(Path.GetTempPath(), $"exbuy-outcomes-{Guid.NewGuid():N}.log");
        try
        {
            File.WriteAllLines(console, answers.Select(a => RunnerProcess.ConsoleLine($"exbuy-answer {a}")));
            var (exit, output, error) = RunnerProcess.Python(
                RunnerProcess.Runner("accepted.py"), "verify", "--console", console, "--pg", Url, "--schema", schema, "--snapshot", snapshot, "--bound", "0");
            return (exit, JsonNode.Parse(output) ?? throw new InvalidOperationException(error), error);
        }
        finally
        {
            File.Delete(console);
        }
    }

    private static string Event(string schema, string stream, long version, string type, string requestId) =>
        $"insert into {schema}.mt_events (seq_id, id, stream_id, version, data, type, correlation_id) "
        + $"values (nextval('{schema}.fixture_seq'), gen_random_uuid(), '{stream}', {version}, '{{}}', '{type}', '{requestId}');";

    private static string Claim(string schema, long user, string status, string requestId) =>
        $"insert into {schema}.coupon_claims (claim_id, policy_id, user_id, status, request_id) values (gen_random_uuid(), 1, {user}, '{status}', '{requestId}');";

    private static void Counts(JsonNode kind, int once, int lost, int twice, int lied, int refused, int noAnswerStored, int noAnswerNotStored, int unchanged = 0)
    {
        var text = kind.ToJsonString();
        kind["stored_once"]!.GetValue<int>().ShouldBe(once, text);
        kind["lost"]!.GetValue<int>().ShouldBe(lost, text);
        kind["twice"]!.GetValue<int>().ShouldBe(twice, text);
        kind["lied"]!.GetValue<int>().ShouldBe(lied, text);
        kind["refused"]!.GetValue<int>().ShouldBe(refused, text);
        kind["no_answer_stored"]!.GetValue<int>().ShouldBe(noAnswerStored, text);
        kind["no_answer_not_stored"]!.GetValue<int>().ShouldBe(noAnswerNotStored, text);
        kind["unchanged"]!.GetValue<int>().ShouldBe(unchanged, text);
    }

    [Fact]
    public async Task every_answer_is_classified_by_its_request_id_and_an_answer_that_said_failed_for_a_stored_write_fails_the_run()
    {
        var real = Store.Options.DatabaseSchemaName;
        var s = $"outcomes_{Guid.NewGuid():N}"[..20];
        await Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync(); // every table the copies are made of
        await SqlAsync($"""
            create schema {s};
            create sequence {s}.fixture_seq;
            create table {s}.mt_events (like {real}.mt_events including defaults);
            create table {s}.mt_streams (like {real}.mt_streams including defaults);
            create table {s}.mt_doc_order (like {real}.mt_doc_order including defaults);
            create table {s}.mt_doc_coupon (like {real}.mt_doc_coupon including defaults);
            create table {s}.coupon_claims (like {real}.coupon_claims including defaults);
            alter table {s}.mt_events add column if not exists correlation_id varchar;
            alter table {s}.coupon_claims add column if not exists request_id text;
            """);
        try
        {
            var snap = RunnerProcess.Python(RunnerProcess.Runner("accepted.py"), "snapshot", "--pg", Url, "--schema", s);
            snap.Exit.ShouldBe(0, snap.Error);
            await SqlAsync(string.Concat(
                Event(s, "order-1", 1, "order_placed", "r-once"),
                Event(s, "order-2", 1, "order_placed", "r-lied"),             // answered 503, yet committed
                Event(s, "order-3", 1, "order_placed", "r-no-answer-stored"),
                Event(s, "order-4", 1, "order_placed", "r-bulk"), Event(s, "order-5", 1, "order_placed", "r-bulk"), Event(s, "order-6", 1, "order_placed", "r-bulk"),
                Event(s, "order-7", 1, "order_placed", "r-twice"), Event(s, "order-8", 1, "order_placed", "r-twice"),
                Event(s, "purchase-a", 1, "stock_reserved", "r-purchase"),
                Event(s, "reservation-b", 1, "stock_reserved", "r-reserve-lied"),
                Event(s, "order-900", 2, "order_cancelled", "r-cancel"),
                Event(s, "order-901", 2, "order_cancelled", "someone-else"),    // 901 was cancelled by another request
                Event(s, "balance-5", 1, "balance_charged", "r-charge"),
                Claim(s, 1, "accepted", "r-claim"), Claim(s, 2, "failed", "r-claim-refused"), Claim(s, 3, "issued", "r-claim-lied")));
            string[] clean =
            [
                "order r-once 201 1 1", "order r-refused 409 1", "order r-no-answer-stored 0 1", "order r-no-answer 0 1", "order r-bulk 201 3 4,5,6",
                "purchase r-purchase 201 1 a", "cancel r-cancel 200 1 900", "cancel r-cancel-unchanged 200 1 901", "charge r-charge 201 1",
                "claim r-claim 201 1", "claim r-claim-refused 409 1",
            ];
            string[] wrong = ["order r-lied 503 1", "order r-lost 201 1 99", "paid_order r-twice 201 1 7", "reserve r-reserve-lied 503 1", "claim r-claim-lied 503 1"];

            var good = Verify(s, snap.Output.Trim(), clean);

            good.Exit.ShouldBe(0, good.Summary);
            var kinds = good.Result["outcomes"]!["kinds"]!;
            good.Result["outcomes"]!["verified"]!.GetValue<bool>().ShouldBeTrue();
            Counts(kinds["order"]!, once: 2, lost: 0, twice: 0, lied: 0, refused: 1, noAnswerStored: 1, noAnswerNotStored: 1);
            Counts(kinds["purchase"]!, once: 1, lost: 0, twice: 0, lied: 0, refused: 0, noAnswerStored: 0, noAnswerNotStored: 0);
            Counts(kinds["cancel"]!, once: 1, lost: 0, twice: 0, lied: 0, refused: 0, noAnswerStored: 0, noAnswerNotStored: 0, unchanged: 1);
            Counts(kinds["charge"]!, once: 1, lost: 0, twice: 0, lied: 0, refused: 0, noAnswerStored: 0, noAnswerNotStored: 0);
            Counts(kinds["claim"]!, once: 1, lost: 0, twice: 0, lied: 0, refused: 1, noAnswerStored: 0, noAnswerNotStored: 0);
            kinds["order"]!["examples"]!["no_answer_stored"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["r-no-answer-stored"]);

            var bad = Verify(s, snap.Output.Trim(), [.. clean, .. wrong]);

            bad.Exit.ShouldBe(1, bad.Summary);
            kinds = bad.Result["outcomes"]!["kinds"]!;
            Counts(kinds["order"]!, once: 2, lost: 1, twice: 0, lied: 1, refused: 1, noAnswerStored: 1, noAnswerNotStored: 1);
            Counts(kinds["paid_order"]!, once: 0, lost: 0, twice: 1, lied: 0, refused: 0, noAnswerStored: 0, noAnswerNotStored: 0);
            Counts(kinds["reserve"]!, once: 0, lost: 0, twice: 0, lied: 1, refused: 0, noAnswerStored: 0, noAnswerNotStored: 0);
            Counts(kinds["claim"]!, once: 1, lost: 0, twice: 0, lied: 1, refused: 1, noAnswerStored: 0, noAnswerNotStored: 0);
            kinds["order"]!["examples"]!["lied"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["r-lied"]);
            kinds["order"]!["examples"]!["lost"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["r-lost"]);
            bad.Summary.ShouldContain("order: 7 requests: 2 accepted and stored once, 1 accepted and MISSING, 1 answered failure but STORED");

            // A failing answer that was stored fails the run on its own.
            var lied = Verify(s, snap.Output.Trim(), [.. clean, "order r-lied 503 1"]);
            lied.Exit.ShouldBe(1, lied.Summary);

            // Without the server's columns: not verified (exit 1), never clean.
            await SqlAsync($"alter table {s}.mt_events drop column correlation_id; alter table {s}.coupon_claims drop column request_id;");

            var unknown = Verify(s, snap.Output.Trim(), clean);

            unknown.Exit.ShouldBe(1, unknown.Summary);
            var outcomes = unknown.Result["outcomes"]!;
            outcomes["verified"]!.GetValue<bool>().ShouldBeFalse();
            outcomes["reason"]!.GetValue<string>().ShouldContain("mt_events.correlation_id and coupon_claims.request_id missing");
            outcomes["unverified"]!["order"]!["requests"]!.GetValue<int>().ShouldBe(5);
            outcomes["unverified"]!["order"]!["no_answer"]!.GetValue<int>().ShouldBe(2);
            unknown.Summary.ShouldContain("outcomes NOT verified");
        }
        finally
        {
            await SqlAsync($"drop schema {s} cascade;");
        }
    }
}
