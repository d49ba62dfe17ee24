#!/usr/bin/env python3
"""Compares runs from perf/results/history.jsonl: a markdown summary (for pull requests) and a self-contained HTML
report with charts (latency percentiles, throughput, p95 and errors per step) that opens in any browser.

usage: compare.py HISTORY [--scenario S] [--lock-type T] [--commit C] [--runs 3,7] [--last N]
                          [--html REPORT.html] [--markdown REPORT.md] [--quiet]
--runs picks history lines by number (1 = the first line of the file); the other filters narrow the file and
--last keeps the newest N of what is left (10 by default).
"""
import argparse
import html
import json
import os
import sys

from summarize import is_measured
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


def load(path):
    with open(path) as f:
        return [(n, json.loads(line)) for n, line in enumerate(f, 1) if line.strip()]


def select(runs, args):
    if args.runs:
        wanted = [int(x) for x in args.runs.split(",") if x.strip()]
        by_line = dict(runs)
        missing = [n for n in wanted if n not in by_line]
        if missing:
            raise SystemExit(f"no history line {', '.join(map(str, missing))} (the file has {len(runs)})")
        return [(n, by_line[n]) for n in wanted]
    runs = [(n, r) for n, r in runs
            if (not args.scenario or r["scenario"] == args.scenario)
            and (not args.lock_type or r["lock_type"] == args.lock_type)
            and (not args.commit or (r.get("commit") or "").startswith(args.commit))]
    return runs[-args.last:]


def verdict(r):
    problems = []
    if not r.get("audit_ok"):
        problems.append("audit VIOLATIONS")
    if r.get("checks_failed"):
        problems.append(f"{r['checks_failed']} failed checks")
    if r.get("thresholds_failed"):
        problems.append(f"{len(r['thresholds_failed'])} thresholds crossed")
    return "ok" if not problems else ", ".join(problems)


def label(n, r):
    return f"#{n} {r['scenario']} {r['lock_type']} {r['vus']}VU {r.get('commit') or ''}".strip()


def measured_steps(runs):
    return sorted({s for _, r in runs for s in r.get("steps", {}) if is_measured(s)})


def markdown(runs):
    out = ["| run | time (UTC) | scenario | lock_type | VUs | duration | commit | req/s | p50 ms | p95 ms | p99 ms | errors | API RSS MB | verdict |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, r in runs:
        out.append(f"| #{n} | {r['time'][:19]} | {r['scenario']} | {r['lock_type']} | {r['vus']} | {r['duration']} | {r.get('commit')} | "
                   f"{r['req_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['error_rate']} | {r.get('api_rss_mb_max') or ''} | {verdict(r)} |")
    steps = measured_steps(runs)
    if steps:
        out += ["", "| step: p95 ms (p99 ms) | " + " | ".join(f"#{n}" for n, _ in runs) + " |", "|---|" + "---|" * len(runs)]
        for step in steps:
            cells = []
            for _, r in runs:
                s = r.get("steps", {}).get(step)
                cells.append(f"{s['p95_ms']} ({s['p99_ms']})" if s else "")
            out.append(f"| {step} | " + " | ".join(cells) + " |")
    counters = sorted({c for _, r in runs for c in (r.get("counters") or {})})
    if counters:
        out += ["", "| counter | " + " | ".join(f"#{n}" for n, _ in runs) + " |", "|---|" + "---|" * len(runs)]
        for c in counters:
            out.append(f"| {c} | " + " | ".join(str((r.get("counters") or {}).get(c, "")) for _, r in runs) + " |")
    crossed = [(n, t) for n, r in runs for t in r.get("thresholds_failed") or []]
    if crossed:
        out += ["", "Thresholds crossed:"] + [f"- #{n}: `{t}`" for n, t in crossed]
    return "\n".join(out) + "\n"


def bar_chart(title, unit, categories, series):
    """Horizontal grouped bars as inline SVG: one group per category, one bar per series (name, values)."""
    values = [v for _, vals in series for v in vals if isinstance(v, (int, float))]
    top = max(values) if values else 1
    top = top if top > 0 else 1
    bar, gap, label_w, chart_w = 14, 10, 230, 560
    group_h = bar * len(series) + gap
    legend_h = 20 * ((len(series) + 2) // 3)
    height = 40 + legend_h + group_h * len(categories) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + chart_w + 90}" height="{height}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="18" class="t">{html.escape(title)}</text>']
    for i, (name, _) in enumerate(series):
        x, y = (i % 3) * 290, 34 + (i // 3) * 20
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 16}" y="{y}" class="l">{html.escape(name[:40])}</text>')
    y0 = 40 + legend_h
    for c, category in enumerate(categories):
        gy = y0 + c * group_h
        parts.append(f'<text x="{label_w - 6}" y="{gy + group_h / 2}" text-anchor="end" class="l">{html.escape(category)}</text>')
        for i, (_, vals) in enumerate(series):
            v = vals[c]
            if not isinstance(v, (int, float)):
                continue
            w = max(1, chart_w * v / top)
            y = gy + i * bar
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{PALETTE[i % len(PALETTE)]}"><title>{html.escape(category)}: {v} {unit}</title></rect>'
                         f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 4}" class="v">{v}</text>')
    parts.append(f'<line x1="{label_w}" y1="{y0 - 4}" x2="{label_w}" y2="{height - 16}" stroke="#999"/>'
                 f'<text x="{label_w + chart_w}" y="{height - 2}" text-anchor="end" class="l">{unit} (max {round(top, 2)})</text></svg>')
    return "".join(parts)


