#!/usr/bin/env python3
"""Turns one k6 run (its --out json point stream and --summary-export) into a history line and a short table.

usage: summarize.py POINTS.json --scenario S --lock-type T --vus N --duration D --base-url U --audit AUDIT.json
                    --k6-exit CODE --history HISTORY.jsonl [--summary SUMMARY.json] [--rss RSS.kb]
                    [--system NAME] [--label TEXT] [--shape NAME] [--run-id ID] [--env KEY=VALUE ...] [--accepted ACCEPTED.json]

perf.py (./exbuy perf) calls summarize() directly; this command line is the same thing for a run made by hand.
SUMMARY.json is k6's --summary-export (thresholds, VUs, the scenario's own counters and gauges); RSS.kb holds the
API's resident memory in kB, one sample a second. The point stream itself is not kept: what the reports need of it
(the per-second series, latency by status) is aggregated into the history line.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
from collections import defaultdict

from accepted import not_verified as accepted_not_verified, problems as accepted_problems, summary_text as accepted_text

# Set-up and teardown requests (init, audit, stock checks, clean-up) are reported per
# step but kept out of a run's totals; the reports chart the same measured steps.
NOT_MEASURED = ("0_setup", "99_", "9_audit")
# A check the suite tags {exbuy_check: "consistency"} (k6's check(value, sets, tags)) is a correctness check: it must
# hold once the system settled, in a fault run too (the suite's teardown waits for it, bounded by SETTLE_SECONDS). The
# other checks are the in-flight ones (each answer's status), which may fail while a fault lasts.
CONSISTENCY_TAG = ("exbuy_check", "consistency")
# Lines recorded before the suites tagged them: their consistency checks by name.
CONSISTENCY_BEFORE_TAGS = ("queue settled", "coupons consistent", "never more than the quantity", "every admitted claim became a coupon",
                           "stock consistent", "nothing oversold")
# The only metrics read from the stream; a cheap substring test skips the other lines without parsing them.
WANTED = ('"http_req_duration"', '"http_req_failed"', '"checks"', '"vus"', '"server_timing"')


def is_measured(step):
    return not step.startswith(NOT_MEASURED)


def percentile(values, p, ordered=False):
    if not values:
        return None
    ordered = values if ordered else sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return round(ordered[index], 2)


def percentiles(values):
    ordered = sorted(values)
    return {"p50_ms": percentile(ordered, 50, True), "p95_ms": percentile(ordered, 95, True), "p99_ms": percentile(ordered, 99, True)}


def machine():
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    return {"host": platform.node(), "cpus": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "os": platform.platform()}


def git_commit():
    # An API built from another commit than this checkout (an A/B of two builds against the same servers) says so.
    if os.environ.get("EXBUY_API_COMMIT"):
        return os.environ["EXBUY_API_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


BUILTIN = ("checks", "data_", "http_", "iteration", "vus", "group_duration")


def flat_metric(m):
    """One metric of --summary-export in the format k6 has always written ({"p(95)": 12, "thresholds": {"p(95)<50":
    false}}, a rate as "value"). k6 >= 2.1 given --new-machine-readable-summary (K6_NEW_MACHINE_READABLE_SUMMARY) writes
    handleSummary's shape instead ({"values": {...}, "thresholds": {"p(95)<50": {"ok": true}}}): read as the same."""
    if not isinstance(m.get("values"), dict):
        return m
    flat = dict(m["values"])
    if "rate" in flat and m.get("type") == "rate":
        flat["value"] = flat.pop("rate")
    flat["thresholds"] = {expr: (not t.get("ok", True)) if isinstance(t, dict) else bool(t) for expr, t in (m.get("thresholds") or {}).items()}
    return flat


