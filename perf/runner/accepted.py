#!/usr/bin/env python3
"""Every answer, checked against the database: what a suite was told (a coupon claim answered 201, a flash-sale
purchase, an order, a paid order) must be in PostgreSQL exactly once after the run; and what it was told "failed" or
never got an answer for is classified by what PostgreSQL committed for it (Jepsen-style unknown outcomes).

How the answers are recorded, without touching the suites: the runner does not run the scenario script itself but a
small entry script written next to the run (wrapper()) that imports the suite unmodified, re-exports everything it
exports (options, setup, teardown, the default function, any named scenario functions) and wraps k6/http's post, put,
patch, del, request and batch. k6 gives every importer of "k6/http" the same module object, so the suite's own calls
go through the wrappers. Each POST/PUT/PATCH/DELETE gets a header X-Request-Id (a fresh UUID v4; one the suite set
itself is kept), which ExBuy stores with what the request commits (the events' correlation_id, coupon_claims.request_id).
Two kinds of console lines go to k6's --console-output file:
  exbuy-accepted KIND ID                        a 201 on one of the accepting routes, with the id it answered
  exbuy-answer KIND REQUEST_ID STATUS RECORDS [IDS]
                                                EVERY answer on a writing route (201 or not; status 0 = no answer, a
                                                timeout); RECORDS = the primary records one success stores (1; a bulk
                                                order: its number of orders); IDS = the ids answered, comma-separated

What is verified by id (verify(), after the run has settled), per kind:
  purchase    POST /api/flash-sales/{id}/purchase -> purchase_id: the stream purchase-ID holds exactly one stock_reserved
  order       POST /api/orders -> id, POST /api/orders/bulk -> order_ids: one order document with exactly one order_placed
  paid_order  POST /orders -> orderId: one order document, exactly one order_placed and exactly one balance_debited
  claim       POST /coupons?userId=U&policyId=P: exactly one coupon of policy P for user U (issued asynchronously)
An accepted id missing (or found twice) fails the run. What the database stored during the run but no client was told
(the answer lost with a killed API, a timeout) is allowed, and counted: "stored, answer lost".

What is classified by request id (outcomes(), the same moment), per kind; "stored" = the kind's primary record carrying
the request id (order, paid_order: order_placed; purchase, reserve: stock_reserved; cancel: order_cancelled; charge:
balance_charged; claim: a coupon_claims row that is not failed):
  accepted, stored once                         the answer was 2xx and the records are there: ok
  accepted, missing                             2xx and nothing (or not all of a bulk) stored: LOST, fails the run
                                                (a cancel of an order that was cancelled anyway stores nothing: counted
                                                as "accepted, unchanged", not as lost)
  stored twice                                  more records than one success stores: fails the run
  answered failure, stored                      4xx/5xx and yet stored: the answer LIED, fails the run
  answered failure, not stored                  a refusal: ok
  no answer, stored / no answer, not stored     status 0 (timeout, connection lost, or an answer marked
                                                X-ExBuy-Outcome: unknown: the server says it cannot tell): allowed, counted
Without the server's columns (mt_events.correlation_id, coupon_claims.request_id), or without a database (a peer),
the outcomes are "not verified" — never "clean".
The statements below repeat the server's storage names (Marten's tables and event type names, JSON paths into data,
stream ids): the tooling tests AcceptedAnswersDatabaseTests and OutcomeNamesDatabaseTests run them against writes made
through the API, so a name the server changes fails there.

usage: accepted.py wrapper SUITE.js                      print the entry script for a suite
       accepted.py snapshot --pg URL [--schema S]        before a run: the database clock, the highest order id and event (JSON)
       accepted.py verify --console FILE --pg URL --snapshot JSON [--schema S] [--bound SECONDS]
                                                         after it: every recorded answer checked (JSON; exit 1 when one
                                                         is lost, stored twice, answered as a failure but stored, or
                                                         when the answers could not be verified)
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
ANSWER = "exbuy-answer"
# Written once by each VU on its first iteration: the load has started (set-up done), the moment faults are timed from.
STARTED = "exbuy-load-started"
KINDS = ("purchase", "order", "paid_order", "claim")
# Every kind of write whose answers are classified by request id (outcomes()), and its primary record.
OUTCOME_KINDS = ("purchase", "order", "paid_order", "reserve", "claim", "cancel", "charge")
PRIMARY_EVENT = {"purchase": "stock_reserved", "reserve": "stock_reserved", "order": "order_placed", "paid_order": "order_placed",
                 "cancel": "order_cancelled", "charge": "balance_charged"}
RECORD = re.compile(PREFIX + r" (\w+) ([^\s\"\\]+)")
ANSWER_LINE = re.compile(ANSWER + r" (\w+) ([^\s\"\\]+) (\d+) (\d+)(?: ([^\s\"\\]+))?")
# perf/k6/lib/timing.js: every answer's Server-Timing header recorded per step (the server_timing Trend).
TIMING = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "k6", "lib", "timing.js")).replace("\\", "/")
WRAPPER = """// Written by perf/runner/accepted.py for one run: the suite below, unmodified, with every answer recorded.
import http from "k6/http";
import {{ recordTiming }} from "{timing}";
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

