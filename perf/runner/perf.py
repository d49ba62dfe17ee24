#!/usr/bin/env python3
"""ExBuy's perf workbench: runs a k6 scenario, records it, reports it; compares recorded runs. `./exbuy perf` is this
program (it starts the API first when no --base-url is given); `./exbuy perf --help` and `./exbuy perf VERB --help`
explain every verb and option."""
import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import textwrap
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import accepted  # noqa: E402
import capacity  # noqa: E402
import compare as compare_verb  # noqa: E402
import cost  # noqa: E402
import history  # noqa: E402
import k6version  # noqa: E402
import script as script_verb  # noqa: E402
from report import FAIL, NOT_VERIFIED, PASS, UNSAFE, judge, verdict_text  # noqa: E402
from summarize import (append, availability_text, correctness_text, fault_landing, fault_split, landing_text, print_table,  # noqa: E402
                       summarize)

PERF = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K6_DIR = os.path.join(PERF, "k6")
REPORTS = os.path.join(PERF, "results", "reports")
LOCK_TYPES = ["optimistic", "pessimistic", "redlock", "row", "atomic", "batched", "none"]
WARMUP_VUS = 20
# The tags k6 puts on every point: what the reports and thresholds use. Leaving out url, proto, tls_version etc.
# keeps the point stream (written and parsed on the same cores as the system under test) a good deal smaller.
SYSTEM_TAGS = "name,status,method,check,scenario,expected_response,error_code"

SCENARIOS = {
    "read-only": "ExBuy surface (seed 000), reads only over routes 1-13, 0.15 s think time. Passes: every check, p95 < 50 ms, audit.",
    "read-heavy": "ExBuy surface (seed 000), 80 % reads / 20 % writes. Passes: every check, p95 < 50 ms, audit.",
    "write-heavy": "ExBuy surface (seed 000), 30 % reads / 70 % writes (orders, bulk orders, status changes, reservations, reviews).",
    "mixed": "ExBuy surface (seed 000), 60 % reads / 40 % writes.",
    "persona-a": "Shop flow, seed 001's impulse buyer as written: charge 10,000, claim a coupon, read coupons, top 5, order the top 5. "
                 "p95 < 200 ms per step, checks, audit. Takes no --lock-type (the server's default applies).",
    "persona-b": "Shop flow, seed 001's rational buyer: charge 2,000, claim, buy p1 (+ p2 with a coupon); the balance must end at 0. "
                 "p95 and p99 < 200 ms per step.",
    "persona-c": "Shop flow, seed 001's malicious buyer: fake coupon, the same coupon twice at once, malformed orders: every order "
                 "refused (400/404/409), the balance stays 1,000.",
    "flash-sale": "Seed 004: STOCK units (100) and many buyers retrying every 0.1 s. Passes when exactly STOCK sell, database stock = "
                  "Redis stock, nothing oversold, p99 < 100 ms, audit. --shape v1_faults (3,000 units, 150 buyers trying once a "
                  "second) sells for about half the run: the shape for --fault, which then lands mid-sale.",
    "coupon-rush": "Seed 003: one policy of QUANTITY coupons (50,000) for USERS users (150,000). Admitted <= quantity, the queue "
                   "settles, every admitted claim becomes one coupon, p95 < 50 ms. Takes no --lock-type (no stock).",
    "paid-orders": "Seed 003: each VU its own user, orders of 1-3 of PRODUCTS (100) products with an Idempotency-Key, paid from a "
                   "balance. Every order 201, balances = ledgers (audit), p95 < 100 ms.",
    "volume-soak": "Issue 23: uploads of FILE_KB (256) KB and SEARCHES (5) never-seen searches per iteration, 20 VUs for 10 min: disk "
                   "and RSS stay flat once the upload quota and the search cache's byte limit are reached (uploads 201, then 507/413). "
                   "Takes no --lock-type.",
}
NO_LOCK_TYPE = {"persona-a", "coupon-rush", "volume-soak"}
# No open model: volume-soak's shape is its point (a fixed soak); the personas' flow_iterations walk once per VU.
CAPACITY_NOT = {"volume-soak"}
DURATION = re.compile(r"^\d+(ms|s|m|h)$")


# ------------------------------------------------------------------------------------------------ defaults
def defaults():
    """The one set of defaults, shared with the k6 scripts: the JSON object in perf/k6/lib/defaults.js."""
    with open(os.path.join(K6_DIR, "lib", "defaults.js")) as f:
        text = f.read()
    start = text.index("export const DEFAULTS = ") + len("export const DEFAULTS = ")
    end = text.index("};", start) + 1
    return json.loads(text[start:end])


def defaults_key(scenario):
    return "persona" if scenario.startswith("persona-") else scenario


def shapes_of(scenario):
    entry = defaults()[defaults_key(scenario)]
    return entry.get("shapes"), entry.get("shape")


def plan(scenario, vus=None, duration=None, ramp_up=None, ramp_down=None, shape=None):
    """What k6 will run: the scenario's (or shape's) defaults with the options over them."""
    entry = defaults()[defaults_key(scenario)]
    if entry.get("shapes"):
        shape = shape or entry["shape"]
        base = entry["shapes"][shape]
    else:
        shape, base = None, entry
    return {"shape": shape, "vus": vus or base["vus"], "duration": duration or base["duration"],
            "ramp_up": ramp_up or base.get("rampUp"), "ramp_down": ramp_down or base.get("rampDown")}


