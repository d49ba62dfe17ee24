"""Capacity under an SLO (`./exbuy perf capacity SCENARIO --slo 'p95<50ms'`, `./exbuy perf matrix SCENARIO --capacity`):
the scenario's request mix driven as an open model — k6's constant-arrival-rate executor, ARRIVAL_RATE iterations a
second whatever the answers take (perf/k6/lib/defaults.js arrivalScenario) — in steps of --step-duration, and a search
for the highest rate that meets the SLO: a geometric ramp from --start (x --factor) until a step fails or --max is
reached (down, / --factor, while --start fails), then bisection between the last passing and the first failing rate, at most --max-steps steps.

A step passes when its run passes as any run does (report.judge: no failed check, clean audit, every accepted answer in
PostgreSQL, k6 exit 0; for lock_type=none: "unsafe, as expected" and not broken), every SLO term holds over the measured
requests, and k6 dropped at most --max-dropped of the offered iterations (an iteration that finds no free VU). The
steps' own latency thresholds are off (K6_NO_THRESHOLDS): the SLO replaces them. perf/guide/capacity.md is the guide."""
import argparse
import copy
import datetime
import math
import os
import re
import shutil
import sys
import tempfile

import history
from summarize import append
from charts import bar_chart, esc, line_chart

SLO_TERM = re.compile(r"^p(50|95|99)\s*<\s*(\d+(?:\.\d+)?)\s*(ms|s)$")
DEFAULTS = {"start": 50, "max": 5000, "factor": 2.0, "step_duration": "15s", "max_steps": 8, "max_dropped": 0.01,
            "precision": 0.1, "vus": 200}
CPU_GROUPS = ("api", "postgres", "redis", "k6")


# ------------------------------------------------------------------------------------------------ the SLO
def parse_slo(text):
    """'p95<50ms,p99<200ms' -> [{"percentile": 95, "below_ms": 50.0, "text": "p95<50ms"}, ...]; ValueError says why."""
    terms = []
    for raw in (text or "").split(","):
        term = raw.strip()
        m = SLO_TERM.match(term)
        if not m:
            raise ValueError(f"'{term or text}' is not an SLO term: write pNN<BOUND with NN one of 50, 95, 99 and BOUND in ms "
                             "or s, several comma-separated, e.g. 'p95<50ms' or 'p95<50ms,p99<200ms'")
        bound = float(m.group(2)) * (1000 if m.group(3) == "s" else 1)
        if bound <= 0:
            raise ValueError(f"'{term}': the bound must be above 0")
        if any(t["percentile"] == int(m.group(1)) for t in terms):
            raise ValueError(f"'{term}': p{m.group(1)} is bounded twice")
        terms.append({"percentile": int(m.group(1)), "below_ms": bound, "text": f"p{m.group(1)}<{bound:g}ms"})
    return terms


def slo_arg(value):
    try:
        parse_slo(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))
    return value


def slo_text(terms):
    return ",".join(t["text"] for t in terms)


def slo_misses(line, terms):
    """The SLO terms a run's measured requests missed, as text ('p95 71.2 ms >= 50 ms'); no latency at all misses every term."""
    out = []
    for t in terms:
        value = line.get(f"p{t['percentile']}_ms")
        if value is None:
            out.append(f"p{t['percentile']} not measured")
        elif value >= t["below_ms"]:
            out.append(f"p{t['percentile']} {value:g} ms >= {t['below_ms']:g} ms")
    return out


# ------------------------------------------------------------------------------------------------ one step
def step_of(line, rate, seconds, terms, max_dropped, judge):
    """What one step at `rate` iterations/s showed and whether it passed. `judge` is report.judge."""
    status, problems, notes = judge(line)
    offered = rate * seconds
    iterations = line.get("iterations") or 0
    dropped = line.get("dropped_iterations") or 0
    why = list(problems) if status == "fail" else []
    why += slo_misses(line, terms)
    if dropped > max_dropped * offered:
        why.append(f"{dropped:,} of {offered:,} iterations dropped (> {max_dropped:.1%}: no free VU, raise --vus or the system is saturated)")
    cpu = ((line.get("cost") or {}).get("cpu") or {})
    return {"rate": rate, "ok": not why, "problems": why, "status": status,
            "achieved_it_per_s": round(iterations / seconds, 1) if seconds else None,
            "req_per_s": line.get("req_per_s"), "requests": line.get("requests"),
            "p50_ms": line.get("p50_ms"), "p95_ms": line.get("p95_ms"), "p99_ms": line.get("p99_ms"),
            "iterations": iterations, "dropped": dropped, "error_rate": line.get("error_rate"),
            "checks_failed": line.get("checks_failed"), "audit_ok": line.get("audit_ok"), "vus": line.get("vus"),
            "cpu_ms_per_request": {g: (cpu.get(g) or {}).get("ms_per_request") for g in CPU_GROUPS if g in cpu},
            "run_id": line.get("run_id")}


