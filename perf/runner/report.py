"""Reports over recorded runs: each run's verdict (k6's exit code, checks, audit, thresholds, and the scenario's own
result first), a markdown table for pull requests and a self-contained HTML report with charts."""
import html
import json
import re

import capacity
import cost
import timing
from charts import STYLE, bar_chart, line_chart, esc
from accepted import not_verified as accepted_not_verified, problems as accepted_problems, summary_text as accepted_text
from summarize import (availability_text, correctness_text, fault_problems, fault_split, is_measured, landing_text,
                       thresholds_text)

SLA_MS = 200  # seed 001's SLA on every step, the line drawn on every latency chart
K6_EXIT = {0: "ok", 97: "cloud test run failed", 98: "cloud progress lost", 99: "thresholds crossed", 100: "setup timed out",
           101: "teardown timed out", 102: "timed out", 103: "engine error", 104: "invalid configuration",
           105: "aborted from outside", 106: "REST API could not start", 107: "script exception", 108: "script aborted"}


def k6_exit_text(code):
    return f"k6 exit {code} ({K6_EXIT.get(code, 'error')})"


def check_failed(r, fragment):
    """True/False when the run recorded the named check (older lines did not), None otherwise."""
    hits = [c for name, c in (r.get("checks") or {}).items() if fragment in name]
    if not hits:
        return None
    return any(c["failed"] for c in hits)


def scenario_result(r):
    """(ok, text): the result that matters for this scenario, before any latency. None when not applicable."""
    scenario, env = r["scenario"], r.get("env") or {}
    counters, gauges = r.get("counters") or {}, r.get("gauges") or {}
    if scenario == "flash-sale":
        stock = int(gauges.get("flash_sale_stock_initial") or env.get("STOCK") or 100)
        sold = gauges.get("flash_sale_stock_sold", counters.get("flash_sale_sold"))
        if sold is None:
            return None
        parts = [f"sold {int(sold)} of {stock}"]
        ok = int(sold) == stock
        if "flash_sale_stock_db" in gauges:
            db, redis = gauges.get("flash_sale_stock_db"), gauges.get("flash_sale_stock_redis")
            same = redis is None or redis == db
            parts.append(f"database stock {int(db)}" + ("" if redis is None else f" {'=' if same else '≠'} Redis {int(redis)}"))
            oversold = int(gauges.get("flash_sale_stock_oversold") or 0)
            parts.append("nothing oversold" if not oversold else f"{oversold} OVERSOLD")
            ok = ok and same and not oversold and gauges.get("flash_sale_stock_consistent", 1) == 1
        else:
            consistent = check_failed(r, "stock consistent")
            if consistent is not None:
                parts.append("database = Redis" if not consistent else "database ≠ Redis")
                ok = ok and not consistent
        return ok, ", ".join(parts)
    if scenario == "coupon-rush":
        quantity = int(env.get("QUANTITY") or 50000)
        admitted = counters.get("coupon_admitted")
        if admitted is None:
            return None
        text = f"admitted {admitted:,} of {quantity:,} coupons ({counters.get('coupon_refused', 0):,} refused)"
        ok = admitted <= quantity
        for fragment, label in (("queue settled", "queue settled"), ("coupons consistent", "Redis + database = quantity"),
                                ("every admitted claim", "every admitted claim became a coupon")):
            failed = check_failed(r, fragment)
            if failed is not None:
                text += f", {label}" if not failed else f", NOT: {label}"
                ok = ok and not failed
        return ok, text
    if scenario == "paid-orders":
        paid = counters.get("orders_paid")
        return None if paid is None else (True, f"{paid:,} orders paid" + (f", {r['req_per_s']} orders/s" if r.get("req_per_s") else ""))
    if scenario.startswith("persona-"):
        if not any(is_measured(name) for name in (r.get("steps") or {})):
            return None
        over = [f"{name} {s['p95_ms']:.0f}/{s['p99_ms']:.0f} ms" for name, s in (r.get("steps") or {}).items()
                if is_measured(name) and s.get("p95_ms") is not None and (s["p95_ms"] >= SLA_MS or (s.get("p99_ms") or 0) >= SLA_MS)]
        return (not over), ("every step p95 and p99 < 200 ms" if not over else "over the 200 ms SLA (p95/p99): " + ", ".join(over))
    return None


PASS, FAIL, NOT_VERIFIED, UNSAFE = "pass", "fail", "not verified", "unsafe, as expected"