# ------------------------------------------------------------------------------------------------ help
def describe_defaults(scenario):
    entry = defaults()[defaults_key(scenario)]
    if entry.get("shapes"):
        rows = []
        for name, s in entry["shapes"].items():
            if "iterations" in s:
                rows.append(f"  {name:<16} {s['vus']} VUs, each walks the flow once (at most {s['duration']})")
            else:
                rows.append(f"  {name:<16} ramp up {s['rampUp']} to {s['vus']} VUs, hold {s['duration']}"
                            + (f", ramp down {s['rampDown']}" if s.get("rampDown") not in (None, "0s") else "")
                            + (f", {s['stock']:,} units" if s.get("stock") else "") + (f", think time {s['thinkTime']} s" if s.get("thinkTime") else ""))
        return f"shapes (--shape; default {entry['shape']}; --vus/--duration/--ramp-up/--ramp-down override its numbers):\n" + "\n".join(rows)
    return f"defaults: {entry['vus']} VUs, ramp up {entry['rampUp']}, hold {entry['duration']}, ramp down {entry['rampDown']}"


RUN_EPILOG = """{defaults}

examples:
  ./exbuy perf {s}                               the defaults above against this checkout's API (started if needed)
  ./exbuy perf {s} --vus 50 --duration 1m{lock}
  ./exbuy perf {s} --dry-run --vus 50             print the k6 commands, run nothing
  ./exbuy perf {s} --base-url http://localhost:8000 --system Django --label "drf 4.2, gunicorn 4 workers"
                                                  the same suite against a peer, recorded under its name

After the run: a table per step (requests, p50/p95/p99, HTTP errors, statuses), the cost (CPU ms per request of the
API, PostgreSQL, Redis and k6; statements per request and the top five from pg_stat_statements; this checkout's API
only), one line appended to the history (with a per-second series and latency by HTTP status), and
perf/results/reports/last-{s}.html. The verdict: pass, fail (named: failed checks, the audit, an answer lost or
lying, k6's exit, thresholds crossed by kind — latency, checks, errors or counter), not verified (the answers could
not be checked in PostgreSQL) or, for lock_type=none, unsafe as expected. Exits non-zero on a fail (k6's code when k6
failed, 99 = thresholds crossed) and on a fault run that failed or is not verified (1).

environment: EXBUY_K6 (the k6 binary; default: k6 on PATH), EXBUY_API_PORT (the API ./exbuy starts, 8080);
script variables such as STOCK, QUANTITY, USERS, PRODUCTS, THINK_TIME, ADMIN_KEY go through --env."""