# ------------------------------------------------------------------------------------------------ the search
def search(measure, start, max_rate, factor=2.0, max_steps=8, precision=0.1, min_rate=1):
    """The highest rate that passes. measure(rate) -> a step dict with "ok". A geometric ramp from start (x factor,
    capped at max_rate) until a step fails — or, when start fails, down (/ factor) until a step passes —, then bisection between the highest passing and the lowest failing rate
    until they are within `precision` of the passing one (or 1 iteration/s); never more than max_steps steps, never
    below min_rate (the flash sale's: the lowest rate whose step can still sell out).
    Returns {"knee": rate or None, "steps": [...in the order run], "stopped": why the search ended}."""
    steps, good, bad, rate = [], None, None, start
    while True:
        if len(steps) >= max_steps:
            stopped = f"step budget spent ({max_steps} steps)"
            break
        step = measure(rate)
        steps.append(step)
        if step["ok"]:
            good = rate if good is None else max(good, rate)
        else:
            bad = rate if bad is None else min(bad, rate)
        if good is None:
            # Nothing passed yet: down geometrically from the lowest failing rate (a start above the knee).
            if rate <= min_rate:
                stopped = f"no rate passed, down to {min_rate}/s"
                break
            rate = max(min_rate, min(rate - 1, int(rate / factor)))
            continue
        if bad is None:
            if rate >= max_rate:
                stopped = f"reached --max {max_rate}/s without a failing step"
                break
            rate = min(max_rate, max(rate + 1, int(math.ceil(rate * factor))))
            continue
        if bad - good <= max(1, int(good * precision)):
            stopped = f"bracketed: {good}/s passes, {bad}/s fails (within {precision:.0%})"
            break
        rate = (good + bad) // 2
    return {"knee": good, "steps": steps, "stopped": stopped}


# ------------------------------------------------------------------------------------------------ the command line
def add_options(p, matrix=False):
    g = p.add_argument_group("capacity search (open model: k6 constant-arrival-rate steps; perf/guide/capacity.md)")
    if matrix:
        g.add_argument("--capacity", action="store_true", help="instead of one closed-model run per lock_type, the capacity search "
                       "per lock_type (needs --slo), then one chart: each strategy's sustainable rate with its CPU per request there")
    g.add_argument("--slo", type=slo_arg, required=not matrix, metavar="SLO",
                   help="what a step must meet over its measured requests: pNN<BOUND (NN: 50, 95, 99; BOUND in ms or s), "
                        "several comma-separated, e.g. 'p95<50ms' or 'p95<50ms,p99<200ms'")
    g.add_argument("--start", type=rate_arg, default=DEFAULTS["start"], metavar="RATE",
                   help="the first step's arrival rate, iterations per second (default: %(default)s)")
    g.add_argument("--max", type=rate_arg, default=DEFAULTS["max"], metavar="RATE",
                   help="the highest rate tried (default: %(default)s)")
    g.add_argument("--factor", type=factor_arg, default=DEFAULTS["factor"], metavar="F",
                   help="the geometric ramp's factor until a step fails (default: %(default)s); then bisection")
    g.add_argument("--step-duration", default=DEFAULTS["step_duration"], metavar="D", type=step_duration_arg,
                   help="how long each step holds its rate (default: %(default)s)")
    g.add_argument("--max-steps", type=rate_arg, default=DEFAULTS["max_steps"], metavar="N",
                   help="at most N steps in all (default: %(default)s)")
    g.add_argument("--max-dropped", type=share_arg, default=DEFAULTS["max_dropped"], metavar="SHARE",
                   help="the share of a step's offered iterations k6 may drop for want of a free VU (default: %(default)s = 1 %%)")
    g.add_argument("--precision", type=share_arg, default=DEFAULTS["precision"], metavar="SHARE",
                   help="bisection stops when the failing rate is within this share above the passing one (default: %(default)s)")
    return g


def rate_arg(value):
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return int(value)