const pathOf = (url) => String(url).replace(/^[a-z]+:\\/\\/[^/]+/i, "").replace(/\\?.*$/, "");

// The accepting routes: a 201 on one of them is recorded with the id it answered ("{prefix} KIND ID").
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
  const path = pathOf(res.request.url);
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

// Every write gets a request id the server stores with what it commits; the suite's own X-Request-Id is kept.
const WRITES = {{ POST: true, PUT: true, PATCH: true, DELETE: true }};
function uuid4() {{
  const b = new Uint8Array(16);
  if (typeof crypto !== "undefined" && crypto && typeof crypto.getRandomValues === "function") crypto.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let h = "";
  for (let i = 0; i < 16; i++) h += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return `${{h.slice(0, 8)}}-${{h.slice(8, 12)}}-${{h.slice(12, 16)}}-${{h.slice(16, 20)}}-${{h.slice(20)}}`;
}}

// (params with the header, the request id) for a write; (params, null) for anything else.
function identify(method, params) {{
  if (!WRITES[String(method).toUpperCase()]) return [params, null];
  const p = Object.assign({{}}, params || {{}});
  const headers = Object.assign({{}}, p.headers || {{}});
  const own = Object.keys(headers).find((k) => k.toLowerCase() === "x-request-id");
  if (own === undefined || !headers[own]) headers["X-Request-Id"] = uuid4();
  p.headers = headers;
  return [p, String(headers[own === undefined || !headers[own] ? "X-Request-Id" : own])];
}}

const bodyOf = (body) => (typeof body === "string" ? JSON.parse(body) : body || {{}});

// The writing routes whose every answer is logged ("{answer} KIND REQUEST_ID STATUS RECORDS [IDS]"): KIND, and from
// the request (path match, body) the records one success stores and the ids to name, or null for another write.
const ANSWER_ROUTES = [
  ["POST", /^\\/api\\/flash-sales\\/\\d+\\/purchase$/, "purchase", () => [1, []], (r) => [r.json().purchase_id]],
  ["POST", /^\\/api\\/orders\\/bulk$/, "order", (m, body) => [bodyOf(body).orders.length, []], (r) => r.json().order_ids],
  ["POST", /^\\/api\\/orders$/, "order", () => [1, []], (r) => [r.json().id]],
  ["POST", /^\\/api\\/inventory\\/reserve$/, "reserve", () => [1, []], () => []],
  ["POST", /^\\/orders$/, "paid_order", () => [1, []], (r) => [r.json().orderId]],
  ["POST", /^\\/coupons$/, "claim", () => [1, []], () => []],
  ["PATCH", /^\\/api\\/orders\\/(\\d+)$/, "cancel", (m, body) => (bodyOf(body).status === "cancelled" ? [1, [m[1]]] : null), () => []],
  ["POST", /^\\/users\\/\\d+\\/balance$/, "charge", () => [1, []], () => []],
];

function outcomeUnknown(res) {{
  const headers = res.headers || {{}};
  return Object.keys(headers).some((k) => k.toLowerCase() === "x-exbuy-outcome" && String(headers[k]).toLowerCase() === "unknown");
}}