def read_summary(path):
    """From k6's --summary-export: every threshold with whether it was crossed, the scenario's own counters and
    gauges (units sold, coupons admitted, the flash sale's stock read back), and the most VUs k6 ran."""
    empty = {"thresholds": {}, "counters": {}, "gauges": {}, "vus_max": None, "iterations": None, "dropped_iterations": None}
    if not path or not os.path.exists(path):
        return empty
    try:
        with open(path) as f:
            metrics = json.load(f).get("metrics", {})
    except (OSError, json.JSONDecodeError):
        return empty
    metrics = {name: flat_metric(m) for name, m in metrics.items()}
    thresholds = {f"{name}: {expr}": bool(failed) for name, m in sorted(metrics.items()) for expr, failed in (m.get("thresholds") or {}).items()}
    own = {name: m for name, m in sorted(metrics.items()) if "{" not in name and not name.startswith(BUILTIN)}
    counters = {name: m["count"] for name, m in own.items() if "count" in m}
    gauges = {name: m["value"] for name, m in own.items() if "value" in m and "passes" not in m and "count" not in m and "avg" not in m}
    vus_max = metrics.get("vus_max") or {}
    vus = vus_max.get("max", vus_max.get("value"))
    iterations = (metrics.get("iterations") or {}).get("count")
    # An arrival-rate executor's iterations that found no free VU (k6 reports the metric only when some were dropped).
    dropped = (metrics.get("dropped_iterations") or {}).get("count")
    return {"thresholds": thresholds, "counters": counters, "gauges": gauges, "vus_max": int(vus) if vus else None,
            "iterations": int(iterations) if iterations is not None else None, "dropped_iterations": int(dropped or 0)}


def read_rss(path):
    """The highest resident memory sample, in MB."""
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        samples = [int(line) for line in f if line.strip().isdigit()]
    return round(max(samples) / 1024, 1) if samples else None


FRACTION = re.compile(r"^([^.]+)\.(\d+)(.*)$")


def parse_time(stamp):
    # k6 writes nanoseconds ("2026-11-23T10:00:00.123456789+01:00"); Python reads at most microseconds.
    match = FRACTION.match(stamp)
    if match:
        stamp = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
    parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def read_points(path):
    """One pass over k6's JSON point stream: durations per step, status and second; failures; checks by name; VUs.
    Seconds are bucketed by wall clock and counted from the first measured request."""
    durations = defaultdict(list)            # step -> [ms]
    by_status = defaultdict(lambda: defaultdict(list))  # step -> status -> [ms]
    per_second = defaultdict(list)           # epoch second -> [ms] (measured steps)
    per_second_step = defaultdict(lambda: defaultdict(list))
    failed = defaultdict(int)
    failed_per_second = defaultdict(int)
    created_per_second = defaultdict(int)    # answers 201 (units sold, orders, claims admitted) of the measured steps
    vus = {}
    checks = defaultdict(lambda: {"passed": 0, "failed": 0})
    consistency = set()                      # checks the suite tagged exbuy_check=consistency (CONSISTENCY_TAG)
    timing = defaultdict(lambda: defaultdict(list))  # step -> phase -> [ms] (the Server-Timing header, lib/timing.js)
    timing_by_rt = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))  # step -> rt bucket -> phase -> ms summed
    first = last = None
    with open(path) as stream:
        for line in stream:
            if not any(w in line for w in WANTED):
                continue
            point = json.loads(line)
            if point.get("type") != "Point":
                continue
            metric, data = point["metric"], point["data"]
            tags = data.get("tags") or {}
            name = tags.get("name", "?")
            if metric == "checks":
                checks[tags.get("check", "?")]["passed" if data["value"] else "failed"] += 1
                if tags.get(CONSISTENCY_TAG[0]) == CONSISTENCY_TAG[1]:
                    consistency.add(tags.get("check", "?"))
                continue
            if metric == "server_timing":
                phase = tags.get("phase", "?")
                timing[name][phase].append(data["value"])
                try:
                    sums = timing_by_rt[name][int(tags.get("rt", "-99"))]
                except ValueError:
                    continue
                sums[phase] += data["value"]
                if phase == "total":
                    sums[REQUESTS] += 1
                continue
            stamp = parse_time(data["time"])
            second = int(stamp.timestamp())
            if metric == "http_req_duration":
                value = data["value"]
                durations[name].append(value)
                by_status[name][str(tags.get("status", "?"))].append(value)
                if is_measured(name):
                    first = stamp if first is None or stamp < first else first
                    last = stamp if last is None or stamp > last else last
                    per_second[second].append(value)
                    per_second_step[name][second].append(value)
                    if str(tags.get("status")) == "201":
                        created_per_second[second] += 1
            elif metric == "http_req_failed" and data["value"] and is_measured(name):
                failed[name] += 1
                failed_per_second[second] += 1
            elif metric == "http_req_failed" and data["value"]:
                failed[name] += 1
            elif metric == "vus":
                vus[second] = max(vus.get(second, 0), int(data["value"]))
    start = int(first.timestamp()) if first else None

    def shift(by_second):
        return {s - start: v for s, v in by_second.items() if start is not None and s >= start}

    return {"durations": durations, "by_status": by_status, "per_second": shift(per_second),
            "per_second_step": {step: shift(per) for step, per in per_second_step.items()},
            "failed": failed, "failed_per_second": shift(failed_per_second), "created_per_second": shift(created_per_second),
            "vus": shift(vus), "checks": checks, "consistency": sorted(consistency), "first": first, "last": last, "start": start,
            "timing": timing, "timing_by_rt": timing_by_rt}