def factor_arg(value):
    try:
        f = float(value)
    except ValueError:
        f = 0
    if f <= 1:
        raise argparse.ArgumentTypeError("must be a number above 1, e.g. 2 or 1.5")
    return f


def share_arg(value):
    try:
        f = float(value)
    except ValueError:
        f = -1
    if not 0 <= f < 1:
        raise argparse.ArgumentTypeError("must be a share from 0 to below 1, e.g. 0.01")
    return f


def step_duration_arg(value):
    if not re.match(r"^\d+(s|m)$", value) or seconds_of(value) < 5:
        raise argparse.ArgumentTypeError("looks like 15s or 1m (at least 5s)")
    return value


def seconds_of(duration):
    m = re.match(r"^(\d+)(s|m)$", duration)
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1) if m else 0


def stock_of(args):
    return int(next((kv.split("=", 1)[1] for kv in args.env if kv.startswith("STOCK=")), "100") or 0)


def min_rate(scenario, args):
    """The lowest rate a step may have: 1/s, and for the flash sale the one that makes twice STOCK attempts a step."""
    return max(1, math.ceil(2 * stock_of(args) / seconds_of(args.step_duration))) if scenario == "flash-sale" else 1


def problems_of_options(scenario, args):
    """What makes the options unusable (exit 2) or None."""
    if args.start > args.max:
        return f"--start {args.start} is above --max {args.max}"
    if scenario == "flash-sale":
        stock = stock_of(args)
        if args.start < min_rate(scenario, args):
            return (f"flash-sale: a step at --start {args.start}/s for {args.step_duration} makes fewer than twice STOCK={stock} "
                    "attempts, so it could not sell out: raise --start or --step-duration, or lower STOCK (--env STOCK=N)")
    if getattr(args, "fault", None):
        return "a capacity search takes no --fault"
    return None


# ------------------------------------------------------------------------------------------------ running
def say(text):
    print(f"\033[1m==>\033[0m {text}", file=sys.stderr)