def plain_problems(r):
    """What fails a run without faults: k6's exit code, failed checks, a failed audit, crossed thresholds (named by
    kind: latency, checks, errors, counter), an answer not in the database as told, the scenario's own result."""
    problems = []
    if r.get("audit_ok") is False:
        problems.append("audit VIOLATIONS")
    elif r.get("audit_ok") is None and r.get("system", "ExBuy") == "ExBuy":
        problems.append("no audit")
    if r.get("checks_failed"):
        problems.append(f"{r['checks_failed']} failed checks")
    crossed = r.get("thresholds_failed") or []
    if crossed:
        problems.append(thresholds_text(r))
    code = r.get("k6_exit")
    if code not in (0, None) and not (code == 99 and crossed):
        problems.append(k6_exit_text(code))
    problems += accepted_problems(r.get("accepted"))
    own = scenario_result(r)
    if own and not own[0] and not problems:
        problems.append("scenario result")
    return problems


def broken(r):
    """Why a run did not go through at all (lock_type=none is judged on this alone): k6 did not (a script error, a
    timeout), no load was measured, the API answered 5xx or not at all, there was no audit, a fault was not injected."""
    out = []
    code = r.get("k6_exit")
    if code not in (0, 99, None):
        out.append(k6_exit_text(code))
    if not r.get("requests"):
        out.append("no load was measured")
    statuses = r.get("by_status") or {}
    errors = sum(v.get("requests", 0) for status, v in statuses.items() if str(status).startswith("5"))
    if errors:
        out.append(f"the API answered 5xx {errors:,} times")
    unanswered = (statuses.get("0") or {}).get("requests")
    if unanswered:
        out.append(f"{unanswered:,} requests got no answer")
    if r.get("audit_ok") is None and r.get("system", "ExBuy") == "ExBuy":
        out.append("no audit")
    for f in r.get("faults") or []:
        if f.get("not_injected") or f.get("exit") not in (0, None):
            out.append(f"fault {f['kind']} " + (f"not injected: {f['not_injected']}" if f.get("not_injected") else f"exited {f.get('exit')}"))
    return out


def judge(r):
    """(status, problems, notes): the run's verdict, one of
      pass                 everything held (a fault run: settled, consistency checks held, audit clean, answers verified)
      fail                 problems says why
      not verified         nothing failed, but the answers could not be checked (no database, a failed snapshot, a peer,
                           a server that stores no request ids): notes says why. A fault run that is not verified does
                           not pass.
      unsafe, as expected  lock_type=none, which oversells by design: never a pass; it fails only when the run itself
                           broke (broken()); notes says what it showed
    A capacity line (perf capacity) is judged by capacity.judge: its knee step's verdict, or a fail when no rate met the SLO."""
    if r.get("capacity"):
        return capacity.judge(r, judge)
    if r.get("lock_type") == "none":
        why = broken(r)
        if why:
            return FAIL, why, []
        own = scenario_result(r)
        notes = plain_problems(r)
        return UNSAFE, [], [n for n in notes if n != "scenario result"] + ([own[1]] if own else [])
    problems = fault_problems(r) if r.get("faults") else plain_problems(r)
    if problems:
        return FAIL, problems, []
    why = accepted_not_verified(r.get("accepted"))
    if why is None and r.get("faults") and not r.get("accepted"):
        why = "accepted answers not recorded"
    if why:
        return NOT_VERIFIED, [], [why]
    return PASS, [], []


def verdict(r):
    """(ok, problems): ok only for a pass (judge); problems the reasons (or the notes of a run that did not pass)."""
    status, problems, notes = judge(r)
    return status == PASS, problems + notes


def verdict_text(r):
    if r.get("capacity"):
        return capacity.verdict_text(r, judge)
    status, problems, notes = judge(r)
    if status == PASS:
        return "ok"
    if status == FAIL:
        return ", ".join(problems)
    if status == NOT_VERIFIED:
        return "not verified: " + "; ".join(notes)
    return UNSAFE + (f" ({', '.join(notes)})" if notes else "")


def verdict_class(r):
    return {PASS: "ok", FAIL: "bad"}.get(judge(r)[0], "warn")


def label(i, r, long=False):
    parts = [f"#{i}", r.get("system") or "ExBuy"]
    if long:
        parts.append(r["scenario"])
    parts += [r["lock_type"], f"{r['vus']} VU"]
    parts.append(r.get("label") or r.get("commit") or "")
    return " ".join(p for p in parts if p)


