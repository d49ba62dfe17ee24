#!/usr/bin/env python3
"""Markdown comparison of runs from perf/results/history.jsonl.

usage: compare.py HISTORY [--scenario S] [--lock-type T] [--commit C] [--last N]
Prints one row per run (newest last) with throughput, latency and verdicts, then each step's p95 side by side.
"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("history")
    parser.add_argument("--scenario")
    parser.add_argument("--lock-type")
    parser.add_argument("--commit")
    parser.add_argument("--last", type=int, default=10)
    args = parser.parse_args()

    runs = []
    with open(args.history) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    runs = [r for r in runs
            if (not args.scenario or r["scenario"] == args.scenario)
            and (not args.lock_type or r["lock_type"] == args.lock_type)
            and (not args.commit or (r.get("commit") or "").startswith(args.commit))][-args.last:]
    if not runs:
        print("no runs match", file=sys.stderr)
        return 1

    print("| # | time (UTC) | scenario | lock_type | VUs | duration | commit | req/s | p50 ms | p95 ms | p99 ms | errors | failed checks | audit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(runs, 1):
        print(f"| {i} | {r['time'][:19]} | {r['scenario']} | {r['lock_type']} | {r['vus']} | {r['duration']} | {r.get('commit')} | "
              f"{r['req_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['error_rate']} | {r['checks_failed']} | "
              f"{'ok' if r['audit_ok'] else 'VIOLATIONS'} |")

    steps = sorted({s for r in runs for s in r.get("steps", {}) if not s.startswith(("0_setup", "99_", "9_audit"))})
    print()
    print("| step (p95 ms) | " + " | ".join(f"#{i}" for i in range(1, len(runs) + 1)) + " |")
    print("|---|" + "---|" * len(runs))
    for step in steps:
        print(f"| {step} | " + " | ".join(str(r.get("steps", {}).get(step, {}).get("p95_ms", "")) for r in runs) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