def run_search(scenario, args, run_one, judge):
    """The search for one lock_type; appends the capacity line to args.history. Returns (exit code, run id or None)."""
    terms = parse_slo(args.slo)
    seconds = seconds_of(args.step_duration)
    work = tempfile.mkdtemp(prefix="exbuy-capacity-")
    real_history, real_report, lock = args.history, args.report, getattr(args, "lock_type", None)
    steps_file = os.path.join(work, "steps.jsonl")
    user_env = list(args.env)
    think = [] if any(kv.startswith("THINK_TIME=") for kv in user_env) else ["THINK_TIME=0"]
    before_thresholds = os.environ.get("K6_NO_THRESHOLDS")
    os.environ["K6_NO_THRESHOLDS"] = "true"  # the SLO replaces the script's own latency thresholds
    lines = {}

    def measure(rate):
        step = copy.copy(args)
        step.env = user_env + think + [f"ARRIVAL_RATE={rate}"]
        step.duration, step.vus, step.history = args.step_duration, args.vus or DEFAULTS["vus"], steps_file
        step.report = os.path.join(work, f"step-{rate}.html")
        step.fault, step.ramp_up, step.ramp_down = [], None, None
        say(f"capacity step {len(lines) + 1}: {scenario}" + (f" (lock_type={lock})" if lock else "")
            + f" at {rate} iterations/s for {args.step_duration}, SLO {slo_text(terms)}")
        _, run_id = run_one(scenario, step, matrix_run=False)
        # The first step warmed up (run_one's --warmup); the later ones run warm. The API started by the first is reused.
        args.warmup, args.base_url, args.ours = "0", step.base_url, step.ours
        line = next((r for _, r in reversed(history.load(steps_file)) if r.get("run_id") == run_id), None) if run_id else None
        if line is None:
            return {"rate": rate, "ok": False, "problems": ["no run recorded (k6 missing or the run did not start)"], "status": "fail"}
        lines[rate] = line
        s = step_of(line, rate, seconds, terms, args.max_dropped, judge)
        say(f"step {rate}/s: " + ("meets the SLO" if s["ok"] else "fails: " + "; ".join(s["problems"]))
            + f" (achieved {s['achieved_it_per_s']} it/s, {s['req_per_s']} req/s, p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, dropped {s['dropped']})")
        return s

    try:
        if args.dry_run:
            measure(args.start)
            print(f"capacity plan: {scenario} from {args.start}/s x{args.factor:g} up to {args.max}/s, then bisection to "
                  f"{args.precision:.0%}, at most {args.max_steps} steps of {args.step_duration}, SLO {slo_text(terms)}")
            return 0, None
        found = search(measure, args.start, args.max, args.factor, args.max_steps, args.precision, min_rate(scenario, args))
    finally:
        if before_thresholds is None:
            os.environ.pop("K6_NO_THRESHOLDS", None)
        else:
            os.environ["K6_NO_THRESHOLDS"] = before_thresholds
        args.history, args.report, args.env = real_history, real_report, user_env
    try:
        knee = found["knee"]
        base = lines.get(knee) or (lines.get(found["steps"][0]["rate"]) if found["steps"] else None)
        if base is None:
            print("capacity: no step was recorded", file=sys.stderr)
            return 1, None
        line = dict(base)
        line["run_id"] = f"{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}-capacity-{scenario}" + (f"-{lock}" if lock else "")
        line["shape"] = "capacity"
        line["env"] = dict(kv.split("=", 1) for kv in user_env + think)
        knee_step = next((s for s in found["steps"] if s["rate"] == knee and s["ok"]), None)
        line["capacity"] = {
            "slo": slo_text(terms), "slo_terms": terms, "knee_rate": knee,
            "knee": None if knee_step is None else {k: knee_step.get(k) for k in (
                "rate", "achieved_it_per_s", "req_per_s", "p50_ms", "p95_ms", "p99_ms", "dropped", "cpu_ms_per_request", "run_id")},
            "stopped": found["stopped"], "start": args.start, "max": args.max, "factor": args.factor,
            "step_duration": args.step_duration, "max_steps": args.max_steps, "max_dropped": args.max_dropped,
            "precision": args.precision, "max_vus": args.vus or DEFAULTS["vus"], "steps": found["steps"],
        }
        append(args.history, line)
        print_steps(line)
        print(f"verdict: {verdict_text(line, judge)}")
        return (0 if knee is not None else 1), line["run_id"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_steps(line, out=sys.stdout):
    c = line["capacity"]
    print(f"\ncapacity of {line['scenario']}" + (f" (lock_type={line['lock_type']})" if line.get("lock_type") else "")
          + f" under {c['slo']}: steps of {c['step_duration']}, in the order run", file=out)
    print(f"  {'offered/s':>9} {'achieved it/s':>13} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'dropped':>8}  result", file=out)
    for s in c["steps"]:
        fmt = lambda v: "" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v)
        print(f"  {s['rate']:>9} {fmt(s.get('achieved_it_per_s')):>13} {fmt(s.get('req_per_s')):>8} {fmt(s.get('p50_ms')):>8} "
              f"{fmt(s.get('p95_ms')):>8} {fmt(s.get('p99_ms')):>8} {fmt(s.get('dropped')):>8}  "
              + ("pass" if s["ok"] else "FAIL: " + "; ".join(s["problems"])), file=out)
    print(f"search: {c['stopped']}", file=out)


def cpu_text(cpu):
    names = {"api": "API", "postgres": "PostgreSQL", "redis": "Redis", "k6": "k6"}
    shown = [f"{names[g]} {v:g}" for g, v in (cpu or {}).items() if v is not None]
    return ("CPU ms per request: " + ", ".join(shown)) if shown else "no CPU measured"


# ------------------------------------------------------------------------------------------------ verdicts
def judge(r, base_judge):
    """A capacity line's verdict: the knee step's own (pass, not verified, unsafe as expected), or a fail when no rate
    met the SLO (the lowest step's problems say why)."""
    base = base_judge({k: v for k, v in r.items() if k != "capacity"})
    c = r["capacity"]
    if c.get("knee_rate") is None:
        lowest = min(c.get("steps") or [{"rate": None}], key=lambda s: s.get("rate") or 0)
        return "fail", [f"no rate met {c['slo']}: at {lowest.get('rate')}/s (the lowest tried) " + "; ".join(lowest.get("problems") or ["no step"])], []
    return base


def lead(r):
    c = r["capacity"]
    k = c.get("knee")
    if not k:
        return f"capacity under {c['slo']}: none — {c['stopped']}"
    return (f"capacity {k['rate']} iterations/s under {c['slo']} (achieved {k['achieved_it_per_s']} it/s, {k['req_per_s']} req/s, "
            f"p50 {k['p50_ms']} ms, p95 {k['p95_ms']} ms, p99 {k['p99_ms']} ms); {cpu_text(k.get('cpu_ms_per_request'))}")