def html_report(runs, title):
    names = [label(n, r) for n, r in runs]
    steps = measured_steps(runs)
    step = lambda r, s, k: (r.get("steps", {}).get(s) or {}).get(k)
    charts = [
        bar_chart("Latency percentiles, all measured steps", "ms", names,
                  [("p50", [r["p50_ms"] for _, r in runs]), ("p95", [r["p95_ms"] for _, r in runs]), ("p99", [r["p99_ms"] for _, r in runs])]),
        bar_chart("Throughput", "req/s", names, [("req/s", [r["req_per_s"] for _, r in runs])]),
    ]
    if steps:
        charts.append(bar_chart("p95 per step", "ms", steps, [(nm, [step(r, s, "p95_ms") for s in steps]) for nm, (_, r) in zip(names, runs)]))
        charts.append(bar_chart("p99 per step", "ms", steps, [(nm, [step(r, s, "p99_ms") for s in steps]) for nm, (_, r) in zip(names, runs)]))
        charts.append(bar_chart("Throughput per step", "req/s", steps, [(nm, [step(r, s, "req_per_s") for s in steps]) for nm, (_, r) in zip(names, runs)]))
        charts.append(bar_chart("Failed requests per step (HTTP errors)", "requests", steps, [(nm, [step(r, s, "failed") or 0 for s in steps]) for nm, (_, r) in zip(names, runs)]))
    rows = "".join(
        f"<tr class=\"{'ok' if verdict(r) == 'ok' else 'bad'}\"><td>#{n}</td><td>{html.escape(r['time'][:19])}</td><td>{html.escape(r['scenario'])}</td>"
        f"<td>{html.escape(r['lock_type'])}</td><td>{r['vus']}</td><td>{html.escape(str(r['duration']))}</td><td>{html.escape(str(r.get('commit')))}</td>"
        f"<td>{r['req_per_s']}</td><td>{r['p50_ms']}</td><td>{r['p95_ms']}</td><td>{r['p99_ms']}</td><td>{r['error_rate']}</td>"
        f"<td>{r.get('api_rss_mb_max') or ''}</td><td>{html.escape(verdict(r))}</td></tr>"
        for n, r in runs)
    details = "".join(
        f"<details><summary>{html.escape(label(n, r))}: machine, counters, thresholds</summary><pre>"
        + html.escape(json.dumps({k: r.get(k) for k in ("machine", "base_url", "env", "counters", "thresholds_failed", "checks_passed", "checks_failed", "k6_exit")}, indent=2))
        + "</pre></details>" for n, r in runs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; margin: 12px 0 24px; }} td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f3f3f3; }} tr.bad td:last-child {{ color: #b00020; font-weight: 600; }} tr.ok td:last-child {{ color: #2e7d32; }}
svg {{ display: block; margin: 16px 0 28px; }} svg .t {{ font: 600 15px system-ui, sans-serif; }}
svg .l {{ font: 12px system-ui, sans-serif; }} svg .v {{ font: 10px system-ui, sans-serif; fill: #444; }}
pre {{ background: #f7f7f7; padding: 8px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{len(runs)} run(s) from perf/results/history.jsonl. Latencies are k6's http_req_duration of the measured steps (set-up and audit excluded);
verdict = audit, checks and thresholds.</p>
<table><tr><th>run</th><th>time (UTC)</th><th>scenario</th><th>lock_type</th><th>VUs</th><th>duration</th><th>commit</th><th>req/s</th>
<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>error rate</th><th>API RSS MB</th><th>verdict</th></tr>{rows}</table>
{''.join(charts)}
{details}
</body></html>
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("history")
    parser.add_argument("--scenario")
    parser.add_argument("--lock-type")
    parser.add_argument("--commit")
    parser.add_argument("--runs")
    parser.add_argument("--last", type=int, default=10)
    parser.add_argument("--html")
    parser.add_argument("--markdown")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    runs = select(load(args.history), args)
    if not runs:
        print("no runs match", file=sys.stderr)
        return 1
    md = markdown(runs)
    if not args.quiet:
        print(md)
    if args.markdown:
        os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
        with open(args.markdown, "w") as f:
            f.write(md)
        print(f"markdown: {args.markdown}", file=sys.stderr)
    if args.html:
        scenarios = sorted({r["scenario"] for _, r in runs})
        os.makedirs(os.path.dirname(os.path.abspath(args.html)), exist_ok=True)
        with open(args.html, "w") as f:
            f.write(html_report(runs, "ExBuy perf: " + ", ".join(scenarios)))
        print(f"HTML report: {args.html}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
