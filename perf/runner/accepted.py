#!/usr/bin/env python3
"""Every accepted answer, checked against the database: what a suite was told (a coupon claim answered 201, a flash-sale
purchase, an order, a paid order) must be in PostgreSQL exactly once after the run.

How the answers are recorded, without touching the suites: the runner does not run the scenario script itself but a
small entry script written next to the run (wrapper()) that imports the suite unmodified, re-exports everything it
exports (options, setup, teardown, the default function, any named scenario functions) and wraps k6/http's post,
request and batch. k6 gives every importer of "k6/http" the same module object, so the suite's own calls go through the
wrappers: a POST answered 201 on one of the contract's accepting routes is written as one console line
("exbuy-accepted KIND ID") to k6's --console-output file. The same works for a peer's suite pointed at ExBuy.

What is verified (verify(), one psql round trip after the run has settled), per kind:
  purchase    POST /api/flash-sales/{id}/purchase -> purchase_id: the stream purchase-ID holds exactly one stock_reserved
  order       POST /api/orders -> id, POST /api/orders/bulk -> order_ids: one order document with exactly one order_placed
  paid_order  POST /orders -> orderId: one order document, exactly one order_placed and exactly one balance_debited
  claim       POST /coupons?userId=U&policyId=P: exactly one coupon of policy P for user U (issued asynchronously)
An accepted id missing (or found twice) fails the run. What the database stored during the run but no client was told
(the answer lost with a killed API, a timeout) is allowed, and counted: "stored, answer lost".

usage: accepted.py wrapper SUITE.js                      print the entry script for a suite
       accepted.py snapshot --pg URL [--schema S]        before a run: the database clock and the highest order id (JSON)
       accepted.py verify --console FILE --pg URL --snapshot JSON [--schema S] [--bound SECONDS]
                                                         after it: every recorded answer checked (JSON; exit 1 when one is lost)
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time

PREFIX = "exbuy-accepted"
# Written once by each VU on its first iteration: the load has started (set-up done), the moment faults are timed from.
STARTED = "exbuy-load-started"
KINDS = ("purchase", "order", "paid_order", "claim")
RECORD = re.compile(PREFIX + r" (\w+) ([^\s\"\\]+)")
WRAPPER = """// Written by perf/runner/accepted.py for one run: the suite below, unmodified, with every accepted answer recorded.
import http from "k6/http";
import * as suite from "{suite}";
export * from "{suite}";
let started = false;
export default function (data) {{
  if (!started) {{
    started = true;
    console.log("{started}");
  }}
  return suite.default(data);
}}

const ROUTES = [
  [/^\\/api\\/flash-sales\\/\\d+\\/purchase$/, "purchase", (r) => [r.json().purchase_id]],
  [/^\\/api\\/orders\\/bulk$/, "order", (r) => r.json().order_ids],
  [/^\\/api\\/orders$/, "order", (r) => [r.json().id]],
  [/^\\/orders$/, "paid_order", (r) => [r.json().orderId]],
  [/^\\/coupons$/, "claim", (r) => {{
    const q = {{}};
    String(r.request.url).replace(/^[^?]*\\??/, "").split("&").forEach((kv) => {{ const i = kv.indexOf("="); q[kv.slice(0, i)] = kv.slice(i + 1); }});
    return [`${{q.policyId}}:${{q.userId}}`];
  }}],
];

function record(res) {{
  if (!res || res.status !== 201 || !res.request || res.request.method !== "POST") return;
  const path = String(res.request.url).replace(/^[a-z]+:\\/\\/[^/]+/i, "").replace(/\\?.*$/, "");
  for (const [pattern, kind, ids] of ROUTES) {{
    if (!pattern.test(path)) continue;
    let found;
    try {{
      found = ids(res);
    }} catch (e) {{
      found = null;
    }}
    if (!found || !found.length) found = ["?"];
    for (const id of found) console.log(`{prefix} ${{kind}} ${{id === undefined || id === null ? "?" : id}}`);
    return;
  }}
}}