def tail(r):
    """What bounded the knee: the lowest failing step above it, and why the search stopped."""
    c = r["capacity"]
    above = [s for s in c.get("steps") or [] if not s["ok"] and c.get("knee_rate") is not None and s["rate"] > c["knee_rate"]]
    first_fail = min(above, key=lambda s: s["rate"]) if above else None
    return (f"{first_fail['rate']}/s failed: " + "; ".join(first_fail["problems"]) + "; " if first_fail else "") + c["stopped"]


def verdict_text(r, base_judge):
    status, problems, notes = judge(r, base_judge)
    text = (lead(r) if status != "fail" else "; ".join(problems)) + "; " + tail(r)
    if status == "not verified":
        text += " — not verified: " + "; ".join(notes)
    elif status == "unsafe, as expected":
        text += " — lock_type=none: unsafe, as expected"
    return text


# ------------------------------------------------------------------------------------------------ matrix
def matrix(args, run_one, judge_fn, lock_types, write_reports, reports_dir):
    """The capacity search once per lock_type, then one report with the sustainable-rate chart. Exits 1 when a
    strategy other than none found no passing rate (or its search broke)."""
    if not args.slo:
        print("perf matrix --capacity: needs --slo, e.g. --slo 'p95<100ms'", file=sys.stderr)
        return 2
    ids, codes = [], {}
    for lock in lock_types:
        args.lock_type = lock
        codes[lock], run_id = run_search(args.scenario, args, run_one, judge_fn)
        if run_id:
            ids.append(run_id)
    if args.dry_run:
        return 0
    runs = history.by_id(history.load(args.history), ids) if ids else []
    if not runs:
        return 1
    base = os.path.splitext(args.report)[0] if args.report else \
        os.path.join(reports_dir, f"matrix-capacity-{args.scenario}-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}")
    print()
    write_reports(runs, base + ".html", base + ".md", quiet=True, title=f"{args.system} perf: {args.scenario} capacity under {args.slo}, one search per lock_type")
    by_lock = {r["lock_type"]: r for _, r in runs}
    print(f"\nmatrix capacity under {args.slo} (sustainable rate = the highest step that met the SLO with every check, the audit "
          "and the answers clean):")
    for lock in lock_types:
        r = by_lock.get(lock)
        if not r:
            print(f"  {lock:<12} no search recorded")
            continue
        k = r["capacity"].get("knee")
        print(f"  {lock:<12} " + (f"{k['rate']:>6}/s  p95 {k['p95_ms']} ms  {cpu_text(k.get('cpu_ms_per_request'))}" if k
                                  else f"  none: {verdict_text(r, judge_fn)}") + ("  (unsafe, as expected)" if lock == "none" else ""))
    failed = [lock for lock in lock_types if lock != "none" and (codes.get(lock) != 0 or lock not in by_lock)]
    print("matrix capacity: " + (f"FAILED ({', '.join(failed)}: no rate met the SLO)" if failed else "every strategy has a sustainable rate"))
    return 1 if failed else 0