def step_order(name):
    """Steps in their scripts' order: by their number prefix (0_get_userId before 1_charge_balance before 10_reserve)."""
    head = name.split("_", 1)[0]
    return (int(head), name) if head.isdigit() else (10 ** 9, name)


def measured_steps(runs):
    """The runs' measured steps: each run's in script order, runs of other scenarios after (not interleaved)."""
    ordered = []
    for _, r in runs:
        ordered += [s for s in sorted(r.get("steps", {}), key=step_order) if is_measured(s) and s not in ordered]
    return ordered


def duration_of(r):
    return r.get("shape") and f"{r['shape']}" + (f" {r['duration']}" if r.get("duration") and r["duration"] != r["shape"] else "") or str(r.get("duration"))


def blank(value):
    return "" if value is None else value


def markdown(runs):
    out = ["| run | system | label | scenario | lock_type | VUs | shape / duration | commit | time (UTC) |", "|---|---|---|---|---|---|---|---|---|"]
    for i, r in runs:
        out.append(f"| #{i} | {r.get('system', 'ExBuy')} | {r.get('label') or ''} | {r['scenario']} | {r['lock_type']} | {r['vus']} | "
                   f"{duration_of(r)} | {r.get('commit') or ''} | {r['time'][:19]} |")
    out += ["", "| run | verdict | result | req/s | p50 ms | p95 ms | p99 ms | errors | API RSS MB |", "|---|---|---|---|---|---|---|---|---|"]
    for i, r in runs:
        own = scenario_result(r)
        out.append(f"| #{i} | {verdict_text(r)} | {own[1] if own else ''} | {blank(r['req_per_s'])} | {blank(r['p50_ms'])} | {blank(r['p95_ms'])} | "
                   f"{blank(r['p99_ms'])} | {blank(r['error_rate'])} | {blank(r.get('api_rss_mb_max'))} |")
    checked = [(i, r) for i, r in runs if r.get("accepted") or r.get("faults")]
    if checked:
        out += ["", "| run | faults (when they landed) | settle | accepted vs stored (checked in PostgreSQL after the run) |", "|---|---|---|---|"]
        for i, r in checked:
            faults = "; ".join(f"{f['kind']}@{f['at_s']}s" + (f": {landing_text(r, f)}" if landing_text(r, f) else "") for f in r.get("faults") or [])
            settle = "" if not r.get("faults") else (f"{r['settle_s']} s" if r.get("settle_s") is not None else f"NOT within {r.get('settle_bound_s')} s")
            out.append(f"| #{i} | {faults} | {settle} | {accepted_text(r.get('accepted')) or 'not recorded'} |")
    faulted = [(i, r) for i, r in runs if r.get("faults")]
    if faulted:
        out += ["", "| run | availability during the fault (reported) | correctness after settling (judged) |", "|---|---|---|"]
        for i, r in faulted:
            availability, correctness = fault_split(r)
            out.append(f"| #{i} | {availability_text(availability)} | {correctness_text(correctness)} |")
    steps = measured_steps(runs)
    if steps:
        out += ["", "| step: p95 ms (p99 ms) | " + " | ".join(f"#{i}" for i, _ in runs) + " |", "|---|" + "---|" * len(runs)]
        for step in steps:
            cells = []
            for _, r in runs:
                s = r.get("steps", {}).get(step)
                cells.append(f"{s['p95_ms']} ({s['p99_ms']})" if s else "")
            out.append(f"| {step} | " + " | ".join(cells) + " |")
    counters = sorted({c for _, r in runs for c in {**(r.get("counters") or {}), **(r.get("gauges") or {})}})
    if counters:
        out += ["", "| counter | " + " | ".join(f"#{i}" for i, _ in runs) + " |", "|---|" + "---|" * len(runs)]
        for c in counters:
            out.append(f"| {c} | " + " | ".join(str({**(r.get("counters") or {}), **(r.get("gauges") or {})}.get(c, "")) for _, r in runs) + " |")
    crossed = [(i, t) for i, r in runs for t in r.get("thresholds_failed") or []]
    if crossed:
        out += ["", "Thresholds crossed:"] + [f"- #{i}: `{t}`" for i, t in crossed]
    return "\n".join(out) + "\n" + cost.markdown(runs) + timing.markdown(runs)