REQUESTS = "#requests"  # the count of answers per rt bucket, beside the phases' sums


def rt_bucket(ms):
    """lib/timing.js's rtBucket: the half-octave a duration falls in, floor(2·log2(ms))."""
    return math.floor(2 * math.log2(ms)) if ms > 0 else -99


def phase_breakdown(step_p95, phases, by_rt):
    """A step's Server-Timing phases: each phase's own p50 and p95 over the step's requests, and the step's tail
    (the requests whose duration is in or above the half-octave holding the step's p95) split by phase: the mean
    milliseconds of each phase over those requests. None when the step's answers carried no header."""
    if not phases or "total" not in phases:
        return None
    tail_from = rt_bucket(step_p95) if step_p95 else -99
    tail = defaultdict(float)
    for bucket, sums in by_rt.items():
        if bucket >= tail_from:
            for phase, ms in sums.items():
                tail[phase] += ms
    tail_requests = tail.pop(REQUESTS, 0)
    return {
        "phases": {phase: {"p50_ms": percentile(v, 50), "p95_ms": percentile(v, 95)} for phase, v in sorted(phases.items())},
        "tail_from_ms": round(2 ** (tail_from / 2), 2) if tail_from > -99 else None,
        "tail_requests": int(tail_requests),
        "tail": {phase: round(ms / tail_requests, 3) for phase, ms in sorted(tail.items())} if tail_requests else {},
    }


def series(points):
    """The run second by second (measured steps): requests, p50/p95/p99, HTTP errors, VUs, and p95 per step."""
    seconds = sorted(set(points["per_second"]) | set(points["vus"]))
    if not seconds:
        return None
    t = list(range(0, seconds[-1] + 1))
    stats = {s: percentiles(points["per_second"].get(s, [])) for s in t}
    return {
        "t": t,
        "requests": [len(points["per_second"].get(s, [])) for s in t],
        "p50_ms": [stats[s]["p50_ms"] for s in t],
        "p95_ms": [stats[s]["p95_ms"] for s in t],
        "p99_ms": [stats[s]["p99_ms"] for s in t],
        "failed": [points["failed_per_second"].get(s, 0) for s in t],
        # 201 answers per second and the wall-clock second t=0 is: when a fault landed against what was being sold
        "created": [points["created_per_second"].get(s, 0) for s in t],
        "start_epoch": points["start"],
        "vus": [points["vus"].get(s) for s in t],
        "p95_ms_by_step": {step: [percentile(per.get(s, []), 95) for s in t] for step, per in sorted(points["per_second_step"].items())},
    }