function answer(method, url, body, id, res) {{
  if (!id) return;
  try {{
    const verb = String(method).toUpperCase();
    const path = pathOf(url && url.url ? url.url : url);
    for (const [routeMethod, pattern, kind, request, answered] of ANSWER_ROUTES) {{
      const m = verb === routeMethod ? pattern.exec(path) : null;
      if (!m) continue;
      const what = request(m, body);
      if (!what) return;
      // An answer that says its write may or may not have committed (X-ExBuy-Outcome: unknown) counts as no answer.
      const status = res && typeof res.status === "number" && !outcomeUnknown(res) ? res.status : 0;
      let ids = what[1];
      if (status >= 200 && status < 300) {{
        try {{
          ids = ids.concat((answered(res) || []).filter((x) => x !== undefined && x !== null));
        }} catch (e) {{
          // an answer without its ids: the request id alone classifies it
        }}
      }}
      console.log(`{answer} ${{kind}} ${{id}} ${{status}} ${{what[0]}}${{ids.length ? " " + ids.join(",") : ""}}`);
      return;
    }}
  }} catch (e) {{
    // a body the suite sent that is not JSON: not one of the contract's writes
  }}
}}

const post = http.post;
const put = http.put;
const patch = http.patch;
const del = http.del;
const request = http.request;
const batch = http.batch;
// The step a request belongs to: its name tag, else its path (perf/k6/lib/timing.js records its Server-Timing).
const stepOf = (params, url) => (params && params.tags && params.tags.name) || pathOf(url && url.url ? url.url : url);
const get = http.get;
http.get = (url, params, ...rest) => {{
  const res = get.call(http, url, params, ...rest);
  recordTiming(res, stepOf(params, url));
  return res;
}};
function wrapped(method, send, url, body, params) {{
  const [p, id] = identify(method, params);
  const res = send(p);
  recordTiming(res, stepOf(params, url));
  record(res);
  answer(method, url, body, id, res);
  return res;
}}
http.post = (url, body, params, ...rest) => wrapped("POST", (p) => post.call(http, url, body, p, ...rest), url, body, params);
http.put = (url, body, params, ...rest) => wrapped("PUT", (p) => put.call(http, url, body, p, ...rest), url, body, params);
http.patch = (url, body, params, ...rest) => wrapped("PATCH", (p) => patch.call(http, url, body, p, ...rest), url, body, params);
http.del = (url, body, params, ...rest) => wrapped("DELETE", (p) => del.call(http, url, body, p, ...rest), url, body, params);
http.request = (method, url, body, params, ...rest) => wrapped(method, (p) => request.call(http, method, url, body, p, ...rest), url, body, params);
http.batch = function (requests, ...rest) {{
  const sent = Array.isArray(requests) ? [] : {{}};
  const described = {{}};
  Object.keys(requests).forEach((k) => {{
    const r = requests[k];
    if (!r || typeof r !== "object" || (!Array.isArray(r) && r.url === undefined)) {{
      sent[k] = r; // a GET given by its URL
      return;
    }}
    const [method, url, body, params] = Array.isArray(r) ? r : [r.method || "GET", r.url, r.body, r.params];
    const [p, id] = identify(method, params);
    described[k] = [method, url, body, id];
    sent[k] = Array.isArray(r) ? [method, url, body, p] : Object.assign({{}}, r, {{ params: p }});
  }});
  const responses = batch.call(http, sent, ...rest);
  Object.keys(responses).forEach((k) => {{
    const r = requests[k];
    const params = r && typeof r === "object" ? (Array.isArray(r) ? r[3] : r.params) : undefined;
    recordTiming(responses[k], stepOf(params, responses[k] && responses[k].request ? responses[k].request.url : r));
    record(responses[k]);
    if (described[k]) answer(described[k][0], described[k][1], described[k][2], described[k][3], responses[k]);
  }});
  return responses;
}};
"""


def wrapper(suite):
    """The k6 entry script that runs SUITE (an absolute path) unmodified and records its accepted answers."""
    return WRAPPER.format(suite=os.path.abspath(suite).replace("\\", "/"), prefix=PREFIX, answer=ANSWER, started=STARTED, timing=TIMING)


def read_console(path):
    """(records, other lines): the accepted answers {kind: [id, ...]} in k6's --console-output file, and every other
    line (the suite's own console output, shown to the user after the run)."""
    records, _, other = read_all(path)
    return records, other


def read_all(path):
    """(records, answers, other lines) of k6's --console-output file: the accepted answers {kind: [id, ...]}, every
    answer on a writing route [(kind, request id, status, records, ids)], and the suite's own lines."""
    records, answers, other = {}, [], []
    if not path or not os.path.exists(path):
        return records, answers, other
    with open(path, errors="replace") as f:
        for line in f:
            if ANSWER in line:
                m = ANSWER_LINE.search(line)
                if m:
                    answers.append((m.group(1), m.group(2), int(m.group(3)), int(m.group(4)), m.group(5) or ""))
                    continue
            m = RECORD.search(line) if PREFIX in line else None
            if m:
                records.setdefault(m.group(1), []).append(m.group(2))
            elif line.strip() and STARTED not in line:
                other.append(line.rstrip("\n"))
    return records, answers, other


def psql(url, sql):
    """Runs SQL through psql (tuples only, '|'-separated); returns the output lines, or raises RuntimeError."""
    done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"], input=sql, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError((done.stderr or done.stdout).strip()[:500])
    return [line for line in done.stdout.splitlines() if line.strip()]


def snapshot(url, schema="exbuy"):
    """What was there before the measured run: the database clock and the highest order id (the scope of "stored")."""
    row = psql(url, f"select now()::text, coalesce((select max(id) from {schema}.mt_doc_order), 0), "
                    f"coalesce((select max(seq_id) from {schema}.mt_events), 0)")[0].split("|")
    return {"db_time": row[0], "max_order_id": int(row[1]), "max_event_seq": int(row[2])}


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


def quoted(text):
    return str(text).replace("'", "''")


def request_id_columns(url, schema="exbuy"):
    """Which of the server's request-id columns exist: {"events": mt_events.correlation_id, "claims":
    coupon_claims.request_id}. A server that does not store them (yet) cannot have its outcomes classified."""
    rows = psql(url, f"""select table_name || '.' || column_name from information_schema.columns
where table_schema = '{quoted(schema)}' and ((table_name = 'mt_events' and column_name = 'correlation_id')
                                      or (table_name = 'coupon_claims' and column_name = 'request_id'));""")
    found = {r.strip() for r in rows}
    return {"events": "mt_events.correlation_id" in found, "claims": "coupon_claims.request_id" in found}


def covers(columns, kind):
    return columns["claims"] if kind == "claim" else columns["events"]


def outcome_sql(csv_path, before, schema, columns):
    s = schema
    t0 = quoted(before["db_time"])
    # The events appended since the snapshot (seq_id above its highest; every event when the snapshot has none), in one scan.
    types = ", ".join(f"'{e}'" for e in sorted(set(PRIMARY_EVENT.values())))
    events = (f"insert into st select correlation_id, type, count(*) from {s}.mt_events where seq_id > {int(before.get('max_event_seq') or 0)} "
              f"and type in ({types}) and correlation_id in (select rid from req) group by 1, 2;") if columns["events"] else ""
    claims = (f"insert into st select request_id, 'claim', count(*) from {s}.coupon_claims where created_at >= '{t0}'::timestamptz and "
              f"status <> 'failed' and request_id in (select rid from req where kind = 'claim') group by 1, 2;") if columns["claims"] else ""
    primary = "case r.kind " + " ".join(f"when '{k}' then '{e}'" for k, e in PRIMARY_EVENT.items()) + " else 'claim' end"
    unchanged = (f"exists (select 1 from {s}.mt_events e where e.stream_id = 'order-' || r.ids and e.type = 'order_cancelled')"
                 if columns["events"] else "false")

    def examples(condition):
        return f"coalesce(array_to_string((array_agg(rid order by rid) filter (where {condition}))[1:5], ' '), '')"

    return f"""
create temp table ansr (kind text, rid text, status int, records int, ids text);
\\copy ansr from '{csv_path}' with (format csv)
create temp table req as
  select kind, rid, count(*) as answers, bool_or(status between 200 and 299) as ok, bool_or(status >= 300) as refused,
         max(records) as records, max(nullif(ids, '')) as ids
  from ansr group by kind, rid;
create temp table st (rid text, type text, n bigint);
{events}
{claims}
create temp table cls as
  select r.kind, r.rid, r.answers, r.ok, r.refused, r.records, coalesce(st.n, 0) as stored,
         (r.kind = 'cancel' and r.ok and coalesce(st.n, 0) = 0 and coalesce(r.ids, '') ~ '^[0-9]+$' and {unchanged}) as unchanged
  from req r left join st on st.rid = r.rid and st.type = {primary};
select kind, sum(answers), count(*),
       count(*) filter (where ok and stored = records),
       count(*) filter (where ok and unchanged),
       count(*) filter (where ok and stored < records and not unchanged),
       count(*) filter (where stored > records),
       count(*) filter (where not ok and refused and stored > 0),
       count(*) filter (where not ok and refused and stored = 0),
       count(*) filter (where not ok and not refused and stored > 0),
       count(*) filter (where not ok and not refused and stored = 0),
       {examples("ok and stored < records and not unchanged")},
       {examples("stored > records")},
       {examples("not ok and refused and stored > 0")},
       {examples("not ok and not refused and stored > 0")}
from cls group by kind order by kind;
"""


OUTCOME_COUNTS = ("answers", "requests", "stored_once", "unchanged", "lost", "twice", "lied", "refused", "no_answer_stored",
                  "no_answer_not_stored")


def classify(url, answers, before, schema, columns):
    """{kind: counts and examples} of the answers whose kind the server's columns cover (outcome_sql)."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
        writer = csv.writer(f)
        for kind, rid, status, records, ids in answers:
            writer.writerow([kind, rid, status, records, ids])
        path = f.name
    try:
        rows = psql(url, outcome_sql(path, before, schema, columns))
    finally:
        os.unlink(path)
    kinds = {}
    for row in rows:
        cells = row.split("|")
        entry = dict(zip(OUTCOME_COUNTS, (int(c) for c in cells[1:11])))
        entry["examples"] = {name: cell.split() for name, cell in zip(("lost", "twice", "lied", "no_answer_stored"), cells[11:15]) if cell}
        kinds[cells[0]] = entry
    return kinds


def answer_counts(answers):
    """What the suite was told per kind, when it cannot be classified: requests, 2xx, other answers, no answer."""
    out = {}
    for kind, rid, status, _, _ in answers:
        k = out.setdefault(kind, {"answers": 0, "requests": set(), "ok": 0, "failed": 0, "no_answer": 0})
        k["answers"] += 1
        k["requests"].add(rid)
        k["ok" if 200 <= status < 300 else "failed" if status else "no_answer"] += 1
    return {kind: dict(k, requests=len(k["requests"])) for kind, k in sorted(out.items())}


def outcomes(url, answers, before, schema="exbuy"):
    """Every answer on a writing route classified by its request id (module doc). The history line's
    accepted.outcomes: {"verified": true, "kinds": {kind: counts}}; a kind the server's columns do not cover is listed
    under "unverified" with verified false and the reason."""
    answers = [a for a in answers if a[0] in OUTCOME_KINDS]
    if not answers:
        return {"verified": True, "kinds": {}}
    columns = request_id_columns(url, schema)
    covered = [a for a in answers if covers(columns, a[0])]
    result = {"verified": True, "kinds": classify(url, covered, before, schema, columns) if covered else {}}
    left = [a for a in answers if not covers(columns, a[0])]
    if left:
        absent = [c for c, there in (("mt_events.correlation_id", columns["events"]), ("coupon_claims.request_id", columns["claims"])) if not there]
        result.update(verified=False, unverified=answer_counts(left),
                      reason=f"the server stores no request ids ({' and '.join(absent)} missing in schema {schema})")
    return result


def verify(url, records, before, bound_s=30, schema="exbuy", sleep=time.sleep, clock=time.monotonic, answers=None):
    """Checks every recorded accepted answer against PostgreSQL. An accepted claim is issued asynchronously: while some
    answer is still missing the check is repeated, every 2 s for at most bound_s. Then every answer is classified by
    its request id (outcomes()). Returns the history line's "accepted" entry: {"verified": true, "kinds": {kind:
    counts}, "waited_s": s, "outcomes": {…}}, or {"verified": false, "reason": …}."""
    answers = answers or []
    started = clock()
    while True:
        try:
            kinds = verify_once(url, records, before, schema)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            return not_checked(records, answers, f"PostgreSQL could not be asked: {e}")
        if not any(k["missing"] > k["without_id"] for k in kinds.values()) or clock() - started >= bound_s:
            break
        sleep(2)
    result = {"verified": True, "kinds": kinds, "waited_s": round(clock() - started, 1)}
    try:
        result["outcomes"] = outcomes(url, answers, before, schema)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        result["outcomes"] = {"verified": False, "reason": f"PostgreSQL could not be asked: {e}", "unverified": answer_counts(answers), "kinds": {}}
    return result


def unverified(records, reason=None):
    """Counts of what the suite was told, when there is no database to check it against (a peer, --base-url)."""
    return {kind: {"answers": len(ids), "accepted": len(set(ids))} for kind, ids in sorted(records.items())}


def not_checked(records, answers, reason):
    """The history line's "accepted" entry when nothing could be checked: not verified, with the reason and the counts."""
    out = {"verified": False, "reason": reason, "kinds": unverified(records)}
    if answers:
        out["outcomes"] = {"verified": False, "reason": reason, "kinds": {}, "unverified": answer_counts(answers)}
    return out