def threshold_lines(runs, metric_prefix="http_req_duration"):
    """The SLA line, plus the latency thresholds the runs' scripts declared (e.g. p(95)<50, p(99)<100)."""
    lines = {SLA_MS: f"SLA {SLA_MS} ms"}
    for _, r in runs:
        for key in (r.get("thresholds") or {}) or {t: True for t in r.get("thresholds_failed") or []}:
            metric, _, expr = key.partition(": ")
            m = re.match(r"p\((\d+(?:\.\d+)?)\)<(\d+(?:\.\d+)?)$", expr.replace(" ", ""))
            if metric.startswith(metric_prefix) and m:
                value = float(m.group(2))
                lines.setdefault(value, f"threshold p{m.group(1)} < {value:g} ms")
    return sorted(lines.items())


def series_charts(runs, names):
    with_series = [(nm, r) for nm, (_, r) in zip(names, runs) if r.get("series")]
    if not with_series:
        return []
    note = "seconds from the run's first measured request; each point is one second of k6's http_req_duration"
    thresholds = threshold_lines(runs)
    charts = [
        line_chart("Latency over time: p95 per second, all measured steps", "seconds", "ms",
                   [(nm, r["series"]["t"], r["series"]["p95_ms"]) for nm, r in with_series], thresholds, note=note),
        line_chart("Throughput over time", "seconds", "requests/s",
                   [(nm, r["series"]["t"], r["series"]["requests"]) for nm, r in with_series]),
    ]
    if len(with_series) == 1:
        nm, r = with_series[0]
        steps = r["series"].get("p95_ms_by_step") or {}
        if steps:
            charts.append(line_chart(f"p95 per second by step ({nm})", "seconds", "ms",
                                     [(step, r["series"]["t"], v) for step, v in steps.items()], thresholds))
        if any(v for v in r["series"].get("vus") or []):
            charts.append(line_chart(f"Virtual users and HTTP errors per second ({nm})", "seconds", "count",
                                     [("VUs", r["series"]["t"], r["series"]["vus"]), ("HTTP errors", r["series"]["t"], r["series"]["failed"])]))
    return charts


def status_chart(runs, names):
    rows = []
    for step in measured_steps(runs):
        statuses = sorted({st for _, r in runs for st in ((r.get("steps") or {}).get(step) or {}).get("by_status", {})})
        rows += [(step, st) for st in statuses]
    if not rows:
        return ""
    cats = [f"{step} → {st}" for step, st in rows]
    series = []
    for nm, (_, r) in zip(names, runs):
        vals = []
        for step, st in rows:
            s = (((r.get("steps") or {}).get(step) or {}).get("by_status") or {}).get(st)
            vals.append(s["p95_ms"] if s else None)
        series.append((nm, vals))
    counts = {f"{step} → {st}": sum((((r.get('steps') or {}).get(step) or {}).get('by_status') or {}).get(st, {}).get('requests', 0) for _, r in runs) for step, st in rows}
    return bar_chart("Latency by HTTP status: p95 per step and status (e.g. 201 sold vs 409 sold out)", "ms", cats, series,
                     threshold_lines(runs), note="requests: " + ", ".join(f"{c} {n:,}" for c, n in counts.items()))


def trend_charts(runs):
    """Runs of one scenario over time (commits) as lines, one line per system, lock_type and VU count (runs at
    different loads are not one trend)."""
    groups = {}
    for i, r in runs:
        groups.setdefault((r.get("system", "ExBuy"), r["scenario"], r["lock_type"], r["vus"]), []).append((i, r))
    groups = {k: v for k, v in groups.items() if len(v) >= 2}
    if not groups or len({r.get("commit") for _, r in runs}) < 2:
        return []
    ordered = sorted({r["time"] for _, r in runs})
    position = {t: n for n, t in enumerate(ordered)}
    x_labels = {}
    for _, r in runs:
        x_labels[position[r["time"]]] = (r.get("commit") or r["time"][5:16])
    lines_p95, lines_rps = [], []
    for (system, scenario, lock, vus), members in sorted(groups.items()):
        members = sorted(members, key=lambda m: m[1]["time"])
        name = f"{system} {scenario} {lock} {vus} VUs"
        xs = [position[r["time"]] for _, r in members]
        lines_p95.append((name, xs, [r.get("p95_ms") for _, r in members]))
        lines_rps.append((name, xs, [r.get("req_per_s") for _, r in members]))
    note = "one point per run, oldest left; the x labels are the runs' commits"
    return [line_chart("Trend across commits: p95 latency", "commit (run order)", "ms", lines_p95, threshold_lines(runs), x_labels, note),
            line_chart("Trend across commits: throughput", "commit (run order)", "requests/s", lines_rps, None, x_labels, note)]