def summarize(points_path, scenario, lock_type, vus, duration, base_url, audit_path, k6_exit, summary_path=None, rss_path=None,
              env=None, system="ExBuy", label=None, shape=None, run_id=None, command=None):
    """The history line of one run."""
    points = read_points(points_path)
    durations, failed = points["durations"], points["failed"]
    first, last = points["first"], points["last"]
    elapsed = (last - first).total_seconds() if first and last and first != last else None
    measured = {name: values for name, values in durations.items() if is_measured(name)}
    total = sum(len(v) for v in measured.values())
    everything = [v for values in measured.values() for v in values]
    audit = None
    if audit_path and os.path.exists(audit_path):
        with open(audit_path) as f:
            try:
                audit = json.load(f)
            except json.JSONDecodeError:
                audit = {"ok": False, "violations": ["the audit answered no JSON"]}
    # The suite's own teardown audit (a script may clean up after it, e.g. lock_type=none's oversold product).
    teardown_audit_failed = points["checks"].get("audit ok", {}).get("failed", 0) > 0

    steps = {}
    for name, values in sorted(durations.items()):
        steps[name] = dict(requests=len(values), req_per_s=round(len(values) / elapsed, 1) if elapsed and is_measured(name) else None,
                           **percentiles(values), failed=failed.get(name, 0),
                           by_status={status: dict(requests=len(v), **percentiles(v)) for status, v in sorted(points["by_status"][name].items())})
        breakdown = phase_breakdown(steps[name]["p95_ms"], points["timing"].get(name), points["timing_by_rt"].get(name, {}))
        if breakdown:
            steps[name]["server_timing"] = breakdown
    overall_status = defaultdict(list)
    for name in measured:
        for status, values in points["by_status"][name].items():
            overall_status[status].extend(values)
    summary = read_summary(summary_path)
    checks_failed = sum(c["failed"] for c in points["checks"].values())
    checks_passed = sum(c["passed"] for c in points["checks"].values())
    line = {
        "run_id": run_id,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "system": system,
        "label": label,
        "scenario": scenario,
        "lock_type": lock_type,
        # What k6 ran (its vus_max), not only what was asked for.
        "vus": summary["vus_max"] or int(vus),
        "vus_requested": int(vus),
        "shape": shape,
        "duration": duration,
        "base_url": base_url,
        "machine": machine(),
        "commit": git_commit(),
        "requests": total,
        "req_per_s": round(total / elapsed, 1) if elapsed else None,
        # The measured window (first to last measured request): the CPU cost (cost.py) is taken over it.
        "measured_from": first.isoformat() if first else None,
        "measured_to": last.isoformat() if last else None,
        **percentiles(everything),
        "error_rate": round(sum(failed.get(name, 0) for name in measured) / total, 4) if total else None,
        "checks_failed": checks_failed,
        "checks_passed": checks_passed,
        "checks": {name: c for name, c in sorted(points["checks"].items())},
        # The checks that must hold once the system settled (the suites tag them; their teardowns wait for them).
        "consistency_checks": points["consistency"],
        "audit_ok": None if audit is None else bool(audit.get("ok")) and not teardown_audit_failed,
        "k6_exit": int(k6_exit),
        "thresholds": summary["thresholds"],
        "thresholds_failed": sorted(t for t, crossed in summary["thresholds"].items() if crossed),
        "counters": summary["counters"],
        "iterations": summary["iterations"],
        "dropped_iterations": summary["dropped_iterations"],
        "gauges": summary["gauges"],
        "api_rss_mb_max": read_rss(rss_path),
        "env": dict(kv.split("=", 1) for kv in (env or [])),
        "command": command,
        "by_status": {status: dict(requests=len(v), **percentiles(v)) for status, v in sorted(overall_status.items())},
        "steps": steps,
        "series": series(points),
    }
    if audit is None and teardown_audit_failed:
        line["audit_ok"] = False
    return line


def append(history, line):
    os.makedirs(os.path.dirname(os.path.abspath(history)), exist_ok=True)
    with open(history, "a") as f:
        f.write(json.dumps(line, separators=(",", ":")) + "\n")


def fmt(value):
    return "" if value is None else str(value)


def print_table(line, history, out=sys.stdout):
    measured_failed = sum(s["failed"] for n, s in line["steps"].items() if is_measured(n))
    print(f"\n{line['system']} {line['scenario']}  lock_type={line['lock_type']}  vus={line['vus']}  "
          f"{'shape=' + line['shape'] + '  ' if line.get('shape') else ''}duration={line['duration']}  commit={line['commit']}"
          + (f"  label={line['label']}" if line.get("label") else ""), file=out)
    print(f"{'step':<28}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'failed':>8}  statuses", file=out)
    for name, step in line["steps"].items():
        statuses = " ".join(f"{s}:{v['requests']}" for s, v in step.get("by_status", {}).items())
        print(f"{name:<28}{step['requests']:>10}{fmt(step['p50_ms']):>10}{fmt(step['p95_ms']):>10}{fmt(step['p99_ms']):>10}{step['failed']:>8}  {statuses}", file=out)
    print(f"{'all (measured steps)':<28}{line['requests']:>10}{fmt(line['p50_ms']):>10}{fmt(line['p95_ms']):>10}{fmt(line['p99_ms']):>10}{measured_failed:>8}", file=out)
    audit = {True: "ok", False: "VIOLATIONS", None: "not available"}[line["audit_ok"]]
    print(f"req/s {line['req_per_s']}  error rate {line['error_rate']}  checks failed {line['checks_failed']}  audit {audit}  k6 exit {line['k6_exit']}"
          + (f"  API RSS max {line['api_rss_mb_max']} MB" if line["api_rss_mb_max"] else ""), file=out)
    if line["counters"] or line["gauges"]:
        print("counters: " + ", ".join(f"{k} {v}" for k, v in {**line["counters"], **line["gauges"]}.items()), file=out)
    print("thresholds: " + ("all met" if not line["thresholds_failed"] else "CROSSED " + "; ".join(line["thresholds_failed"])), file=out)
    if line.get("accepted"):
        print("accepted: " + accepted_text(line["accepted"]), file=out)
    print(f"history: {history}" + (f"  (run {line['run_id']})" if line.get("run_id") else ""), file=out)