def not_verified(accepted):
    """Why the answers of a run could not be verified (None when they were, or when there were none): a verdict of its
    own — never "clean"."""
    if not accepted:
        return None
    told = any(k.get("answers") or k.get("accepted") for k in (accepted.get("kinds") or {}).values())
    if not accepted.get("verified") and told:
        return f"accepted answers NOT verified: {accepted.get('reason')}"
    o = accepted.get("outcomes") or {}
    if o and not o.get("verified") and any(k.get("requests") or k.get("answers") for k in (o.get("unverified") or {}).values()):
        return f"outcomes NOT verified: {o.get('reason')}"
    return None


def problems(accepted):
    """What fails a run: an accepted answer the database does not have (or has twice), or one without an id; by request
    id, an answer that said "failed" for a write that committed (it lied), an accepted write missing, a write stored twice."""
    if not accepted:
        return []
    out = []
    if accepted.get("verified"):
        for kind, k in sorted((accepted.get("kinds") or {}).items()):
            lost = k.get("missing", 0) - k.get("without_id", 0)
            if lost:
                out.append(f"{lost} accepted {kind} LOST" + (f" ({', '.join(k.get('examples') or [])})" if k.get("examples") else ""))
            if k.get("duplicated"):
                out.append(f"{k['duplicated']} accepted {kind} stored TWICE")
            if k.get("without_id"):
                out.append(f"{k['without_id']} accepted {kind} answered without an id")
    for kind, k in sorted(((accepted.get("outcomes") or {}).get("kinds") or {}).items()):
        examples = k.get("examples") or {}
        for name, text in (("lied", "answered as a failure but STORED (the answer lied)"), ("lost", "accepted but not stored (LOST, by request id)"),
                           ("twice", "stored TWICE (by request id)")):
            if k.get(name):
                out.append(f"{k[name]} {kind} {text}" + (f" ({', '.join(examples.get(name) or [])})" if examples.get(name) else ""))
    return out


