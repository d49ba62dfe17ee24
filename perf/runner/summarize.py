#!/usr/bin/env python3
"""Turns one k6 run (its --out json stream) into a history line and a short table.

usage: summarize.py POINTS.json --scenario S --lock-type T --vus N --duration D --base-url U --audit AUDIT.json
                    --k6-exit CODE --history perf/results/history.jsonl [--summary SUMMARY.json] [--rss RSS.kb]
                    [--env KEY=VALUE ...]

SUMMARY.json is k6's --summary-export (thresholds and the scenario's own counters); RSS.kb holds the API's resident
memory in kB, one sample a second.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from collections import defaultdict

# Set-up and teardown requests (init, audit, stock checks, clean-up) are reported per
# step but kept out of a run's totals; compare.py charts the same measured steps.
NOT_MEASURED = ("0_setup", "99_", "9_audit")


def is_measured(step):
    return not step.startswith(NOT_MEASURED)


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return round(ordered[index], 2)


def machine():
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    return {"host": platform.node(), "cpus": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "os": platform.platform()}


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def read_summary(path):
    """Crossed thresholds ("metric: expression") and the scenario's own counters from k6's --summary-export."""
    if not path or not os.path.exists(path):
        return [], {}
    try:
        with open(path) as f:
            metrics = json.load(f).get("metrics", {})
    except (OSError, json.JSONDecodeError):
        return [], {}
    crossed = sorted(f"{name}: {expr}" for name, m in metrics.items() for expr, failed in (m.get("thresholds") or {}).items() if failed)
    builtin = ("checks", "data_", "http_", "iteration", "vus", "group_duration")
    counters = {name: m["count"] for name, m in sorted(metrics.items())
                if "count" in m and "{" not in name and not name.startswith(builtin)}
    return crossed, counters


def read_rss(path):
    """The highest resident memory sample, in MB."""
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        samples = [int(line) for line in f if line.strip().isdigit()]
    return round(max(samples) / 1024, 1) if samples else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("points")
    for flag in ("scenario", "lock-type", "vus", "duration", "base-url", "audit", "k6-exit", "history"):
        parser.add_argument(f"--{flag}", required=True)
    parser.add_argument("--summary")
    parser.add_argument("--rss")
    parser.add_argument("--env", action="append", default=[])
    args = parser.parse_args()

    durations = defaultdict(list)
    failed = defaultdict(int)
    checks_passed = checks_failed = 0
    # The suite's own teardown audit (a script may clean up after it, e.g. lock_type=none's oversold product).
    teardown_audit_failed = False
    first = last = None
    with open(args.points) as stream:
        for line in stream:
            point = json.loads(line)
            if point.get("type") != "Point":
                continue
            metric, data = point["metric"], point["data"]
            tags = data.get("tags") or {}
            name = tags.get("name", "?")
            if metric == "http_req_duration":
                durations[name].append(data["value"])
                stamp = data["time"]
                first = stamp if first is None or stamp < first else first
                last = stamp if last is None or stamp > last else last
            elif metric == "http_req_failed" and data["value"]:
                failed[name] += 1
            elif metric == "checks":
                if data["value"]:
                    checks_passed += 1
                else:
                    checks_failed += 1
                    if tags.get("check") == "audit ok":
                        teardown_audit_failed = True

    def parse(stamp):
        return datetime.datetime.fromisoformat(stamp[:26] + stamp[-6:] if "." in stamp else stamp)

    elapsed = (parse(last) - parse(first)).total_seconds() if first and last and first != last else None
    measured = {name: values for name, values in durations.items() if is_measured(name)}
    total = sum(len(v) for v in measured.values())
    everything = [v for values in measured.values() for v in values]
    with open(args.audit) as f:
        try:
            audit = json.load(f)
        except json.JSONDecodeError:
            audit = {"ok": False, "violations": ["the audit answered no JSON"]}

    steps = {
        name: {"requests": len(values), "req_per_s": round(len(values) / elapsed, 1) if elapsed and is_measured(name) else None,
               "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
               "p99_ms": percentile(values, 99), "failed": failed.get(name, 0)}
        for name, values in sorted(durations.items())
    }
    thresholds_failed, counters = read_summary(args.summary)
    rss = read_rss(args.rss)
    line = {
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "scenario": args.scenario,
        "lock_type": args.lock_type,
        "vus": int(args.vus),
        "duration": args.duration,
        "base_url": args.base_url,
        "machine": machine(),
        "commit": git_commit(),
        "requests": total,
        "req_per_s": round(total / elapsed, 1) if elapsed else None,
        "p50_ms": percentile(everything, 50),
        "p95_ms": percentile(everything, 95),
        "p99_ms": percentile(everything, 99),
        "error_rate": round(sum(failed.get(name, 0) for name in measured) / total, 4) if total else None,
        "checks_failed": checks_failed,
        "checks_passed": checks_passed,
        "audit_ok": bool(audit.get("ok")) and not teardown_audit_failed,
        "k6_exit": int(args.k6_exit),
        "thresholds_failed": thresholds_failed,
        "counters": counters,
        "api_rss_mb_max": rss,
        "env": dict(kv.split("=", 1) for kv in args.env),
        "steps": steps,
    }
    os.makedirs(os.path.dirname(args.history) or ".", exist_ok=True)
    with open(args.history, "a") as history:
        history.write(json.dumps(line) + "\n")

    print(f"\n{args.scenario}  lock_type={args.lock_type}  vus={args.vus}  duration={args.duration}  commit={line['commit']}")
    print(f"{'step':<28}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'failed':>8}")
    for name, step in steps.items():
        print(f"{name:<28}{step['requests']:>10}{step['p50_ms']:>10}{step['p95_ms']:>10}{step['p99_ms']:>10}{step['failed']:>8}")
    print(f"{'all (measured steps)':<28}{total:>10}{line['p50_ms']:>10}{line['p95_ms']:>10}{line['p99_ms']:>10}{sum(failed.get(n, 0) for n in measured):>8}")
    print(f"req/s {line['req_per_s']}  error rate {line['error_rate']}  checks failed {checks_failed}  audit {'ok' if line['audit_ok'] else 'VIOLATIONS'}"
          + (f"  API RSS max {rss} MB" if rss else ""))
    if counters:
        print("counters: " + ", ".join(f"{k} {v}" for k, v in counters.items()))
    print("thresholds: " + ("all met" if not thresholds_failed else "CROSSED " + "; ".join(thresholds_failed)))
    print(f"history: {args.history}")
    return 0 if checks_failed == 0 and line["audit_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