def scenario_charts(runs, names):
    scenarios = {r["scenario"] for _, r in runs}
    charts = []
    if scenarios == {"flash-sale"}:
        stock = [int((r.get("gauges") or {}).get("flash_sale_stock_initial") or (r.get("env") or {}).get("STOCK") or 100) for _, r in runs]
        sold = [(r.get("gauges") or {}).get("flash_sale_stock_sold", (r.get("counters") or {}).get("flash_sale_sold")) for _, r in runs]
        charts.append(bar_chart("Flash sale: units sold against the stock (exactly the stock may sell)", "units", names,
                                [("sold", sold), ("stock", stock)], note="sold from the teardown's read-back (or k6's flash_sale_sold); stock = STOCK"))
    if scenarios == {"coupon-rush"}:
        charts.append(bar_chart("Coupon rush: claims admitted and refused against the quantity", "claims", names,
                                [("admitted", [(r.get("counters") or {}).get("coupon_admitted") for _, r in runs]),
                                 ("refused", [(r.get("counters") or {}).get("coupon_refused") for _, r in runs]),
                                 ("quantity", [int((r.get("env") or {}).get("QUANTITY") or 50000) for _, r in runs])]))
    return charts


def steps_table(runs, thresholds):
    """p95 (p99) per step and run, red where a latency threshold or the SLA is crossed: readable for many runs,
    where grouped bars per step would be a wall of bars."""
    steps = measured_steps(runs)
    if not steps:
        return ""
    limit = min(v for v, _ in thresholds)
    head = "".join(f"<th>#{esc(i)}</th>" for i, _ in runs)
    rows = []
    for step in steps:
        cells = []
        for _, r in runs:
            s = (r.get("steps") or {}).get(step)
            if not s:
                cells.append("<td></td>")
                continue
            bad = (s.get("p95_ms") or 0) >= limit or (s.get("p99_ms") or 0) >= SLA_MS
            cells.append(f'<td class="{"bad" if bad else ""}">{s["p95_ms"]} <span class="small">({s["p99_ms"]})</span></td>')
        rows.append(f'<tr><th class="left">{esc(step)}</th>{"".join(cells)}</tr>')
    return (f'<h2>Per step: p95 ms (p99 ms)</h2><div class="wrap"><table><tr><th class="left">step</th>{head}</tr>{"".join(rows)}</table></div>'
            f'<p class="small">Red: p95 at or over {limit:g} ms (the lowest latency threshold of these runs) or p99 at or over the {SLA_MS} ms SLA.</p>')


def thresholds_table(runs):
    keys = sorted({k for _, r in runs for k in (r.get("thresholds") or {})} | {k for _, r in runs for k in r.get("thresholds_failed") or []})
    if not keys:
        return ""
    head = "".join(f"<th>#{esc(i)}</th>" for i, _ in runs)
    rows = []
    for k in keys:
        cells = []
        for _, r in runs:
            if k in (r.get("thresholds_failed") or []):
                cells.append('<td class="bad">crossed</td>')
            elif k in (r.get("thresholds") or {}):
                cells.append('<td class="ok">met</td>')
            else:
                cells.append("<td></td>")
        rows.append(f"<tr><th class=\"left\"><code>{esc(k)}</code></th>{''.join(cells)}</tr>")
    return f"<h2>Thresholds</h2><div class=\"wrap\"><table><tr><th class=\"left\">k6 threshold</th>{head}</tr>{''.join(rows)}</table></div>" \
           "<p class=\"small\">Runs recorded before the runner kept every threshold list only the crossed ones.</p>"


MARK = {PASS: "PASS", FAIL: "FAIL", NOT_VERIFIED: "NOT VERIFIED", UNSAFE: "UNSAFE"}