def fault_landing(line):
    """Where each fault landed in the run: the measured second it began (t_s) and how many 201 answers (units sold,
    orders, claims admitted) came before and after it. Needs the fault's wall-clock start (at_epoch) and the series'
    start; sets t_s, accepted_before and accepted_after on each fault. A flash sale's fault proves something about
    selling only when units were sold after it began (accepted_after > 0): the sale was still on."""
    series = line.get("series") or {}
    start, created = series.get("start_epoch"), series.get("created")
    for f in line.get("faults") or []:
        if start is None or created is None or f.get("at_epoch") is None:
            continue
        t = int(f["at_epoch"]) - start
        f["t_s"] = t
        f["accepted_before"] = sum(n for s, n in zip(series["t"], created) if s < t)
        f["accepted_after"] = sum(n for s, n in zip(series["t"], created) if s >= t)
    return line.get("faults")


def landing_text(line, f):
    """How a fault's timing reads in the reports, e.g. "during the sale (812 sold before it, 2,188 after)"."""
    if f.get("accepted_after") is None:
        return ""
    before, after = f["accepted_before"], f["accepted_after"]
    if line.get("scenario") == "flash-sale":
        if after:
            return f"landed at t={f['t_s']} s while units were still being sold ({before:,} sold before it, {after:,} after)"
        return f"landed at t={f['t_s']} s AFTER the last unit was sold ({before:,} sold before it): recovery only, not a sale cut by the fault"
    return f"landed at t={f['t_s']} s ({before:,} answers 201 before it, {after:,} after)"


def consistency_checks(line):
    """{name: counts} of the run's consistency checks (CONSISTENCY_TAG; by name for lines recorded before the tag)."""
    checks = line.get("checks") or {}
    names = line.get("consistency_checks")
    if names is None:
        names = [n for n in checks if n.startswith(CONSISTENCY_BEFORE_TAGS)]
    return {n: checks.get(n) or {"passed": 0, "failed": 0} for n in names}


def threshold_kind(threshold):
    """What a k6 threshold ("metric{tags}: expression") is about: latency (http_req_duration and the other timings, a
    Trend of a step's time), checks (the checks rate), errors (http_req_failed) or counter (the scenario's own metric:
    units sold, coupons admitted — a correctness bound)."""
    metric = re.split(r"[{:]", threshold, maxsplit=1)[0].strip()
    if metric == "checks":
        return "checks"
    if metric == "http_req_failed":
        return "errors"
    if metric.startswith("http_req_") or metric in ("iteration_duration", "group_duration") or metric.endswith(("_time", "_duration")):
        return "latency"
    return "counter"


THRESHOLD_KINDS = ("latency", "checks", "errors", "counter")


def crossed_by_kind(line):
    """{kind: [threshold, ...]} of the crossed thresholds, kinds in THRESHOLD_KINDS order."""
    out = {}
    for t in line.get("thresholds_failed") or []:
        out.setdefault(threshold_kind(t), []).append(t)
    return {k: out[k] for k in THRESHOLD_KINDS if k in out}


def thresholds_text(line):
    """e.g. "thresholds crossed: latency (http_req_duration{name:1_purchase}: p(99)<100); counter (flash_sale_sold: count==100)"."""
    crossed = crossed_by_kind(line)
    if not crossed:
        return ""
    return "thresholds crossed: " + "; ".join(f"{kind} ({', '.join(names)})" for kind, names in crossed.items())


def fault_split(line):
    """A fault run in two parts: availability during the fault (the in-flight checks and the thresholds, which may fail
    while a server is down: reported, not judged) and correctness after settling (the consistency checks, the audit
    after the settle wait, the answers checked against PostgreSQL: judged). Returns (availability, correctness), dicts
    the history line keeps and the reports print."""
    consistency = consistency_checks(line)
    in_flight = {n: c for n, c in (line.get("checks") or {}).items() if n not in consistency and n != "audit ok"}
    availability = {"checks_failed": sum(c.get("failed", 0) for c in in_flight.values()),
                    "checks": {n: c["failed"] for n, c in sorted(in_flight.items()) if c.get("failed")},
                    "thresholds_crossed": crossed_by_kind(line)}
    accepted = line.get("accepted")
    correctness = {"settled": line.get("settle_s") is not None, "audit_ok": line.get("audit_ok"),
                   "consistency_checks": {n: not c.get("failed") and c.get("passed", 0) > 0 for n, c in sorted(consistency.items())},
                   "accepted": "not recorded" if not accepted else (accepted_not_verified(accepted) or "verified"),
                   "accepted_problems": accepted_problems(accepted)}
    return availability, correctness