def add_run_options(p, scenario, matrix=False):
    shapes, default_shape = shapes_of(scenario) if scenario else (None, None)
    d = plan(scenario) if scenario else {}
    shape = p.add_argument_group("load shape (defaults: perf/k6/lib/defaults.js, the same the scripts use by hand)")
    shape.add_argument("--vus", type=positive, metavar="N", help=f"virtual users (default: {d.get('vus', 'the scenario’s')}"
                       + (", or the chosen shape's" if shapes else "") + ")")
    shape.add_argument("--duration", type=duration_arg, metavar="D", help=f"how long to hold the VUs, e.g. 30s, 2m (default: {d.get('duration', 'the scenario’s')})"
                       + ("; flow_iterations: the longest the flows may take" if shapes and "flow_iterations" in shapes else ""))
    shape.add_argument("--ramp-up", type=duration_arg, metavar="D", help=f"time to reach --vus (default: {d.get('ramp_up', 'the scenario’s')})")
    shape.add_argument("--ramp-down", type=duration_arg, metavar="D", help=f"time back to 0 VUs (default: {d.get('ramp_down', 'the scenario’s')}; 0s: none)")
    if shapes or not scenario:
        shape.add_argument("--shape", choices=sorted(shapes) if shapes else None, metavar="NAME",
                           help=(f"the seed's named shape: {', '.join(shapes)} (default: {default_shape})" if shapes
                                 else "personas: flow_iterations, flow_10vus, flow_100vus, flow_300vus; flash-sale: v1_basic, v1_stress, v1_faults"))
    target = p.add_argument_group("what is tested and how it is recorded")
    if scenario in NO_LOCK_TYPE:
        target.add_argument("--lock-type", action=NoLockType, help=argparse.SUPPRESS)
    elif not matrix:
        target.add_argument("--lock-type", choices=LOCK_TYPES, metavar="T",
                            help="stock strategy for every stock-taking request: " + ", ".join(LOCK_TYPES) + " (default: the server's, atomic)")
    target.add_argument("--base-url", metavar="URL", help="the system under test (default: this checkout's API, started by ./exbuy on "
                        "http://localhost:$EXBUY_API_PORT); any ExBuy, or a peer speaking the contract (the Django or Spring versions)")
    target.add_argument("--system", default="ExBuy", metavar="NAME", help="name of the system under test, recorded and shown in reports "
                        "(default: %(default)s); e.g. Django, Spring. A peer without GET /api/audit is recorded with no audit.")
    target.add_argument("--label", metavar="TEXT", help="free text recorded with the run (settings, machine, what changed)")
    target.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", type=env_arg,
                        help="a script variable (STOCK=50, QUANTITY=1000, THINK_TIME=0, ADMIN_KEY=...), recorded; repeatable")
    target.add_argument("--warmup", type=warmup_arg, default="15s", metavar="D", help=f"before the measured run, the same script at {WARMUP_VUS} VUs "
                        "for D, not recorded: a freshly started .NET API runs cold code for its first tens of seconds (default: %(default)s; 0: none)")
    faults = p.add_argument_group("faults (the workbench's failure runs; against this checkout's servers only)")
    faults.add_argument("--fault", action="append", default=[], type=fault_arg, metavar="KIND@TIME",
                        help="run ./exbuy fault KIND at TIME after the load starts (the first VU's first iteration, after k6's "
                             "start-up and the suite's set-up; the report says at which second of the measured requests the fault landed "
                             "and how many 201s came before and after it), e.g. kill-api@20s, restart-redis@15s, "
                             "restart-postgres@20s, pause-redis:5@10s, pause-redis-writes:7@10s (Redis refuses writes for 7 s), "
                             "stop-redlock:2:20@10s); repeatable. The suite's teardown waits (at most --settle) for its consistency "
                             "checks to hold, then the runner waits for a clean audit (at most --settle) and records the faults, the "
                             "settle time and the verdict: a run with a fault passes only when, after settling, the consistency checks "
                             "hold, the audit is clean and every answer was verified in PostgreSQL (in-flight checks and thresholds "
                             "may fail during the fault: reported as availability, not judged)")
    faults.add_argument("--settle", type=duration_arg, default="60s", metavar="D",
                        help="after a run with faults, how long the suite's consistency checks (its teardown, SETTLE_SECONDS) and "
                             "then the audit may take to come back clean (default: %(default)s)")
    out = p.add_argument_group("outputs")
    out.add_argument("--history", default=history.HISTORY, metavar="FILE",
                     help="history file to append to (default: perf/results/history.jsonl, untracked; the project's reference "
                          "measurements are recorded with --history perf/results/reference.jsonl)")
    out.add_argument("--report", metavar="FILE", help="the run's HTML report (default: perf/results/reports/last-SCENARIO.html; "
                     "matrix: perf/results/reports/matrix-SCENARIO-<time>.html)")
    out.add_argument("--k6-out", action="append", default=[], metavar="SPEC",
                     help="an extra k6 output, as k6's --out takes it (e.g. influxdb=http://localhost:8086/k6); repeatable")
    out.add_argument("--prometheus-rw", metavar="URL", help="send k6's metrics to Prometheus by remote write (k6 >= 0.42's "
                     "experimental-prometheus-rw output), e.g. http://localhost:9090/api/v1/write; tagged testid, system, lock_type")
    out.add_argument("--k6-dashboard", metavar="FILE", help="also save k6's own web dashboard as a standalone HTML report (k6 >= 0.49: "
                     "K6_WEB_DASHBOARD=true, K6_WEB_DASHBOARD_EXPORT=FILE)")
    out.add_argument("--dry-run", action="store_true", help="print the k6 commands (warm-up and measured run) and stop")


class NoLockType(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        parser.error("takes no --lock-type (persona-a is seed 001's script as it was, the server's default applies; "
                     "coupon claims take no stock)")


def positive(value):
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a positive number")
    return int(value)


def duration_arg(value):
    if not DURATION.match(value):
        raise argparse.ArgumentTypeError("looks like 30s, 2m or 1h")
    return value


def warmup_arg(value):
    if value != "0" and not DURATION.match(value):
        raise argparse.ArgumentTypeError("looks like 15s (0: none)")
    return value


FAULT = re.compile(r"^(kill-api|restart-redis|restart-postgres|pause-redis:\d+|pause-redis-writes:\d+|stop-redlock:[1-5](:\d+)?)@(\d+)(s|m)$")


def fault_arg(value):
    m = FAULT.match(value)
    if not m:
        raise argparse.ArgumentTypeError("looks like kill-api@20s (kinds: kill-api, restart-redis, restart-postgres, "
                                         "pause-redis:SECONDS, pause-redis-writes:SECONDS, stop-redlock:N[:SECONDS])")
    at = int(m.group(3)) * (60 if m.group(4) == "m" else 1)
    return {"kind": m.group(1), "at_s": at}


def seconds_of(duration):
    m = re.match(r"^(\d+)(ms|s|m|h)$", duration)
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)] if m else 0


