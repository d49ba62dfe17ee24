#!/usr/bin/env python3
"""`./exbuy perf script PATH.js [options] [-- k6 options]`: any k6 script through the runner, unmodified — a peer's
own suite (the Django project's k6-scripts/read-heavy.js, the Spring shop's scripts/test.js) or your own. k6 runs the
script with its own options, scenarios, thresholds and handleSummary; the runner only adds outputs k6 writes whatever
the script does (--out json=POINTS, the point stream; --summary-export, the thresholds and counters: k6 writes it
beside a handleSummary's own files), two tags (testid, system) and -e BASE_URL. From those it records the same history
line as a suite's run (scenario = script:NAME@SHA, the first 8 hex digits of the script's SHA-256), the cost, the HTML
report and, against this checkout's API, the audit and the accepted-answer check. perf/guide/scripts.md is the guide.
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import accepted
import compare as compare_verb
import cost
import history
import k6version
from report import verdict_text
from summarize import WANTED, summarize

DESCRIPTION = """Run a k6 script of your own (or a peer project's suite) through the runner, unmodified: k6 runs it with its own
options, scenarios, thresholds and handleSummary. Everything after -- goes to `k6 run` as it is (e.g. -- --vus 50
--duration 30s, which override the script's own load shape, as k6 does). Recorded like a suite's run: one history line
(scenario script:NAME@SHA8, system, commit, k6 version), the cost (CPU ms per request of k6 always; of the API,
PostgreSQL and Redis when the system is this checkout's API), perf/results/reports/last-script-NAME.html, and against
this checkout's API the audit and the accepted-answer check."""

EPILOG = """examples:
  ./exbuy perf script ~/django-exbuy/k6-scripts/read-heavy.js -- --vus 50 --duration 30s
                                  the Django project's own read-heavy suite against this checkout's API
  ./exbuy perf script ~/django-exbuy/k6-scripts/read-heavy.js --base-url http://localhost:8000 --system Django -- --vus 50 --duration 30s
                                  the same suite against Django itself
  ./exbuy perf compare --scenario script:read-heavy.js@1a2b3c4d --system ExBuy,Django
                                  the two side by side (the scenario is printed after each run)
  ./exbuy perf script my.js --dry-run -- --iterations 10

Steps: a request the script named (params.tags.name) is its own step; an unnamed one is METHOD + its path with the ids
(numbers, UUIDs, long hex) written {id} and the query left out, so that /api/products/17 and /api/products/42 are one
step. Requests made in setup() and teardown() are reported as 0_setup ... and 99_teardown ... and kept out of the
totals, as a suite's are.

The accepted-answer check (this checkout's API only): the script is run through the same entry script as the suites
(perf/runner/accepted.py: it imports the script unmodified and re-exports everything it exports, handleSummary
included), which gives every write without an X-Request-Id one and records every answer on the contract's writing
routes; they are then checked against PostgreSQL. A script that writes nothing ExBuy records (reads only) has nothing
to check: "0 accepted answers". --no-answers runs the script file itself instead (nothing checked: "not verified").
Against --base-url no database is read: the answers are "not verified", and the audit is GET BASE_URL/api/audit (a
peer without one is recorded as "no audit").

The script's own console output goes to k6's --console-output file when answers are recorded (printed after the run,
the last 40 lines); otherwise it goes where k6 puts it. Exit code: as a suite's run (0 pass or not verified; k6's code
when k6 failed, 99 = the script's thresholds crossed; 1 otherwise)."""

ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,})$")
URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*([^?#]*)")


def add_parser(verbs, perf):
    p = verbs.add_parser("script", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                         usage="./exbuy perf script PATH.js [options] [-- k6 run options]")
    p.add_argument("path", metavar="PATH.js", help="the k6 script (JavaScript or, k6 >= 0.57, TypeScript); run unmodified")
    target = p.add_argument_group("what is tested and how it is recorded")
    target.add_argument("--base-url", metavar="URL", help="the system under test, given to the script as -e BASE_URL=URL (default: "
                        "this checkout's API, started by ./exbuy on http://localhost:$EXBUY_API_PORT). A script that ignores "
                        "__ENV.BASE_URL sends its requests where it says.")
    target.add_argument("--system", default="ExBuy", metavar="NAME", help="name of the system under test, recorded (default: %(default)s)")
    target.add_argument("--label", metavar="TEXT", help="free text recorded with the run")
    target.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", type=perf.env_arg,
                        help="a script variable (k6 -e KEY=VALUE), recorded; repeatable")
    target.add_argument("--lock-type", choices=perf.LOCK_TYPES, metavar="T", help="recorded as the run's lock_type and given to "
                        "the script as -e LOCK_TYPE=T (only a script that sends it, as ExBuy's suites do, uses it)")
    target.add_argument("--warmup", type=perf.warmup_arg, default="0", metavar="D", help=f"before the measured run, the script at "
                        f"{perf.WARMUP_VUS} VUs for D (k6 --vus/--duration over its own shape), not recorded (default: %(default)s, none)")
    target.add_argument("--no-answers", action="store_true", help="run the script file itself, not through the entry script that "
                        "records the answers (this checkout's API: the accepted answers are then not verified)")
    out = p.add_argument_group("outputs")
    out.add_argument("--history", default=history.HISTORY, metavar="FILE", help="history file to append to (default: perf/results/history.jsonl)")
    out.add_argument("--report", metavar="FILE", help="the run's HTML report (default: perf/results/reports/last-script-NAME.html)")
    out.add_argument("--k6-out", action="append", default=[], metavar="SPEC", help="an extra k6 output (k6 --out SPEC); repeatable")
    out.add_argument("--dry-run", action="store_true", help="print the k6 commands and stop")
    p.set_defaults(k6_dashboard=None, prometheus_rw=None, k6_args=[])
    return p


def split_k6_args(argv):
    """(the runner's arguments, k6's): everything after the first -- of a `script` command goes to k6 run."""
    argv = list(argv)
    if argv[:1] == ["script"] and "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def scenario_of(path):
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return f"script:{os.path.basename(path)}@{sha[:8]}", sha


def step_of(tags):
    """The step a request is reported under: its name tag when the script gave one; k6's default name (the URL)
    becomes METHOD /path/{id}; set-up and teardown requests get the suites' prefixes (kept out of the totals)."""
    name = tags.get("name") or tags.get("url") or "?"
    m = URL.match(name)
    if m:
        path = "/".join("{id}" if ID_SEGMENT.match(seg) else seg for seg in (m.group(1) or "/").split("/")) or "/"
        name = f"{tags.get('method', '')} {path}".strip()
    group = tags.get("group") or ""
    if group.startswith("::setup"):
        return f"0_setup {name}"
    if group.startswith("::teardown"):
        return f"99_teardown {name}"
    return name


def steps_stream(src, dst):
    """Copies the point lines summarize() reads, each request's name tag replaced by its step (step_of)."""
    with open(src) as inp, open(dst, "w") as out:
        for line in inp:
            if not any(w in line for w in WANTED):
                continue
            try:
                point = json.loads(line)
            except ValueError:
                continue
            if point.get("type") != "Point":
                continue
            tags = point["data"].get("tags") or {}
            if point.get("metric") != "vus":
                tags["name"] = step_of(tags)
                point["data"]["tags"] = tags
            out.write(json.dumps(point, separators=(",", ":")) + "\n")


def entry_path(script, run_id, work):
    """Where the entry script goes: beside the script (its relative imports and open() paths resolve as when k6 runs
    it by hand), or in the run's folder when the script's folder is not writable."""
    folder = os.path.dirname(os.path.abspath(script))
    if os.access(folder, os.W_OK):
        return os.path.join(folder, f".exbuy-entry-{run_id}.js")
    return os.path.join(work, "entry.js")


def commands(k6, v, args, script, run_id, points, summary, entry=None, console=None, warm_vus=20):
    """(warm-up command or None, the measured command)."""
    env = ["-e", f"BASE_URL={args.base_url}", *[x for kv in args.env for x in ("-e", kv)]]
    warm = None
    if args.warmup != "0":
        warm = [k6, "run", "--quiet", "--address", "", *k6version.no_summary(v), "--no-thresholds", *env, *args.k6_args,
                "--vus", str(warm_vus), "--duration", args.warmup, script]
    outs = [x for spec in args.k6_out for x in ("--out", spec)]
    # --address '': no REST API server (k6 binds localhost:6565 otherwise, and warns when another k6 holds it)
    run = [k6, "run", "--quiet", "--address", "", "--out", f"json={points}", "--summary-export", summary,
           *(["--console-output", console] if console else []),
           *k6version.tag("testid", run_id), *k6version.tag("system", args.system), *outs, *env, *args.k6_args, entry or script]
    return warm, run


def run(args, perf):
    """One measured run of a user's script; returns the exit code. PERF is the runner's module (its k6, API, audit
    and RSS helpers)."""
    script = os.path.abspath(os.path.expanduser(args.path))
    if not os.path.isfile(script):
        print(f"perf script: no such file: {args.path}", file=sys.stderr)
        return 2
    if args.lock_type:
        args.env = args.env + [f"LOCK_TYPE={args.lock_type}"]
    k6 = "k6" if args.dry_run else perf.find_k6()
    if not k6:
        return 2
    v = k6version.version(os.environ.get("EXBUY_K6") or k6 if args.dry_run else k6)
    scenario, sha = scenario_of(script)
    ours = not args.base_url
    args.base_url, api_pid = perf.local_api(args)
    if ours and api_pid is None and not args.dry_run:
        api_pid = perf.local_api_pid()
    stem = os.path.splitext(os.path.basename(script))[0]
    run_id = f"{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}-script-{stem}"
    work = tempfile.mkdtemp(prefix="exbuy-perf-script-")
    pg = os.environ.get("EXBUY_PERF_PG") if ours else None
    record_answers = bool(pg) and not args.no_answers
    entry = entry_path(script, run_id, work) if record_answers else None
    try:
        points, summary, console = (os.path.join(work, n) for n in ("points.json", "summary.json", "console.log"))
        warm, measured = commands(k6, v, args, script, run_id, points, summary, entry, console if record_answers else None,
                                  perf.WARMUP_VUS)
        if args.dry_run:
            if warm:
                print("warm-up: " + shlex.join(warm))
            print("run: " + shlex.join(measured))
            return 0
        if entry:
            with open(entry, "w") as f:
                f.write(accepted.wrapper(script))
        env = perf.k6_env(args)
        if warm:
            perf.say(f"warm-up: {os.path.basename(script)} at {perf.WARMUP_VUS} VUs for {args.warmup} (not recorded)")
            perf.warm_up(warm, env)
        perf.say(f"k6 {k6version.text(v) or '(version unknown)'}: {scenario} against {args.base_url}, run {run_id}"
                 + (f" (k6 options: {shlex.join(args.k6_args)})" if args.k6_args else ""))
        before, not_checked = None, None
        if not ours:
            not_checked = "no database to check against (a --base-url run; the runner reads PostgreSQL only for this checkout's API)"
        elif args.no_answers:
            not_checked = "--no-answers: the script ran without the entry script that records the answers"
        elif not pg:
            not_checked = "no database to check against"
        if record_answers:
            try:
                before = accepted.snapshot(pg)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                not_checked = f"PostgreSQL could not be asked before the run: {e}"
        rss_path = os.path.join(work, "rss.kb")
        meter = cost.Meter.from_env(local=ours)
        with meter:
            if api_pid:
                with perf.RssSampler(api_pid) as sampler:
                    status = subprocess.run(measured, env=env).returncode
                with open(rss_path, "w") as f:
                    f.write("\n".join(sampler.samples) + "\n")
            else:
                status = subprocess.run(measured, env=env).returncode
        records, answers, console_lines = accepted.read_all(console) if record_answers else ({}, [], [])
        if console_lines:
            shown = console_lines[-40:]
            print("k6 console" + (f" (last {len(shown)} of {len(console_lines)} lines)" if len(shown) < len(console_lines) else "")
                  + ":\n  " + "\n  ".join(shown), file=sys.stderr)
        if before is not None:
            perf.say(f"checking {sum(len(x) for x in records.values()):,} accepted answers and {len(answers):,} answers by request id against PostgreSQL")
            checked = accepted.verify(pg, records, before, 30, answers=answers)
        else:
            checked = accepted.not_checked(records, answers, not_checked)
        audit = os.path.join(work, "audit.json")
        perf.fetch_audit(args.base_url, args.system, audit, args.env)
        steps = os.path.join(work, "steps.json")
        if os.path.exists(points):
            steps_stream(points, steps)
        else:
            open(steps, "w").close()
        command = shlex.join(measured[1:]).replace(work + "/", "")
        if entry:
            command = command.replace(entry, script + " (through the answer-recording entry script)")
        line = summarize(steps, scenario, args.lock_type or "default", 0, "script", args.base_url, audit, status, summary, rss_path,
                         args.env, args.system, args.label, None, run_id, command=command)
        if line.get("measured_from") and line.get("measured_to"):
            elapsed = (datetime.datetime.fromisoformat(line["measured_to"]) - datetime.datetime.fromisoformat(line["measured_from"])).total_seconds()
            line["duration"] = f"{max(1, round(elapsed))}s"
        if not line.get("vus"):
            # A run too short for k6's once-a-second VU gauge has no vus_max in its summary: the point stream's, if any.
            line["vus"] = max((n for n in (line.get("series") or {}).get("vus") or [] if n), default=None) or asked_vus(args.k6_args)
        line["vus_requested"] = None
        line["k6_version"] = k6version.text(v)
        line["script"] = {"name": os.path.basename(script), "path": script, "sha256": sha, "k6_args": args.k6_args,
                          "answers": "recorded through the entry script" if record_answers else "not recorded",
                          "handle_summary": has_handle_summary(script)}
        line["accepted"] = checked
        line_id, verdict = perf.record(line, meter, args.history)
        print(f"verdict: {verdict_text(line)}")
        print(f"scenario: {scenario}  (perf compare --scenario {scenario} --system {args.system},OTHER sets it against another system)")
        report = args.report or os.path.join(perf.REPORTS, f"last-script-{stem}.html")
        compare_verb.write_reports([(line_id, line)], report, quiet=True, title=f"{args.system} perf: {scenario} run {run_id}")
        return perf.exit_code(verdict, line)
    finally:
        if entry and os.path.exists(entry):
            os.remove(entry)
        shutil.rmtree(work, ignore_errors=True)


def asked_vus(k6_args):
    """The VUs given to k6 after -- (--vus N, -u N, --vus=N), or None."""
    for i, a in enumerate(k6_args):
        if a in ("--vus", "-u") and i + 1 < len(k6_args) and k6_args[i + 1].isdigit():
            return int(k6_args[i + 1])
        if a.startswith("--vus=") and a[6:].isdigit():
            return int(a[6:])
    return None


HANDLE_SUMMARY = re.compile(r"\bexport\s+(async\s+)?function\s+handleSummary\b|\bexport\s*\{[^}]*\bhandleSummary\b|\bexport\s+const\s+handleSummary\b")


def has_handle_summary(script):
    """Whether the script exports a handleSummary (recorded: its own summary files and stdout are its business)."""
    try:
        with open(script, encoding="utf-8", errors="replace") as f:
            return bool(HANDLE_SUMMARY.search(f.read()))
    except OSError:
        return False