# ------------------------------------------------------------------------------------------------ the report
def html(runs, names):
    """The capacity section of the HTML report: per capacity run the latency-throughput curve (p50/p95/p99 against the
    offered rate, the SLO as a dashed line) and achieved against offered rate, a table of its steps; with two or more,
    one chart of every run's sustainable rate, each labelled with its CPU per request there. '' when none is a capacity run."""
    capacity = [(nm, i, r) for nm, (i, r) in zip(names, runs) if r.get("capacity")]
    if not capacity:
        return ""
    parts = ["<h2>Capacity under the SLO</h2>",
             '<p class="small">Open model: each step drives the scenario at a fixed arrival rate (k6 constant-arrival-rate) for the step '
             'duration; a step passes when it meets every SLO term over its measured requests, every check and the audit are clean, the '
             'accepted answers are in PostgreSQL and k6 dropped at most the stated share of the offered iterations. The sustainable rate '
             '(the knee) is the highest passing step.</p>']
    if len(capacity) >= 2:
        # Short labels (the run, its lock_type or system, the CPU there): the full names are in the table below.
        many_systems = len({r.get("system") for _, _, r in capacity}) > 1
        cats = [f"#{i} {r.get('system') if many_systems else r.get('lock_type')} · " + cpu_short(r) for _, i, r in capacity]
        parts.append(bar_chart("Sustainable rate under the SLO, with CPU per request at that rate", "iterations per second",
                               cats, [("sustainable rate", [(r["capacity"].get("knee") or {}).get("rate") for _, _, r in capacity])],
                               note="no bar: no step met the SLO. CPU: ms per request of the API + PostgreSQL + Redis at the knee step "
                                    "(by process in the table below)"))
        rows = "".join(
            f"<tr><td class=\"left\">{esc(nm)}</td><td>{blank((r['capacity'].get('knee') or {}).get('rate'))}</td>"
            f"<td>{blank((r['capacity'].get('knee') or {}).get('p95_ms'))}</td>"
            + "".join(f"<td>{blank(((r['capacity'].get('knee') or {}).get('cpu_ms_per_request') or {}).get(g))}</td>" for g in CPU_GROUPS)
            + f"<td class=\"left\">{esc(r['capacity']['slo'])}</td></tr>" for nm, _, r in capacity)
        parts.append('<div class="wrap"><table><tr><th class="left">run</th><th>sustainable it/s</th><th>p95 ms there</th>'
                     '<th>API CPU ms/req</th><th>PostgreSQL</th><th>Redis</th><th>k6</th><th class="left">SLO</th></tr>' + rows + "</table></div>")
    for nm, i, r in capacity if len(capacity) <= 8 else []:
        c = r["capacity"]
        steps = sorted(c.get("steps") or [], key=lambda s: s["rate"])
        xs = [s["rate"] for s in steps]
        thresholds = [(t["below_ms"], f"SLO {t['text']}") for t in c.get("slo_terms") or []]
        # A saturated step (seconds) would flatten the region around the SLO: the axis stops at 4x the largest bound
        # and what lies above is drawn at the top and named in the note.
        cap = 4 * max([b for b, _ in thresholds] or [0]) or None
        above = [f"{s['rate']}/s p{p} {s[f'p{p}_ms']:g} ms" for s in steps for p in (50, 95, 99)
                 if cap and isinstance(s.get(f"p{p}_ms"), (int, float)) and s[f"p{p}_ms"] > cap]
        clip = lambda v: min(v, cap) if cap and isinstance(v, (int, float)) else v
        lines = [(f"p{p}", xs, [clip(s.get(f"p{p}_ms")) for s in steps]) for p in (50, 95, 99)]
        knee = c.get("knee_rate")
        parts.append(line_chart(f"Latency against offered rate ({nm})", "offered rate, iterations per second", "ms", lines, thresholds,
                                note=(f"knee: {knee}/s, the highest step that met {c['slo']}" if knee is not None else f"no step met {c['slo']}")
                                + f"; {c['stopped']}" + (f"; above the axis (drawn at {cap:g} ms): " + ", ".join(above) if above else "")))
        parts.append(line_chart(f"Achieved against offered rate ({nm})", "offered rate, iterations per second", "per second",
                                [("offered", xs, xs), ("achieved iterations/s", xs, [s.get("achieved_it_per_s") for s in steps]),
                                 ("requests/s", xs, [s.get("req_per_s") for s in steps])],
                                note="achieved below offered: k6 dropped iterations (no free VU) or they did not finish in the step"))
        rows = "".join(
            f"<tr class=\"{'ok' if s['ok'] else 'bad'}\"><td>{s['rate']}</td><td>{blank(s.get('achieved_it_per_s'))}</td><td>{blank(s.get('req_per_s'))}</td>"
            f"<td>{blank(s.get('p50_ms'))}</td><td>{blank(s.get('p95_ms'))}</td><td>{blank(s.get('p99_ms'))}</td><td>{blank(s.get('dropped'))}</td>"
            f"<td>{blank((s.get('cpu_ms_per_request') or {}).get('api'))}</td>"
            f"<td class=\"left\">{esc('pass' if s['ok'] else '; '.join(s['problems']))}</td></tr>" for s in steps)
        parts.append(f'<div class="wrap"><table><tr><th>offered/s</th><th>achieved it/s</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th>'
                     f'<th>p99 ms</th><th>dropped</th><th>API CPU ms/req</th><th class="left">step ({esc(nm)}, {esc(c["step_duration"])} each)</th></tr>{rows}</table></div>')
    return "".join(p for p in parts if p)


def cpu_short(r):
    if not r["capacity"].get("knee"):
        return "no rate met the SLO"
    cpu = r["capacity"]["knee"].get("cpu_ms_per_request") or {}
    total = sum(v for g, v in cpu.items() if g != "k6" and v is not None)
    return f"{total:.2f} ms CPU/req" if cpu else "no CPU measured"


def blank(value):
    return "" if value is None else value