class Faults:
    """Runs each --fault at its time after the load starts (./exbuy fault KIND), and waits for them all. The load starts
    when the first VU runs its first iteration — after k6's start-up and the suite's set-up (the coupon rush's /init of
    150,000 users takes seconds) —, which the entry script writes to k6's console file (accepted.STARTED). Without that
    file the faults are timed from k6's start. A fault whose load never started is not injected (and fails the run)."""

    def __init__(self, faults, console=None):
        self.faults = [dict(f) for f in faults]
        self.console = console
        self.k6_done = threading.Event()
        self.thread = threading.Thread(target=self._schedule, daemon=True)

    def _load_started(self):
        offset = 0
        while True:
            done = self.k6_done.is_set()
            try:
                with open(self.console, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
                if accepted.STARTED.encode() in chunk:
                    return True
                offset += max(0, len(chunk) - len(accepted.STARTED))  # a marker cut in half is read again
            except OSError:
                pass  # not written yet
            if done:
                return False
            time.sleep(0.2)

    def _schedule(self):
        if self.console and not self._load_started():
            for f in self.faults:
                f["exit"], f["not_injected"] = None, "the load never started"
            return
        timers = [threading.Timer(f["at_s"], self._run, args=(f,)) for f in self.faults]
        for t in timers:
            t.start()
        for t in timers:
            t.join()

    def _run(self, fault):
        exbuy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "exbuy")
        started = time.monotonic()
        fault["at_epoch"] = round(time.time(), 3)
        fault["exit"] = subprocess.run([exbuy, "fault", fault["kind"]], stdout=subprocess.DEVNULL).returncode
        fault["took_s"] = round(time.monotonic() - started, 1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.k6_done.set()
        self.thread.join()


def audit_request(base_url, env):
    """GET /api/audit, with X-Admin-Key when --env ADMIN_KEY=... is given (the audit is admin-only outside the local profile)."""
    key = next((kv.split("=", 1)[1] for kv in env or [] if kv.startswith("ADMIN_KEY=")), "")
    return urllib.request.Request(f"{base_url}/api/audit", headers={"X-Admin-Key": key} if key else {})


def settle(base_url, bound_s, env=None):
    """Polls the audit until it is clean; returns the seconds it took, or None when it stayed unclean for bound_s."""
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(audit_request(base_url, env), timeout=30) as res:
                if json.load(res).get("ok"):
                    return round(time.monotonic() - started, 1)
        except (urllib.error.URLError, OSError, ValueError):
            pass  # the API or a server is still coming back
        if time.monotonic() - started >= bound_s:
            return None
        time.sleep(2)


def env_arg(value):
    if not re.match(r"^[A-Z_][A-Z0-9_]*=.*$", value):
        raise argparse.ArgumentTypeError("takes KEY=VALUE (KEY in capitals)")
    return value


def parser():
    top = argparse.ArgumentParser(
        prog="./exbuy perf", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a k6 scenario against ExBuy (or a peer), record it and report it; compare recorded runs.",
        epilog="""verbs:
  SCENARIO [options]          run one scenario (see below); ./exbuy perf SCENARIO --help for its shape and options
  matrix SCENARIO [options]   the scenario once per lock_type, then one comparison report (--capacity: capacity per lock_type)
  capacity SCENARIO --slo SLO the highest arrival rate meeting the SLO (open model, in steps; perf/guide/capacity.md)
  compare [options]           compare recorded runs (systems, commits, lock types) in one report
  script PATH.js [options] [-- k6 options]
                              any k6 script (yours, a peer project's suite) run unmodified, recorded like a suite

scenarios:
""" + "\n".join(textwrap.fill(text, 112, initial_indent=f"  {name:<13} ", subsequent_indent=" " * 16) for name, text in SCENARIOS.items()) + """

examples:
  ./exbuy perf read-heavy --vus 500
  ./exbuy perf persona-a --shape flow_300vus
  ./exbuy perf matrix flash-sale --duration 20s
  ./exbuy perf compare --scenario read-heavy --system ExBuy,Django

Runs are appended to perf/results/history.jsonl (yours, untracked); the project's own measurements are in
perf/results/reference.jsonl, which compare reads too. Needs k6 (EXBUY_K6 or PATH); perf/README.md has the rest.""")
    verbs = top.add_subparsers(dest="verb", metavar="VERB", help="a scenario, matrix, capacity, compare or script (below)")
    for name, text in SCENARIOS.items():
        lock = "" if name in NO_LOCK_TYPE else " --lock-type pessimistic"
        p = verbs.add_parser(name, description=text, formatter_class=argparse.RawDescriptionHelpFormatter,
                             epilog=RUN_EPILOG.format(defaults=describe_defaults(name), s=name, lock=lock))
        add_run_options(p, name)
    m = verbs.add_parser("matrix", formatter_class=argparse.RawDescriptionHelpFormatter,
                         description="Run SCENARIO once for each lock_type (" + ", ".join(LOCK_TYPES) + ") with the same options, then write "
                         "perf/results/reports/matrix-SCENARIO-<time>.html and .md comparing them. lock_type=none oversells by design: its run "
                         "is judged by its own rule: shown as \"unsafe, as expected\", never as a pass, and failing the matrix only when its run "
                         "broke (a k6 script error, no load, 5xx answers). The matrix prints each strategy's verdict and exits 1 when any "
                         "strategy other than none failed (oversold, a dirty audit, an answer lost or lying, a k6 script error, failed "
                         "checks, crossed thresholds) or none's run broke.",
                         epilog="examples:\n  ./exbuy perf matrix flash-sale --duration 20s\n  ./exbuy perf matrix write-heavy --vus 30 --duration 10s\n\n"
                                "Scenarios that take no lock_type (persona-a, coupon-rush) have no matrix.")
    m.add_argument("scenario", metavar="SCENARIO", choices=[s for s in SCENARIOS if s not in NO_LOCK_TYPE],
                   help="one of: " + ", ".join(s for s in SCENARIOS if s not in NO_LOCK_TYPE))
    add_run_options(m, None, matrix=True)
    capacity.add_options(m, matrix=True)
    k = verbs.add_parser("capacity", formatter_class=argparse.RawDescriptionHelpFormatter, description=capacity.__doc__,
                         epilog="examples:\n  ./exbuy perf capacity read-heavy --slo 'p95<50ms'\n"
                                "  ./exbuy perf capacity flash-sale --slo 'p95<50ms,p99<100ms' --lock-type row --start 100 --step-duration 15s\n"
                                "  ./exbuy perf matrix flash-sale --capacity --slo 'p99<100ms'\n\n"
                                "--vus is the arrival-rate executor's VUs (all pre-allocated; default 200); --duration, --ramp-up, --ramp-down "
                                "do not apply (--step-duration). Prints the steps, records ONE history line (the knee step's figures and "
                                "`capacity`: the SLO, the knee, every step) and writes perf/results/reports/last-capacity-SCENARIO.html.")
    k.add_argument("scenario", metavar="SCENARIO", choices=[s for s in SCENARIOS if s not in CAPACITY_NOT],
                   help="one of: " + ", ".join(s for s in SCENARIOS if s not in CAPACITY_NOT))
    add_run_options(k, None, matrix=True)
    k.add_argument("--lock-type", choices=LOCK_TYPES, metavar="T", help="stock strategy (default: the server's, atomic)")
    capacity.add_options(k)
    c = verbs.add_parser("compare", formatter_class=argparse.RawDescriptionHelpFormatter,
                         description="Select recorded runs (the reference file's and yours) and put them side by side: a markdown table on "
                         "stdout (for a pull request) and a self-contained HTML report: each run's verdict first, latency over time, "
                         "percentiles, per step and per HTTP status, trends across commits, thresholds.",
                         epilog=compare_verb.EXAMPLES)
    compare_verb.add_arguments(c, "perf/results/reports")
    script_verb.add_parser(verbs, sys.modules[__name__])
    return top


# ------------------------------------------------------------------------------------------------ running
def find_k6():
    k6 = os.environ.get("EXBUY_K6") or "k6"
    found = shutil.which(k6)
    if found:
        return found
    print("exbuy perf: k6 is not installed (and not in the package registries these machines reach).\n"
          "  Install it from grafana's packages (https://grafana.com/docs/k6/latest/set-up/install-k6/), run it from the\n"
          "  grafana/k6 Docker image (docker compose --profile k6 run k6 ..., see perf/README.md), or point EXBUY_K6 at a\n"
          "  k6 binary you built from github.com/grafana/k6. Then run ./exbuy perf again.", file=sys.stderr)
    return None


def k6_commands(k6, scenario, args, run_id, points, summary, entry=None, console=None):
    """(warm-up command or None, measured command, the plan) for one run. The measured run goes through ENTRY (the
    suite wrapped by accepted.wrapper(), which records every accepted answer to the CONSOLE file) when given."""
    p = plan(scenario, args.vus, args.duration, args.ramp_up, args.ramp_down, getattr(args, "shape", None))
    script = os.path.join(K6_DIR, f"{scenario}.js")
    lock = getattr(args, "lock_type", None) or ""
    extra = [x for kv in args.env for x in ("-e", kv)]
    shape_env = ["-e", f"SCENARIO={p['shape']}"] if p["shape"] else []
    common = ["-e", f"BASE_URL={args.base_url}", "-e", f"LOCK_TYPE={lock}"]
    # A fault run's teardown waits for the suite's consistency checks to hold, at most --settle (lib/shop.js settle()).
    settle_env = ["-e", f"SETTLE_SECONDS={int(seconds_of(args.settle))}"] if getattr(args, "fault", None) else []
    warm = None
    if args.warmup != "0":
        # A short ramping run of the same script at WARMUP_VUS (flow_iterations would end after one flow per VU).
        warm_shape = {"flow_iterations": "flow_100vus"}.get(p["shape"], p["shape"])
        warm = [k6, "run", "--quiet", *k6version.no_summary(k6version.version(os.environ.get("EXBUY_K6") or k6 if args.dry_run else k6)), "--no-thresholds", *common, "-e", f"MAX_VU={WARMUP_VUS}", "-e", f"DURATION={args.warmup}",
                "-e", "RAMP_UP=2s", "-e", "RAMP_DOWN=1s", *(["-e", f"SCENARIO={warm_shape}"] if warm_shape else []), *extra, script]
    tags = [*k6version.tag("testid", run_id), *k6version.tag("system", args.system), *k6version.tag("lock_type", lock or "default")]
    outs = [x for spec in args.k6_out for x in ("--out", spec)]
    if args.prometheus_rw:
        outs += ["--out", "experimental-prometheus-rw"]
    shape_args = ["-e", f"MAX_VU={p['vus']}", "-e", f"DURATION={p['duration']}"]
    if p["ramp_up"]:
        shape_args += ["-e", f"RAMP_UP={p['ramp_up']}"]
    if p["ramp_down"]:
        shape_args += ["-e", f"RAMP_DOWN={p['ramp_down']}"]
    console_args = ["--console-output", console] if console else []
    run = [k6, "run", "--quiet", "--out", f"json={points}", "--summary-export", summary, *console_args, "--system-tags", SYSTEM_TAGS, *tags,
           *outs, *common, *shape_args, *shape_env, *settle_env, *extra, entry or script]
    return warm, run, p


def k6_env(args):
    env = dict(os.environ)
    if args.k6_dashboard:
        env.update(K6_WEB_DASHBOARD="true", K6_WEB_DASHBOARD_EXPORT=os.path.abspath(args.k6_dashboard))
    if args.prometheus_rw:
        env.setdefault("K6_PROMETHEUS_RW_SERVER_URL", args.prometheus_rw)
        env.setdefault("K6_PROMETHEUS_RW_TREND_STATS", "p(50),p(95),p(99),max")
    return env


class RssSampler:
    """The API's resident memory once a second while k6 runs (when the API is this checkout's)."""

    def __init__(self, pid):
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stop.is_set():
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    self.samples += [line.split()[1] for line in f if line.startswith("VmRSS:")]
            except OSError:
                return
            self.stop.wait(1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join(timeout=2)


def fetch_audit(base_url, system, path, env=None):
    try:
        with urllib.request.urlopen(audit_request(base_url, env), timeout=120) as res:
            body = res.read().decode()
    except urllib.error.HTTPError as e:
        if e.code == 404 and system != "ExBuy":
            return  # a peer without ExBuy's audit: recorded as "no audit", not as a violation
        body = json.dumps({"ok": False, "violations": [f"GET /api/audit answered {e.code}"]})
    except (urllib.error.URLError, OSError) as e:
        body = json.dumps({"ok": False, "violations": [f"GET /api/audit failed: {e}"]})
    with open(path, "w") as f:
        f.write(body)


def local_api(args):
    """The base URL, starting this checkout's API through ./exbuy when none was given. Returns (url, pid or None)."""
    if args.base_url:
        return args.base_url, None
    url = os.environ.get("EXBUY_PERF_API_URL") or f"http://localhost:{os.environ.get('EXBUY_API_PORT', '8080')}"
    if args.dry_run:
        return url, None
    up = os.environ.get("EXBUY_PERF_UP")
    if not up:
        sys.exit("perf: no --base-url, and not started through ./exbuy perf (which starts the API): pass --base-url")
    subprocess.run(shlex.split(up), check=True, stdout=subprocess.DEVNULL)
    return url, local_api_pid()


def local_api_pid():
    """The pid of this checkout's API (the first instance), from the file ./exbuy keeps; None when there is none."""
    pid_file = os.environ.get("EXBUY_PERF_API_PID_FILE")
    if pid_file and os.path.exists(pid_file):
        with open(pid_file) as f:
            return int(f.read().strip() or 0) or None
    return None


def say(text):
    print(f"\033[1m==>\033[0m {text}", file=sys.stderr)


def warm_up(warm, env):
    """Runs the warm-up (its output is not shown). A warm-up k6 refuses (a flag this k6 version does not know: k6 v2
    removed --no-summary; a script error) would otherwise go unseen and leave the measured run cold: it is said, with
    k6's last line, and the measured run goes ahead."""
    done = subprocess.run(warm, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    if done.returncode != 0:
        last = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "")
        say(f"warm-up FAILED (k6 exit {done.returncode}{': ' + last[:300] if last else ''}); the measured run is not warmed")
    return done.returncode


def run_one(scenario, args, matrix_run=False):
    """One measured run. Returns (exit code, the history id of the recorded line or None)."""
    k6 = "k6" if args.dry_run else find_k6()
    if not k6:
        return 2, None
    shapes, _ = shapes_of(scenario)
    if getattr(args, "shape", None) and (not shapes or args.shape not in shapes):
        print(f"perf: {scenario} has no shape {args.shape}" + (f" (shapes: {', '.join(shapes)})" if shapes else " (it takes --vus/--duration)"), file=sys.stderr)
        return 2, None
    # This checkout's API and database (also for the later runs of a matrix, which reuse the URL the first one started):
    # the accepted answers can be checked against PostgreSQL.
    args.ours = getattr(args, "ours", False) or not args.base_url
    ours = args.ours
    args.base_url, api_pid = local_api(args)
    if ours and api_pid is None and not args.dry_run:
        api_pid = local_api_pid()  # a later run of a matrix: the URL is set, the API is still this checkout's
    run_id = f"{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}-{scenario}" + (f"-{args.lock_type}" if getattr(args, "lock_type", None) else "")
    work = tempfile.mkdtemp(prefix="exbuy-perf-")
    try:
        points, summary = os.path.join(work, "points.json"), os.path.join(work, "summary.json")
        console, entry = os.path.join(work, "console.log"), os.path.join(work, f"accepted-{scenario}.js")
        if args.dry_run:
            warm, run, p = k6_commands(k6, scenario, args, run_id, points, summary)
            if warm:
                print("warm-up: " + shlex.join(warm))
            print("run: " + shlex.join(run))
            print("(the measured run goes through an entry script that imports the suite unmodified and records every accepted "
                  "answer to k6's --console-output: perf/runner/accepted.py wrapper SUITE)")
            return 0, None
        with open(entry, "w") as f:
            f.write(accepted.wrapper(os.path.join(K6_DIR, f"{scenario}.js")))
        warm, run, p = k6_commands(k6, scenario, args, run_id, points, summary, entry, console)
        env = k6_env(args)
        if warm:
            say(f"warm-up: {scenario} at {WARMUP_VUS} VUs for {args.warmup} (not recorded; --warmup 0 skips it)")
            warm_up(warm, env)
        lock = getattr(args, "lock_type", None)
        say(f"k6: {scenario}{' (' + p['shape'] + ')' if p['shape'] else ''}, {p['vus']} VUs for {p['duration']} against {args.base_url}"
            + (f" (lock_type={lock})" if lock else "") + f", run {run_id}")
        rss_path = os.path.join(work, "rss.kb")
        pg = os.environ.get("EXBUY_PERF_PG") if ours else None
        before, not_checked = None, None if pg else "no database to check against (a --base-url run; the runner reads PostgreSQL only for this checkout's API)"
        if pg:
            try:
                before = accepted.snapshot(pg)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                not_checked = f"PostgreSQL could not be asked before the run: {e}"
        fault_plan = getattr(args, "fault", None) or []
        if fault_plan:
            say("faults: " + ", ".join(f"{f['kind']} at {f['at_s']}s" for f in fault_plan))
        meter = cost.Meter.from_env(local=ours)
        with Faults(fault_plan, console) as faults, meter:
            if api_pid:
                with RssSampler(api_pid) as sampler:
                    status = subprocess.run(run, env=env).returncode
                with open(rss_path, "w") as f:
                    f.write("\n".join(sampler.samples) + "\n")
            else:
                status = subprocess.run(run, env=env).returncode
        settled = None
        if fault_plan:
            say(f"settling: waiting for a clean audit (at most {args.settle})")
            settled = settle(args.base_url, seconds_of(args.settle), args.env)
            say(f"settled in {settled}s" if settled is not None else f"did not settle within {args.settle}")
        records, answers, console_lines = accepted.read_all(console)
        if console_lines:
            shown = console_lines[-40:]
            print("k6 console" + (f" (last {len(shown)} of {len(console_lines)} lines)" if len(shown) < len(console_lines) else "") + ":\n  "
                  + "\n  ".join(shown), file=sys.stderr)
        if before is not None:
            # After the settle wait: claims are issued asynchronously, so missing answers are asked again for a while.
            bound = seconds_of(args.settle) if fault_plan else 30
            say(f"checking {sum(len(v) for v in records.values()):,} accepted answers and {len(answers):,} answers by request id against PostgreSQL")
            checked = accepted.verify(pg, records, before, bound, answers=answers)
        else:
            checked = accepted.not_checked(records, answers, not_checked)
        audit = os.path.join(work, "audit.json")
        fetch_audit(args.base_url, args.system, audit, args.env)
        if not os.path.exists(points):
            open(points, "w").close()
        line = summarize(points, scenario, lock or "default", p["vus"], p["duration"], args.base_url, audit, status, summary,
                         rss_path, args.env, args.system, args.label, p["shape"], run_id, command=shlex.join(run[1:]).replace(work + "/", ""))
        line["ramp_up"], line["ramp_down"] = p["ramp_up"], p["ramp_down"]
        line["accepted"] = checked
        line["k6_version"] = k6version.text(k6version.version(k6))
        if fault_plan:
            line["faults"], line["settle_s"], line["settle_bound_s"] = faults.faults, settled, seconds_of(args.settle)
            fault_landing(line)
            # The suite's teardown audit ran right after the load, before the settle wait: recorded, not judged. A fault
            # run is judged on the audit taken once the system settled — and so is the correctness it reports (split
            # after that audit is in: before, the split showed the teardown's audit under "after settling").
            line["teardown_audit_ok"] = not (line["checks"].get("audit ok") or {}).get("failed")
            try:
                with open(audit) as f:
                    line["audit_ok"] = bool(json.load(f).get("ok"))
            except (OSError, ValueError):
                line["audit_ok"] = None if args.system != "ExBuy" else False
            line["availability_during_fault"], line["correctness_after_settling"] = fault_split(line)
        line_id, verdict = record(line, meter, args.history)
        if fault_plan:
            print("faults: " + ", ".join(f"{f['kind']}@{f['at_s']}s (exit {f.get('exit')}, {f.get('took_s')}s"
                                         + (f", {landing_text(line, f)}" if landing_text(line, f) else "") + ")" for f in faults.faults)
                  + f"; settle {settled if settled is not None else 'NOT within ' + args.settle}" + ("s" if settled is not None else ""))
            print("availability during the fault (reported, not judged): " + availability_text(line["availability_during_fault"]))
            print("correctness after settling (judged): " + correctness_text(line["correctness_after_settling"]))
        print(f"verdict: {verdict_text(line)}")
        if args.lock_type == "none" and line.get("audit_ok") is False and scenario != "flash-sale":
            # The flash sale deletes its oversold product; the other scenarios' products stay oversold.
            print("warning: lock_type=none left the dataset oversold (that is what it demonstrates): every later run's audit "
                  "fails on stock_matches_ledger until ./exbuy seed --reset", file=sys.stderr)
        # A matrix given --report FILE puts each run's own report beside it (FILE-LOCK.html).
        report = (f"{os.path.splitext(args.report)[0]}-{lock}.html" if matrix_run and args.report else None if matrix_run else args.report) \
            or os.path.join(REPORTS, f"last-{scenario}.html")
        compare_verb.write_reports([(line_id, line)], report, quiet=True, title=f"{args.system} perf: {scenario} run {run_id}")
        return exit_code(verdict, line), run_id
    finally:
        shutil.rmtree(work, ignore_errors=True)


def record(line, meter, history_file):
    """Adds the cost to a run's line, appends it to the history and prints its table and cost. Returns (the line's id
    for compare --runs, the verdict)."""
    cost.record(line, meter)
    append(history_file, line)
    with open(history_file) as f:
        number = sum(1 for text in f if text.strip())
    line_id = ("r" if os.path.abspath(history_file) == history.REFERENCE else "") + str(number)
    print_table(line, history_file)
    cost.print_cost(line)
    return line_id, judge(line)[0]


def exit_code(verdict, line):
    """0 for a pass, lock_type=none's "unsafe, as expected" and a run without faults whose answers could not be
    verified (the verdict says so); a failed run exits with k6's code when k6 failed (99: thresholds crossed, named by
    the verdict) and 1 otherwise; a fault run that failed or is not verified exits 1 (what failed is its correctness,
    not k6's exit)."""
    if verdict in (PASS, UNSAFE) or (verdict == NOT_VERIFIED and not line.get("faults")):
        return 0
    if line.get("faults"):
        return 1
    return line.get("k6_exit") or 1


def matrix(args):
    """One run per lock_type, one report, each strategy's verdict; exits 1 when any strategy other than none did not
    pass (failed, or a fault run not verified) or none's run itself broke (report.judge), 0 otherwise."""
    if getattr(args, "capacity", False) or getattr(args, "slo", None):
        if not args.capacity:
            print("perf matrix: --slo goes with --capacity", file=sys.stderr)
            return 2
        return capacity_verb(args, matrix=True)
    ids, codes = [], {}
    for lock in LOCK_TYPES:
        args.lock_type = lock
        codes[lock], run_id = run_one(args.scenario, args, matrix_run=True)
        if run_id:
            ids.append(run_id)
    if args.dry_run:
        return 0
    if not ids:
        return 1
    runs = history.by_id(history.load(args.history), ids)
    base = os.path.splitext(args.report)[0] if args.report else \
        os.path.join(REPORTS, f"matrix-{args.scenario}-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}")
    print()
    compare_verb.write_reports(runs, base + ".html", base + ".md", title=f"{args.system} perf: {args.scenario}, one run per lock_type")
    by_lock = {r["lock_type"]: r for _, r in runs}
    print("\nmatrix verdicts:")
    for lock in LOCK_TYPES:
        r = by_lock.get(lock)
        status = judge(r)[0] if r else FAIL
        text = verdict_text(r) if r else "no run recorded (k6 missing or the run did not start)"
        if status == UNSAFE and text.startswith(UNSAFE):
            text = text[len(UNSAFE):].lstrip(": ")  # the status says it already
        print(f"  {lock:<12} {status.upper() if status in (PASS, FAIL) else status}" + ("" if status == PASS or not text else f": {text}"))
    failed = [lock for lock in LOCK_TYPES if codes.get(lock) != 0 or lock not in by_lock]
    print("matrix: " + (f"FAILED ({', '.join(failed)})" if failed else "every strategy passed; none unsafe, as expected"))
    return 1 if failed else 0


def capacity_verb(args, matrix=False):
    """perf capacity SCENARIO / perf matrix SCENARIO --capacity (perf/runner/capacity.py)."""
    problem = capacity.problems_of_options(args.scenario, args)
    if not problem and getattr(args, "lock_type", None) and args.scenario in NO_LOCK_TYPE:
        problem = f"{args.scenario} takes no --lock-type"
    if problem:
        print(f"perf capacity: {problem}", file=sys.stderr)
        return 2
    if matrix:
        return capacity.matrix(args, run_one, judge, LOCK_TYPES, compare_verb.write_reports, REPORTS)
    code, run_id = capacity.run_search(args.scenario, args, run_one, judge)
    if run_id:
        runs = history.by_id(history.load(args.history), [run_id])
        compare_verb.write_reports(runs, args.report or os.path.join(REPORTS, f"last-capacity-{args.scenario}.html"), quiet=True,
                                   title=f"{args.system} perf: {args.scenario} capacity under {args.slo}, run {run_id}")
    return code


def main(argv=None):
    argv, k6_args = script_verb.split_k6_args(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    if args.verb is None:
        parser().print_help()
        return 2
    if args.verb == "compare":
        return compare_verb.compare(args, REPORTS)
    if args.verb == "matrix":
        return matrix(args)
    if args.verb == "script":
        args.k6_args = k6_args
        return script_verb.run(args, sys.modules[__name__])
    if args.verb == "capacity":
        return capacity_verb(args)
    return run_one(args.verb, args)[0]


if __name__ == "__main__":
    sys.exit(main())