def outcomes_text(o):
    """The outcome classification in one line, e.g. "order: 812 requests: 800 accepted and stored once, 12 answered
    failure, not stored"."""
    if not o:
        return ""
    parts = []
    for kind, k in sorted((o.get("kinds") or {}).items()):
        named = [(k.get("stored_once"), "accepted and stored once"), (k.get("unchanged"), "accepted, unchanged (already cancelled)"),
                 (k.get("lost"), "accepted and MISSING"), (k.get("twice"), "stored TWICE"), (k.get("lied"), "answered failure but STORED"),
                 (k.get("refused"), "answered failure, not stored"), (k.get("no_answer_stored"), "no answer, stored"),
                 (k.get("no_answer_not_stored"), "no answer, not stored")]
        parts.append(f"{kind}: {k.get('requests', 0):,} requests: " + (", ".join(f"{n:,} {t}" for n, t in named if n) or "none"))
    for kind, k in sorted((o.get("unverified") or {}).items()):
        parts.append(f"{kind}: {k.get('requests', 0):,} requests ({k.get('ok', 0):,} 2xx, {k.get('failed', 0):,} failed, "
                     f"{k.get('no_answer', 0):,} no answer): not verified")
    text = "; ".join(parts) or "no writes answered"
    return text + ("" if o.get("verified") else f" — outcomes NOT verified: {o.get('reason')}")


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
    outcome = f" — outcomes by request id: {outcomes_text(accepted['outcomes'])}" if accepted.get("outcomes") else ""
    if not parts:
        return "no accepted answers" + ("" if accepted.get("verified") else f" ({accepted.get('reason')})") + outcome
    return "; ".join(parts) + ("" if accepted.get("verified") else f" — not verified: {accepted.get('reason')}") + outcome


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
    records, answers, _ = read_all(args.console)
    result = verify(args.pg, records, json.loads(args.snapshot), args.bound, args.schema, answers=answers)
    print(json.dumps(result))
    print(summary_text(result) + (f" — {not_verified(result)}" if not_verified(result) else ""), file=sys.stderr)
    return 1 if problems(result) or not_verified(result) or not result.get("verified") else 0


if __name__ == "__main__":
    sys.exit(main())