const post = http.post;
const request = http.request;
const batch = http.batch;
http.post = function (...args) {{
  const res = post.apply(http, args);
  record(res);
  return res;
}};
http.request = function (...args) {{
  const res = request.apply(http, args);
  record(res);
  return res;
}};
http.batch = function (...args) {{
  const responses = batch.apply(http, args);
  Object.keys(responses).forEach((k) => record(responses[k]));
  return responses;
}};
"""


def wrapper(suite):
    """The k6 entry script that runs SUITE (an absolute path) unmodified and records its accepted answers."""
    return WRAPPER.format(suite=os.path.abspath(suite).replace("\\", "/"), prefix=PREFIX, started=STARTED)


def read_console(path):
    """(records, other lines): the accepted answers {kind: [id, ...]} in k6's --console-output file, and every other
    line (the suite's own console output, shown to the user after the run)."""
    records, other = {}, []
    if not path or not os.path.exists(path):
        return records, other
    with open(path, errors="replace") as f:
        for line in f:
            m = RECORD.search(line) if PREFIX in line else None
            if m:
                records.setdefault(m.group(1), []).append(m.group(2))
            elif line.strip() and STARTED not in line:
                other.append(line.rstrip("\n"))
    return records, other


def psql(url, sql):
    """Runs SQL through psql (tuples only, '|'-separated); returns the output lines, or raises RuntimeError."""
    done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"], input=sql, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError((done.stderr or done.stdout).strip()[:500])
    return [line for line in done.stdout.splitlines() if line.strip()]


def snapshot(url, schema="exbuy"):
    """What was there before the measured run: the database clock and the highest order id (the scope of "stored")."""
    row = psql(url, f"select now()::text, coalesce(max(id), 0) from {schema}.mt_doc_order")[0].split("|")
    return {"db_time": row[0], "max_order_id": int(row[1])}


def verification_sql(csv_path, before, schema):
    s = schema
    t0 = before["db_time"].replace("'", "")
    max_order = int(before["max_order_id"])
    return f"""
create temp table acc (kind text, id text);
\\copy acc from '{csv_path}' with (format csv)
create temp table ans as select kind, id, count(*) as answers from acc group by kind, id;
create temp table debits as
  select (data ->> 'OrderId')::bigint as order_id, count(*) as n from {s}.mt_events where type = 'balance_debited' group by 1;
create temp table res (kind text, answers bigint, id text, found bigint, dup boolean, ok boolean);
insert into res
  select a.kind, a.answers, a.id, e.n, e.n > 1, e.n = 1
  from ans a
  left join lateral (select count(*) as n from {s}.mt_events v where v.stream_id = 'purchase-' || a.id and v.type = 'stock_reserved') e on true
  where a.kind = 'purchase' and a.id <> '?';
insert into res
  select a.kind, a.answers, a.id, o.n, p.n > 1 or coalesce(d.n, 0) > 1,
         o.n = 1 and p.n = 1 and (a.kind = 'order' or coalesce(d.n, 0) = 1)
  from ans a
  cross join lateral (select count(*) as n from {s}.mt_doc_order x where x.id = a.id::bigint) o
  cross join lateral (select count(*) as n from {s}.mt_events v where v.stream_id = 'order-' || a.id and v.type = 'order_placed') p
  left join debits d on d.order_id = a.id::bigint
  where a.kind in ('order', 'paid_order') and a.id ~ '^[0-9]+$';
insert into res
  select a.kind, a.answers, a.id, c.n, c.n > 1, c.n = 1
  from ans a
  cross join lateral (select count(*) as n from {s}.mt_doc_coupon k
                      where k.user_id = split_part(a.id, ':', 2)::bigint and (k.data ->> 'PolicyId')::bigint = split_part(a.id, ':', 1)::bigint) c
  where a.kind = 'claim' and a.id ~ '^[0-9]+:[0-9]+$';
create temp table stored (kind text, id text);
insert into stored select 'purchase', substr(id, 10) from {s}.mt_streams where id like 'purchase-%' and created >= '{t0}'::timestamptz;
insert into stored select case when d.order_id is null then 'order' else 'paid_order' end, o.id::text
  from {s}.mt_doc_order o left join debits d on d.order_id = o.id where o.id > {max_order};
insert into stored select 'claim', c.policy_id || ':' || c.user_id from {s}.coupon_claims c where c.created_at >= '{t0}'::timestamptz and c.status <> 'failed';
select k.kind,
       (select coalesce(sum(answers), 0) from ans where ans.kind = k.kind),
       (select count(*) from ans where ans.kind = k.kind),
       (select count(*) from ans where ans.kind = k.kind and (id = '?' or id !~ '^[0-9a-f:-]+$')),
       (select count(*) from res where res.kind = k.kind and ok),
       (select count(*) from res where res.kind = k.kind and not ok and not dup),
       (select count(*) from res where res.kind = k.kind and dup),
       (select count(*) from stored where stored.kind = k.kind),
       (select count(*) from stored where stored.kind = k.kind and not exists (select 1 from ans where ans.kind = k.kind and ans.id = stored.id)),
       coalesce((select string_agg(id, ' ') from (select id from res where res.kind = k.kind and not ok order by id limit 5) x), '')
from (values ('purchase'), ('order'), ('paid_order'), ('claim')) k(kind);
"""


def verify_once(url, records, before, schema="exbuy"):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
        writer = csv.writer(f)
        for kind, ids in records.items():
            for i in ids:
                writer.writerow([kind, i])
        path = f.name
    try:
        rows = psql(url, verification_sql(path, before, schema))
    finally:
        os.unlink(path)
    kinds = {}
    for row in rows:
        kind, answers, distinct, no_id, verified, missing, duplicated, stored, not_answered, examples = row.split("|")
        entry = {"answers": int(answers), "accepted": int(distinct), "verified": int(verified), "missing": int(missing) + int(no_id),
                 "duplicated": int(duplicated), "without_id": int(no_id), "stored": int(stored), "stored_not_answered": int(not_answered),
                 "examples": examples.split() if examples else []}
        if entry["answers"] or entry["stored"]:
            kinds[kind] = entry
    return kinds


def verify(url, records, before, bound_s=30, schema="exbuy", sleep=time.sleep, clock=time.monotonic):
    """Checks every recorded accepted answer against PostgreSQL. An accepted claim is issued asynchronously: while some
    answer is still missing the check is repeated, every 2 s for at most bound_s. Returns the history line's
    "accepted" entry: {"verified": true, "kinds": {kind: counts}, "waited_s": s}, or {"verified": false, "reason": …}."""
    started = clock()
    while True:
        try:
            kinds = verify_once(url, records, before, schema)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            return {"verified": False, "reason": f"PostgreSQL could not be asked: {e}", "kinds": unverified(records)}
        if not any(k["missing"] > k["without_id"] for k in kinds.values()) or clock() - started >= bound_s:
            return {"verified": True, "kinds": kinds, "waited_s": round(clock() - started, 1)}
        sleep(2)


def unverified(records, reason=None):
    """Counts of what the suite was told, when there is no database to check it against (a peer, --base-url)."""
    return {kind: {"answers": len(ids), "accepted": len(set(ids))} for kind, ids in sorted(records.items())}


def problems(accepted):
    """What fails a run: an accepted answer the database does not have (or has twice), or one without an id."""
    if not accepted or not accepted.get("verified"):
        return []
    out = []
    for kind, k in sorted((accepted.get("kinds") or {}).items()):
        lost = k.get("missing", 0) - k.get("without_id", 0)
        if lost:
            out.append(f"{lost} accepted {kind} LOST" + (f" ({', '.join(k.get('examples') or [])})" if k.get("examples") else ""))
        if k.get("duplicated"):
            out.append(f"{k['duplicated']} accepted {kind} stored TWICE")
        if k.get("without_id"):
            out.append(f"{k['without_id']} accepted {kind} answered without an id")
    return out


def summary_text(accepted):
    """One line per run: accepted vs stored per kind, e.g. "order: 812 accepted = 812 stored (3 stored, answer lost)"."""
    if not accepted:
        return ""
    parts = []
    for kind, k in sorted((accepted.get("kinds") or {}).items()):
        if not accepted.get("verified"):
            parts.append(f"{kind}: {k['accepted']:,} accepted (not verified)")
            continue
        text = f"{kind}: {k['accepted']:,} accepted, {k['verified']:,} found once, {k['stored']:,} stored"
        extra = [f"{k['missing']:,} missing" if k.get("missing") else "", f"{k['duplicated']:,} twice" if k.get("duplicated") else "",
                 f"{k['stored_not_answered']:,} stored but answer lost" if k.get("stored_not_answered") else ""]
        extra = [e for e in extra if e]
        parts.append(text + (f" ({', '.join(extra)})" if extra else ""))
    if not parts:
        return "no accepted answers" + ("" if accepted.get("verified") else f" ({accepted.get('reason')})")
    return "; ".join(parts) + ("" if accepted.get("verified") else f" — not verified: {accepted.get('reason')}")


def main():
    p = argparse.ArgumentParser(description="Record a suite's accepted answers (wrapper) and check them against PostgreSQL (verify).")
    verbs = p.add_subparsers(dest="verb", required=True)
    w = verbs.add_parser("wrapper", help="print the k6 entry script that runs SUITE and records its accepted answers")
    w.add_argument("suite")
    n = verbs.add_parser("snapshot", help="before a run: what verify needs to scope \"stored\" (JSON on stdout)")
    n.add_argument("--pg", required=True, help="a psql connection URL, e.g. postgresql://exbuy:exbuy@127.0.0.1:55432/exbuy")
    n.add_argument("--schema", default="exbuy")
    v = verbs.add_parser("verify", help="check the answers recorded in a --console-output file against PostgreSQL")
    v.add_argument("--console", required=True, help="k6's --console-output file")
    v.add_argument("--pg", required=True, help="a psql connection URL, e.g. postgresql://exbuy:exbuy@127.0.0.1:55432/exbuy")
    v.add_argument("--snapshot", required=True, help='what snapshot() read before the run, as JSON: {"db_time": …, "max_order_id": …}')
    v.add_argument("--schema", default="exbuy")
    v.add_argument("--bound", type=float, default=30, help="seconds to wait for answers still missing (default 30)")
    args = p.parse_args()
    if args.verb == "wrapper":
        print(wrapper(args.suite), end="")
        return 0
    if args.verb == "snapshot":
        print(json.dumps(snapshot(args.pg, args.schema)))
        return 0
    records, _ = read_console(args.console)
    result = verify(args.pg, records, json.loads(args.snapshot), args.bound, args.schema)
    print(json.dumps(result))
    print(summary_text(result), file=sys.stderr)
    return 1 if problems(result) or not result.get("verified") else 0


if __name__ == "__main__":
    sys.exit(main())