def availability_text(a):
    parts = [f"{a['checks_failed']:,} failed in-flight checks" + (f" ({', '.join(f'{n}: {c:,}' for n, c in a['checks'].items())})" if a["checks"] else "")]
    if a["thresholds_crossed"]:
        parts.append("thresholds crossed: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in a["thresholds_crossed"].items()))
    return ", ".join(parts)


def correctness_text(c):
    held = [n for n, ok in c["consistency_checks"].items() if ok]
    failed = [n for n, ok in c["consistency_checks"].items() if not ok]
    parts = ["settled" if c["settled"] else "NOT settled",
             {True: "audit clean", False: "audit VIOLATIONS", None: "no audit"}[c["audit_ok"]],
             (f"consistency checks FAILED: {', '.join(failed)}" if failed else
              f"consistency checks held ({len(held)})" if held else "no consistency checks"),
             "accepted answers verified" if c["accepted"] == "verified" else c["accepted"]]
    return ", ".join(parts + c["accepted_problems"])


def fault_problems(line):
    """What fails a run with --fault: it did not settle, a fault could not be injected, the audit is not clean, a
    consistency check of the suite failed after settling (its teardown waited for it, bounded), or an answer is not in
    the database as it was told (line["accepted"], perf/runner/accepted.py). In-flight requests may fail while a server
    is down (failed checks, crossed thresholds): a fault run must prove that the system came back by itself with
    nothing accepted lost and nothing answered wrongly. Answers not verified are not a problem found but not a pass
    either (report.judge)."""
    problems = []
    if line.get("settle_s") is None:
        problems.append(f"did not settle within {line.get('settle_bound_s')} s")
    for f in line.get("faults") or []:
        if f.get("not_injected"):
            problems.append(f"fault {f['kind']} not injected: {f['not_injected']}")
        elif f.get("exit") != 0:
            problems.append(f"fault {f['kind']} exited {f.get('exit')}")
    if line.get("audit_ok") is False:
        problems.append("audit VIOLATIONS")
    if not line.get("requests"):
        problems.append("no load was measured")
    if line.get("k6_exit") not in (0, 99, None):
        problems.append(f"k6 exit {line['k6_exit']}")  # a script error or a timeout: the run did not go through
    failed = [n for n, c in consistency_checks(line).items() if c.get("failed")]
    if failed:
        problems.append("consistency check failed after settling: " + ", ".join(failed))
    return problems + accepted_problems(line.get("accepted"))


def passed(line, system="ExBuy"):
    """The run's verdict is a pass (report.judge): see perf/README.md, "Verdicts"."""
    from report import judge  # report imports this module
    return judge(dict(line, system=line.get("system") or system))[0] == "pass"


def main():
    parser = argparse.ArgumentParser(description="Summarize one k6 run into a history line (perf.py does this for ./exbuy perf).")
    parser.add_argument("points", help="k6's --out json=FILE point stream")
    for flag in ("scenario", "lock-type", "vus", "duration", "base-url", "audit", "k6-exit", "history"):
        parser.add_argument(f"--{flag}", required=True)
    parser.add_argument("--summary", help="k6's --summary-export FILE")
    parser.add_argument("--rss", help="the API's resident memory in kB, one sample a line")
    parser.add_argument("--system", default="ExBuy")
    parser.add_argument("--label")
    parser.add_argument("--shape")
    parser.add_argument("--run-id")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--accepted", help="the accepted answers checked against the database: the JSON `accepted.py verify` printed")
    args = parser.parse_args()
    line = summarize(args.points, args.scenario, args.lock_type, args.vus, args.duration, args.base_url, args.audit, args.k6_exit,
                     args.summary, args.rss, args.env, args.system, args.label, args.shape, args.run_id)
    if args.accepted:
        with open(args.accepted) as f:
            line["accepted"] = json.load(f)
    append(args.history, line)
    print_table(line, args.history)
    # k6's own exit code is the caller's to act on (perf.py fails the run on it); here: checks, audit, accepted answers.
    return 0 if line["checks_failed"] == 0 and line["audit_ok"] is not False and not accepted_problems(line.get("accepted")) else 1


if __name__ == "__main__":
    sys.exit(main())