def verdict_cards(runs):
    cards = []
    for i, r in runs:
        status, problems, notes = judge(r)
        ok = status == PASS
        own = scenario_result(r)
        lead = own[1] if own else (f"{r['req_per_s']} req/s, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms" if r.get("requests") or r.get("p95_ms") is not None
                                   else "no request was measured")
        detail = {PASS: "all checks passed, audit clean, k6 exit 0", FAIL: "; ".join(problems),
                  NOT_VERIFIED: "nothing failed, but " + "; ".join(notes),
                  UNSAFE: "lock_type=none oversells by design: unsafe, as expected" + (f" — {'; '.join(notes)}" if notes else "")}[status]
        if r.get("capacity"):
            lead, detail = capacity.lead(r), f"{detail}; {capacity.tail(r)}"
        if r.get("faults"):
            lead = ("faults: " + ", ".join(f"{f['kind']} at {f['at_s']} s (took {f.get('took_s')} s"
                                           + (f"; {landing_text(r, f)}" if landing_text(r, f) else "") + ")" for f in r["faults"])
                    + (f"; settled with a clean audit in {r['settle_s']} s" if ok else "") + " — " + lead)
            availability, correctness = fault_split(r)
            detail = (f"availability during the fault: {availability_text(availability)} — correctness after settling: "
                      f"{correctness_text(correctness)}" + ("" if ok else f" — {status}: " + "; ".join(problems + notes)))
        if r.get("accepted"):
            detail += " — accepted answers: " + accepted_text(r["accepted"])
        if r.get("thresholds_failed") and not r.get("faults"):
            detail += " — " + thresholds_text(r)
        css = verdict_class(r)
        cards.append(f'<div class="card {css}"><div class="mark">{MARK[status]}</div>'
                     f'<div><div class="who">#{esc(i)} · {esc(r.get("system", "ExBuy"))} · {esc(r["scenario"])} · {esc(r["lock_type"])} · {r["vus"]} VUs'
                     f'{" · " + esc(r["label"]) if r.get("label") else ""}</div>'
                     f'<div class="lead">{esc(lead)}</div><div class="why">{esc(detail)}</div></div></div>')
    return "".join(cards)


def outcomes_table(runs):
    """Every answer on a writing route classified by its request id, per run and kind (accepted.outcomes)."""
    rows = []
    columns = ("stored_once", "unchanged", "lost", "twice", "lied", "refused", "no_answer_stored", "no_answer_not_stored")
    for i, r in runs:
        o = (r.get("accepted") or {}).get("outcomes") or {}
        for kind, k in sorted((o.get("kinds") or {}).items()):
            bad = {"lost", "twice", "lied"}
            cells = "".join(f"<td class=\"{'bad' if c in bad and k.get(c) else ''}\">{k.get(c, 0):,}</td>" for c in columns)
            rows.append(f"<tr><td>#{esc(i)}</td><td class=\"left\">{esc(kind)}</td><td>{k.get('requests', 0):,}</td>{cells}</tr>")
            examples = "; ".join(f"{name.replace('_', ' ')}: {' '.join(ids)}" for name, ids in (k.get("examples") or {}).items() if ids)
            if examples:
                rows.append(f"<tr><td></td><td colspan=\"{len(columns) + 2}\" class=\"left small\">e.g. {esc(examples)}</td></tr>")
        for kind, k in sorted((o.get("unverified") or {}).items()):
            rows.append(f"<tr><td>#{esc(i)}</td><td class=\"left\">{esc(kind)}</td><td>{k.get('requests', 0):,}</td>"
                        f"<td colspan=\"{len(columns)}\" class=\"left\">not verified: {esc(o.get('reason') or '')} "
                        f"({k.get('ok', 0):,} 2xx, {k.get('failed', 0):,} failed, {k.get('no_answer', 0):,} no answer)</td></tr>")
    if not rows:
        return ""
    return ("<h2>Unknown outcomes, by request id</h2><div class=\"wrap\"><table><tr><th>run</th><th class=\"left\">kind</th><th>requests</th>"
            + "".join(f"<th style=\"white-space: normal\">{h}</th>" for h in (  # headers that wrap: the table fits the page
                "accepted, stored once", "accepted, unchanged", "accepted, missing", "stored twice", "answered failure, stored",
                "answered failure, not stored", "no answer, stored", "no answer, not stored")) + "</tr>"
            + "".join(rows) + "</table></div><p class=\"small\">Every write a suite sent carried an X-Request-Id the server stores with what it "
            "commits; after the run each request is looked up by it. Accepted and missing, stored twice, and <b>answered as a failure but "
            "stored</b> (the answer lied: a client that retries writes twice) fail the run; a request with no answer (status 0) may or may "
            "not have been stored: counted. \"Unchanged\": a cancel of an order already cancelled, which stores nothing.</p>")


