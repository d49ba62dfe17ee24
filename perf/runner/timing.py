#!/usr/bin/env python3
"""Where each step's time went on the server: the Server-Timing breakdown of a run's steps (summarize.phase_breakdown,
recorded by perf/k6/lib/timing.js), as a markdown and an HTML section of the report; two or more runs side by side.

Per step and run: the step's tail (the requests at or above its p95's half-octave) split by phase, the mean
milliseconds of each phase over those requests, and each phase's own p50 / p95 over all the step's requests.
Phases (perf/guide/timing.md): lock-* (a lock wait, by kind), batch (a group-commit wait), pool (a PostgreSQL
connection), pg and redis (their round trips), app (the rest, in the API), total (the server's whole request); k6's
duration minus total is the network and k6 itself."""
from html import escape as esc

# The order phases are listed in: the waits first, then the drivers, then the rest.
ORDER = ("lock-", "batch", "pool", "pg", "redis", "app", "total")


def phase_order(phase):
    for i, prefix in enumerate(ORDER):
        if phase == prefix or (prefix.endswith("-") and phase.startswith(prefix)):
            return (i, phase)
    return (len(ORDER) - 1.5, phase)  # another wait a helper named: before app and total


def timed_steps(runs):
    """[(step, [phase, ...])] of the steps any run has a breakdown for, in the runs' step order."""
    steps = []
    for _, r in runs:
        for name, s in (r.get("steps") or {}).items():
            if s.get("server_timing") and name not in [n for n, _ in steps]:
                steps.append((name, None))
    out = []
    for name, _ in steps:
        phases = sorted({p for _, r in runs for p in (((r.get("steps") or {}).get(name) or {}).get("server_timing") or {}).get("phases", {})},
                        key=phase_order)
        out.append((name, phases))
    return sorted(out, key=lambda sp: step_order(sp[0]))


def step_order(name):
    head = name.split("_", 1)[0]
    return (int(head), name) if head.isdigit() else (10 ** 9, name)


def cell(r, step, phase):
    """(tail mean ms, p50, p95) of one phase of one step of one run, or None."""
    t = (((r.get("steps") or {}).get(step) or {}).get("server_timing"))
    if not t or phase not in t.get("phases", {}):
        return None
    p = t["phases"][phase]
    return t.get("tail", {}).get(phase), p.get("p50_ms"), p.get("p95_ms")


def fmt(v):
    return "" if v is None else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")


def markdown(runs):
    steps = timed_steps(runs)
    if not steps:
        return ""
    out = ["", "Where the time went (Server-Timing): per step, the p95 tail split by phase in ms (phase p50 / p95)", "",
           "| step | phase | " + " | ".join(f"#{i}" for i, _ in runs) + " |", "|---|---|" + "---|" * len(runs)]
    for step, phases in steps:
        for phase in phases:
            cells = []
            for _, r in runs:
                c = cell(r, step, phase)
                cells.append("" if c is None else f"{fmt(c[0])} ({fmt(c[1])} / {fmt(c[2])})")
            out.append(f"| {step} | {phase} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def html(runs):
    steps = timed_steps(runs)
    if not steps:
        return ""
    head = "".join(f"<th>#{esc(str(i))}</th>" for i, _ in runs)
    sections = []
    for step, phases in steps:
        tails = []
        for _, r in runs:
            t = ((r.get("steps") or {}).get(step) or {}).get("server_timing") or {}
            tails.append(f"<td class=\"small\">{t.get('tail_requests', '')} requests ≥ {fmt(t.get('tail_from_ms'))} ms</td>" if t else "<td></td>")
        rows = [f'<tr><th class="left">tail</th>{"".join(tails)}</tr>']
        for phase in phases:
            cells = []
            for _, r in runs:
                c = cell(r, step, phase)
                cells.append("<td></td>" if c is None else f'<td><b>{fmt(c[0])}</b> <span class="small">({fmt(c[1])} / {fmt(c[2])})</span></td>')
            rows.append(f'<tr><th class="left">{esc(phase)}</th>{"".join(cells)}</tr>')
        sections.append(f'<h3>{esc(step)}</h3><div class="wrap"><table class="server-timing"><tr><th class="left">phase</th>{head}</tr>{"".join(rows)}</table></div>')
    return ('<h2>Where the time went (Server-Timing)</h2><p class="small">Per step: the p95 tail (the requests at or above the '
            'half-octave holding the step\'s p95) split by phase, mean ms of each phase over those requests (bold), and the phase\'s own '
            'p50 / p95 over all the step\'s requests. lock-*: lock waits; batch: a group-commit wait; pool: getting a PostgreSQL connection; '
            'pg, redis: their round trips; app: the rest in the API; total: the server\'s request (k6\'s duration minus total is the network '
            'and k6). perf/guide/timing.md.</p>' + "".join(sections))