def accepted_table(runs):
    """Every accepted answer against the database, per run and kind (perf/runner/accepted.py)."""
    rows = []
    for i, r in runs:
        a = r.get("accepted") or {}
        for kind, k in sorted((a.get("kinds") or {}).items()):
            if not a.get("verified"):
                rows.append(f"<tr><td>#{esc(i)}</td><td class=\"left\">{esc(kind)}</td><td>{k.get('accepted', 0):,}</td>"
                            f"<td colspan=\"5\" class=\"left\">not checked: {esc(a.get('reason') or '')}</td></tr>")
                continue
            bad = k.get("missing") or k.get("duplicated")
            rows.append(f"<tr><td>#{esc(i)}</td><td class=\"left\">{esc(kind)}</td><td>{k['accepted']:,}</td><td>{k['verified']:,}</td>"
                        f"<td class=\"{'bad' if k.get('missing') else ''}\">{k.get('missing', 0):,}</td><td class=\"{'bad' if k.get('duplicated') else ''}\">{k.get('duplicated', 0):,}</td>"
                        f"<td>{k['stored']:,}</td><td>{k.get('stored_not_answered', 0):,}</td></tr>" + (
                            f"<tr><td></td><td colspan=\"7\" class=\"left bad\">lost, e.g. {esc(' '.join(k.get('examples') or []))}</td></tr>" if bad else ""))
    if not rows:
        return ""
    return ("<h2>Accepted answers against the database</h2><div class=\"wrap\"><table><tr><th>run</th><th class=\"left\">kind</th><th>accepted (201)</th>"
            "<th>found exactly once</th><th>missing</th><th>stored twice</th><th>stored during the run</th><th>stored, answer lost</th></tr>"
            + "".join(rows) + "</table></div><p class=\"small\">Every 201 a suite was told (flash-sale purchase, order, paid order with its one debit, "
            "coupon claim with its one coupon) looked up in PostgreSQL after the run settled; a missing or duplicated one fails the run. "
            "\"Stored, answer lost\": written during the run, but no client saw its 201 (a killed API, a timeout): allowed.</p>")


def html_report(runs, title):
    names = [label(i, r, long=len({r["scenario"] for _, r in runs}) > 1) for i, r in runs]
    steps = measured_steps(runs)
    step = lambda r, s, k: ((r.get("steps") or {}).get(s) or {}).get(k)
    thresholds = threshold_lines(runs)
    charts = scenario_charts(runs, names) + series_charts(runs, names) + [
        bar_chart("Latency percentiles, all measured steps", "ms", names,
                  [("p50", [r["p50_ms"] for _, r in runs]), ("p95", [r["p95_ms"] for _, r in runs]), ("p99", [r["p99_ms"] for _, r in runs])], thresholds),
        bar_chart("Throughput", "requests/s", names, [("req/s", [r["req_per_s"] for _, r in runs])]),
    ]
    if steps and len(runs) <= 4:
        charts.append(bar_chart("p95 per step", "ms", steps, [(nm, [step(r, s, "p95_ms") for s in steps]) for nm, (_, r) in zip(names, runs)], thresholds))
        charts.append(bar_chart("p99 per step", "ms", steps, [(nm, [step(r, s, "p99_ms") for s in steps]) for nm, (_, r) in zip(names, runs)], thresholds))
        charts.append(status_chart(runs, names))
        charts.append(bar_chart("Throughput per step", "requests/s", steps, [(nm, [step(r, s, "req_per_s") for s in steps]) for nm, (_, r) in zip(names, runs)]))
        failing = [s for s in steps if any(step(r, s, "failed") for _, r in runs)]
        if failing:
            charts.append(bar_chart("Failed requests (HTTP errors) in the steps that had any", "requests", failing,
                                    [(nm, [step(r, s, "failed") for s in failing]) for nm, (_, r) in zip(names, runs)],
                                    note=f"no HTTP error in the other {len(steps) - len(failing)} steps" if len(failing) < len(steps) else None))
        else:
            charts.append('<p class="small">No HTTP errors in any step of these runs (no chart of failed requests per step).</p>')
    charts += trend_charts(runs)
    who = "".join(
        f"<tr><td>#{esc(i)}</td><td class=\"left\">{esc(r.get('system', 'ExBuy'))}</td><td class=\"left\">{esc(r.get('label') or '')}</td>"
        f"<td class=\"left\">{esc(r['scenario'])}</td><td class=\"left\">{esc(r['lock_type'])}</td><td>{r['vus']}</td><td>{esc(duration_of(r))}</td><td>{esc(r.get('commit') or '')}</td><td>{esc(r['time'][:16].replace('T', ' '))}</td></tr>"
        for i, r in runs)
    results = "".join(
        f"<tr class=\"{verdict_class(r)}\"><td>#{esc(i)}</td><td>{blank(r['req_per_s'])}</td><td>{blank(r['p50_ms'])}</td><td>{blank(r['p95_ms'])}</td>"
        f"<td>{blank(r['p99_ms'])}</td><td>{blank(r['error_rate'])}</td><td>{r.get('api_rss_mb_max') or ''}</td><td>{r.get('k6_exit')}</td><td class=\"left\">{esc(verdict_text(r))}</td></tr>"
        for i, r in runs)
    details = "".join(
        f"<details><summary>#{esc(i)}: machine, command, environment, counters</summary><pre>"
        + esc(json.dumps({k: r.get(k) for k in ("run_id", "machine", "base_url", "command", "env", "counters", "gauges", "checks", "by_status", "k6_exit")}, indent=2))
        + "</pre></details>" for i, r in runs)
    systems = sorted({r.get("system", "ExBuy") for _, r in runs})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 960px; padding: 0 16px; color: #222; }}
h1 {{ font-size: 22px; margin-bottom: 4px; }} h2 {{ font-size: 17px; margin: 28px 0 6px; }}
.wrap {{ overflow-x: auto; }} table {{ border-collapse: collapse; margin: 8px 0 16px; }}
td, th {{ border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }} th {{ background: #f4f4f4; }}
.left {{ text-align: left; white-space: normal; overflow-wrap: anywhere; }} tr.bad td:last-child, td.bad {{ color: #b00020; font-weight: 600; }} tr.ok td:last-child, td.ok {{ color: #2e7d32; }}
.card {{ display: flex; gap: 14px; align-items: center; border: 1px solid #ddd; border-left: 8px solid; border-radius: 4px; padding: 8px 12px; margin: 8px 0; }}
.card.ok {{ border-left-color: #2e7d32; }} .card.bad {{ border-left-color: #c62828; }} .card.warn {{ border-left-color: #b26a00; }}
.card.warn .mark {{ color: #b26a00; font-size: 13px; }} tr.warn td:last-child {{ color: #b26a00; font-weight: 600; }}
.card .mark {{ font: 700 16px system-ui, sans-serif; width: 64px; flex: none; }} .card.ok .mark {{ color: #2e7d32; }} .card.bad .mark {{ color: #c62828; }}
.card .who {{ color: #555; font-size: 12px; }} .card .lead {{ font-size: 16px; font-weight: 600; }} .card .why {{ font-size: 13px; }}
.small {{ color: #666; font-size: 12px; }} pre {{ background: #f7f7f7; padding: 8px; overflow-x: auto; }}
{STYLE}
</style></head><body>
<h1>{esc(title)}</h1>
<p class="small">{len(runs)} run(s) of {esc(", ".join(systems))}. #r<i>N</i> = line <i>N</i> of perf/results/reference.jsonl (the project's measurements),
#<i>N</i> = line <i>N</i> of your perf/results/history.jsonl. Latencies are k6's http_req_duration of the measured steps (set-up and audit
excluded). Verdict = k6's exit code, checks, the audit, the thresholds (named by kind) and the answers checked in PostgreSQL: pass, fail,
not verified (the answers could not be checked) or, for lock_type=none, unsafe as expected; a fault run is judged on correctness after
settling, its availability during the fault is reported; the dashed red lines are the {SLA_MS} ms SLA and the scripts' own thresholds.</p>
<h2>Verdict</h2>
{verdict_cards(runs)}
<h2>Runs</h2>
<div class="wrap"><table><tr><th>run</th><th class="left">system</th><th class="left">label</th><th class="left">scenario</th><th class="left">lock_type</th><th>VUs</th><th>shape / duration</th><th>commit</th><th>time (UTC)</th></tr>{who}</table></div>
{accepted_table(runs)}
{outcomes_table(runs)}
<div class="wrap"><table><tr><th>run</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>error rate</th><th>API RSS MB</th><th>k6 exit</th><th class="left">verdict</th></tr>{results}</table></div>
{capacity.html(runs, names)}
{''.join(c for c in charts if c)}
{cost.html(runs, names)}
{steps_table(runs, thresholds)}
{timing.html(runs)}
{thresholds_table(runs)}
<h2>Details</h2>
{details}
</body></html>
"""
