"""What one request costs: CPU time of the API, PostgreSQL, Redis and k6 per measured request, and PostgreSQL
statements per request (pg_stat_statements), over a run's measured window (the warm-up excluded).

CPU is read from /proc/<pid>/stat (utime + stime, in clock ticks) once a second while k6 runs:
- a process *tree* is its root's own time, its reaped children's (cutime + cstime: a PostgreSQL backend that exited
  during the run is counted there once the postmaster has waited for it) and its live children's (utime + stime +
  cutime + cstime). PostgreSQL is the postmaster (postmaster.pid of the cluster the API uses) and every backend and
  auxiliary process under it; Redis is each redis-server (the data node and the five RedLock nodes); the API is every
  process named by the API pid files (several with more than one instance); k6 is the runner's own children (k6 is
  the only one running while the run is measured);
- a group's counter adds, for every root it has seen, what that root used since it was first seen: a root that
  started after the sampler (an API restarted by a fault) counts from zero; a root that exits keeps what it had at
  its last sample (its last second is lost, not its run);
- the counters at the first and the last measured request (linear between samples) give the CPU seconds of the
  measured window; divided by the measured requests: ms of CPU per request; divided by the window: cores in use.

Statements: pg_stat_statements of the API's database read before and after k6 (the runner's own queries, which
mention pg_stat_statements, left out): the calls' difference over every request of the run (set-up and teardown
included, since their statements are), and the five statements with the most execution time over the run.

Where it comes from (set by ./exbuy perf; a run with --base-url measures k6 only):
  EXBUY_PERF_API_PID_FILES    ':'-separated pid files or globs of the API processes
  EXBUY_PERF_PG_PID_FILE      the cluster's postmaster.pid
  EXBUY_PERF_REDIS_PID_FILES  ':'-separated pid files or globs of the redis-server processes
  EXBUY_PERF_PG               libpq connection string of the API's database (psql reads pg_stat_statements)
"""
import glob
import json
import os
import subprocess
import sys
import threading
import time

from charts import bar_chart, esc, line_chart

GROUPS = ("api", "postgres", "redis", "k6")
NAMES = {"api": "API", "postgres": "PostgreSQL", "redis": "Redis", "k6": "k6"}
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ------------------------------------------------------------------------------------------------ /proc
def parse_stat(text):
    """(ppid, own ticks, reaped children's ticks, start time in ticks after boot) from one /proc/<pid>/stat line.
    The command name (field 2) may hold spaces and parentheses: the fields are counted from its last ')'."""
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state): field n is rest[n - 3].
    ppid, utime, stime, cutime, cstime, start = (int(rest[i]) for i in (1, 11, 12, 13, 14, 19))
    return ppid, utime + stime, cutime + cstime, start


def read_table(proc="/proc"):
    """{pid: (ppid, own, children, start)} of every process (one pass over proc)."""
    table = {}
    for name in os.listdir(proc):
        if not name.isdigit():
            continue
        try:
            with open(os.path.join(proc, name, "stat")) as f:
                table[int(name)] = parse_stat(f.read())
        except (OSError, ValueError, IndexError):
            continue  # it exited while we looked
    return table


def uptime_ticks(proc="/proc"):
    with open(os.path.join(proc, "uptime")) as f:
        return float(f.read().split()[0]) * TICKS


def tree_ticks(table, root, include_root=True):
    """CPU ticks of root and its children (live and reaped); None when root is not running."""
    if root not in table:
        return None
    _, own, reaped, _ = table[root]
    total = (own if include_root else 0) + reaped
    for pid, (ppid, child_own, child_reaped, _) in table.items():
        if ppid == root:
            total += child_own + child_reaped
    return total


def read_pid(path):
    try:
        with open(path) as f:
            first = f.readline().strip()
        return int(first) if first.isdigit() else None
    except OSError:
        return None


def pids_of(patterns):
    """The pids in the files matched by ':'-separated paths or globs (read again at every sample: pids change)."""
    pids = []
    for pattern in (p for p in (patterns or "").split(":") if p):
        for path in sorted(glob.glob(pattern)):
            pid = read_pid(path)
            if pid and pid not in pids:
                pids.append(pid)
    return pids


class Counter:
    """One group's CPU ticks since the sampler started, summed over every root it has seen."""

    def __init__(self, started_ticks):
        self.started, self.baseline, self.last = started_ticks, {}, {}

    def update(self, table, roots, include_root=True):
        for root in roots:
            ticks = tree_ticks(table, root, include_root)
            if ticks is None:
                continue
            if root not in self.baseline:
                # Started after the sampler (a restarted API): all of its time is in the window; else from now.
                self.baseline[root] = 0 if table[root][3] > self.started else ticks
            self.last[root] = max(ticks, self.last.get(root, 0))
        return self.total()

    def total(self):
        return sum(self.last[r] - self.baseline[r] for r in self.last)


# ------------------------------------------------------------------------------------------------ sampling
class Meter:
    """Samples the groups' CPU once a second while k6 runs and reads pg_stat_statements before and after it.
    `with Meter.from_env(local): ...` around the measured k6 run; then record(line, meter)."""

    def __init__(self, sources, pg=None, proc="/proc", interval=1.0, clock=time.time):
        self.sources, self.pg, self.proc, self.interval, self.clock = sources, pg, proc, interval, clock
        self.samples = []            # [(epoch seconds, {group: ticks})]
        self.counters = {}
        self.statements_before = self.statements_after = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    @classmethod
    def from_env(cls, local, env=os.environ):
        """local: the run measures this checkout's API (no --base-url): API, PostgreSQL and Redis too; always k6."""
        sources = {"k6": ("children", os.getpid())}
        pg = None
        if local:
            if env.get("EXBUY_PERF_API_PID_FILES") or env.get("EXBUY_PERF_API_PID_FILE"):
                sources["api"] = ("files", env.get("EXBUY_PERF_API_PID_FILES") or env.get("EXBUY_PERF_API_PID_FILE"))
            if env.get("EXBUY_PERF_PG_PID_FILE"):
                sources["postgres"] = ("files", env["EXBUY_PERF_PG_PID_FILE"])
            if env.get("EXBUY_PERF_REDIS_PID_FILES"):
                sources["redis"] = ("files", env["EXBUY_PERF_REDIS_PID_FILES"])
            pg = env.get("EXBUY_PERF_PG")
        return cls(sources, pg)

    def sample(self):
        table = read_table(self.proc)
        if not self.counters:
            started = uptime_ticks(self.proc)
            self.counters = {g: Counter(started) for g in self.sources}
        values = {}
        for group, (kind, what) in self.sources.items():
            if kind == "children":   # the runner's children (k6), not the runner itself
                values[group] = self.counters[group].update(table, [what], include_root=False)
            else:
                values[group] = self.counters[group].update(table, pids_of(what))
        self.samples.append((self.clock(), values))
        self.roots = {g: len(c.last) for g, c in self.counters.items()}

    def _loop(self):
        while not self.stop.wait(self.interval):
            try:
                self.sample()
            except (OSError, ValueError):
                pass  # a process that vanished mid-read; the next second reads again

    def __enter__(self):
        self.statements_before = statements_snapshot(self.pg)
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join(timeout=5)
        self.sample()
        self.statements_after = statements_snapshot(self.pg)


def value_at(samples, group, t):
    """A group's counter at epoch time t, linear between the samples around it (clamped to the first and last)."""
    points = [(s, v[group]) for s, v in samples if group in v]
    if not points:
        return None
    if t <= points[0][0]:
        return points[0][1]
    for (s0, v0), (s1, v1) in zip(points, points[1:]):
        if s0 <= t <= s1:
            return v0 if s1 == s0 else v0 + (v1 - v0) * (t - s0) / (s1 - s0)
    return points[-1][1]


def window_of(samples, first, last):
    """The measured window (first to last measured request, epoch seconds) within the sampled span; the sampled span
    when the requests' times are unknown or outside it (a replayed stream)."""
    if not samples:
        return None
    lo, hi = samples[0][0], samples[-1][0]
    if first is not None and last is not None and last > first:
        a, b = max(first, lo), min(last, hi)
        if b > a:
            return a, b
    return (lo, hi) if hi > lo else None


def cpu_cost(samples, window, requests, ticks=TICKS):
    """{group: {"cpu_s", "ms_per_request", "cores"}} over the window."""
    if not window or not samples:
        return {}
    a, b = window
    out = {}
    for group in GROUPS:
        v0, v1 = value_at(samples, group, a), value_at(samples, group, b)
        if v0 is None or v1 is None:
            continue
        seconds = max(0.0, (v1 - v0) / ticks)
        out[group] = {"cpu_s": round(seconds, 3),
                      "ms_per_request": round(seconds * 1000 / requests, 4) if requests else None,
                      "cores": round(seconds / (b - a), 3)}
    return out


def cores_series(samples, start, seconds, ticks=TICKS):
    """{group: [cores in second t for t in seconds]}: None outside the sampled span."""
    if not samples or start is None:
        return {}
    lo, hi = samples[0][0], samples[-1][0]
    out = {}
    for group in GROUPS:
        if not any(group in v for _, v in samples):
            continue
        values = []
        for t in seconds:
            a, b = start + t, start + t + 1
            if a < lo or b > hi:
                values.append(None)
            else:
                values.append(round((value_at(samples, group, b) - value_at(samples, group, a)) / ticks, 3))
        out[group] = values
    return out


# ------------------------------------------------------------------------------------------------ pg_stat_statements
STATEMENTS_SQL = """
select json_build_object(
  'entries', coalesce((select json_agg(json_build_object(
      'key', s.userid::text || ':' || s.dbid::text || ':' || coalesce(s.queryid::text, md5(s.query)),
      'calls', s.calls, 'ms', s.total_exec_time, 'rows', s.rows, 'query', left(s.query, 500)))
    from pg_stat_statements s
    where s.dbid = (select oid from pg_database where datname = current_database())
      and s.query not ilike '%pg_stat_statements%'), '[]'::json),
  'dealloc', (select dealloc from pg_stat_statements_info))
"""


def statements_snapshot(conninfo, psql="psql"):
    """{"entries": [...], "dealloc": n} of the API's database, or {"error": text}; None without a database."""
    if not conninfo:
        return None
    try:
        done = subprocess.run([psql, "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", STATEMENTS_SQL],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"error": f"psql: {e}"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["psql failed"])[-1]}
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"error": "psql answered no JSON"}


def statements_delta(before, after, requests, top=5):
    """Statements over the run: calls and execution time per request, and the `top` statements by execution time.
    An entry missing before (new, or evicted and back) counts whole; a counter that went down was reset: its new value."""
    if before is None or after is None:
        return None
    for snap in (before, after):
        if "error" in snap:
            return {"error": snap["error"]}
    old = {e["key"]: e for e in before.get("entries") or []}
    rows = []
    for e in after.get("entries") or []:
        o = old.get(e["key"])
        calls, ms, nrows = e["calls"], e["ms"], e.get("rows") or 0
        if o and o["calls"] <= calls:
            calls, ms, nrows = calls - o["calls"], ms - o["ms"], nrows - (o.get("rows") or 0)
        if calls > 0:
            rows.append({"query": " ".join(e["query"].split()), "calls": calls, "total_ms": round(ms, 2),
                         "mean_ms": round(ms / calls, 4), "rows": nrows})
    calls = sum(r["calls"] for r in rows)
    total_ms = sum(r["total_ms"] for r in rows)
    evicted = None
    if before.get("dealloc") is not None and after.get("dealloc") is not None:
        evicted = after["dealloc"] - before["dealloc"]
    rows.sort(key=lambda r: -r["total_ms"])
    return {"calls": calls, "requests": requests,
            "per_request": round(calls / requests, 3) if requests else None,
            "exec_ms_per_request": round(total_ms / requests, 4) if requests else None,
            "distinct": len(rows), "evicted": evicted, "top": rows[:top]}


# ------------------------------------------------------------------------------------------------ the history line
def epoch(stamp):
    import datetime
    return datetime.datetime.fromisoformat(stamp).timestamp() if stamp else None


def record(line, meter):
    """Adds `cost` (and the per-second CPU series) to a history line from a finished Meter."""
    if meter is None or not meter.samples:
        return line
    first, last = epoch(line.get("measured_from")), epoch(line.get("measured_to"))
    window = window_of(meter.samples, first, last)
    requests = line.get("requests") or 0
    every = sum(s.get("requests", 0) for s in (line.get("steps") or {}).values())
    cost = {"window_s": round(window[1] - window[0], 2) if window else None, "requests": requests,
            "cpu": cpu_cost(meter.samples, window, requests),
            "processes": {g: n for g, n in getattr(meter, "roots", {}).items() if g != "k6"},
            "statements": statements_delta(meter.statements_before, meter.statements_after, every)}
    s = cost["statements"]
    if s and "calls" in s and line.get("iterations"):
        # Per iteration of the script: a persona's whole flow, one claim, one paid order.
        s["iterations"] = line["iterations"]
        s["per_iteration"] = round(s["calls"] / line["iterations"], 2)
    line["cost"] = cost
    series = line.get("series")
    if series and first is not None:
        per = cores_series(meter.samples, int(first), series["t"])
        if per:
            series["cpu_cores"] = per
    return line


def cost_of(run, group):
    return (((run.get("cost") or {}).get("cpu") or {}).get(group) or {}).get("ms_per_request")


def statements_of(run):
    s = (run.get("cost") or {}).get("statements") or {}
    return s.get("per_request")


def fmt(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


def print_cost(line, out=sys.stdout):
    cost = line.get("cost")
    if not cost:
        return
    cpu = cost.get("cpu") or {}
    if cpu:
        print(f"CPU per request, ms (measured window {cost.get('window_s')} s, {cost.get('requests'):,} requests): "
              + "  ".join(f"{NAMES[g]} {fmt(cpu[g]['ms_per_request'])}" for g in GROUPS if g in cpu)
              + "   cores: " + "  ".join(f"{NAMES[g]} {cpu[g]['cores']:.2f}" for g in GROUPS if g in cpu), file=out)
    s = cost.get("statements")
    if s and "error" in s:
        print(f"statements: not measured ({s['error']}; ./exbuy up loads pg_stat_statements)", file=out)
    elif s:
        print(f"statements per request {fmt(s['per_request'], 2)}"
              + (f", per iteration {s['per_iteration']:.2f}" if s.get("per_iteration") is not None else "")
              + f" ({s['calls']:,} calls over {s['requests']:,} requests; "
              f"{fmt(s['exec_ms_per_request'])} ms PostgreSQL execution per request"
              + (f"; {s['evicted']} entries evicted, a lower bound" if s.get("evicted") else "") + ")", file=out)
        for n, t in enumerate(s["top"], 1):
            print(f"  {n}. {t['total_ms']:>10,.1f} ms {t['calls']:>9,} calls {t['mean_ms']:>8.3f} ms/call  {t['query'][:90]}", file=out)


# ------------------------------------------------------------------------------------------------ reports
def md_cell(text):
    return text.replace("|", "\\|")


def markdown(runs):
    """The cost table (and each run's top statements) for the markdown report; '' when no run recorded a cost."""
    costed = [(i, r) for i, r in runs if r.get("cost")]
    if not costed:
        return ""
    out = ["", "| run | API CPU ms/req | PostgreSQL CPU ms/req | Redis CPU ms/req | k6 CPU ms/req | statements/req | statements/iteration "
           "| PG exec ms/req | window s |", "|---|---|---|---|---|---|---|---|---|"]
    for i, r in costed:
        s = r["cost"].get("statements") or {}
        out.append(f"| #{i} | " + " | ".join(fmt(cost_of(r, g)) for g in GROUPS) + f" | {fmt(s.get('per_request'), 2)} | "
                   f"{fmt(s.get('per_iteration'), 2)} | {fmt(s.get('exec_ms_per_request'))} | {r['cost'].get('window_s') or ''} |")
    for i, r in costed:
        top = ((r["cost"].get("statements") or {}).get("top")) or []
        if top:
            out += ["", f"Top statements of #{i} by execution time:", "", "| total ms | calls | ms/call | statement |", "|---|---|---|---|"]
            out += [f"| {t['total_ms']:,.1f} | {t['calls']:,} | {t['mean_ms']:.3f} | `{md_cell(t['query'][:160])}` |" for t in top]
    return "\n".join(out) + "\n"


def html(runs, names):
    """The cost section of the HTML report: a table, CPU per request by process, CPU over time (one run) and the top
    statements; '' when no run recorded a cost."""
    costed = [(nm, i, r) for nm, (i, r) in zip(names, runs) if r.get("cost")]
    if not costed:
        return ""
    rows = "".join(
        f"<tr><td>#{esc(i)}</td>" + "".join(f"<td>{fmt(cost_of(r, g))}</td>" for g in GROUPS)
        + f"<td>{fmt(statements_of(r), 2)}</td><td>{fmt(((r['cost'].get('statements') or {}).get('per_iteration')), 2)}</td>"
        f"<td>{fmt(((r['cost'].get('statements') or {}).get('exec_ms_per_request')))}</td>"
        f"<td>{r['cost'].get('window_s') or ''}</td></tr>" for _, i, r in costed)
    parts = ['<h2>Cost per request</h2><div class="wrap"><table><tr><th rowspan="2">run</th>'
             f'<th colspan="{len(GROUPS)}">CPU, ms per request</th><th colspan="3">PostgreSQL statements</th><th rowspan="2">window s</th></tr><tr>'
             + "".join(f"<th>{NAMES[g]}</th>" for g in GROUPS)
             + f'<th>per request</th><th>per iteration</th><th>exec ms/req</th></tr>{rows}</table></div>'
             '<p class="small">CPU time (user + system, /proc) of each process group over the measured window, divided by the measured '
             'requests; PostgreSQL = the postmaster and all its backends; statements from pg_stat_statements over the whole k6 run '
             '(set-up and teardown included) divided by all its requests, and by k6\'s iterations (a flow, a claim, an order).</p>']
    groups = [g for g in GROUPS if any(cost_of(r, g) is not None for _, _, r in costed)]
    if groups:
        parts.append(bar_chart("CPU per request by process", "ms of CPU per request", [nm for nm, _, _ in costed],
                               [(NAMES[g] + " CPU", [cost_of(r, g) for _, _, r in costed]) for g in groups]))
    if len(costed) == 1:
        nm, _, r = costed[0]
        per = (r.get("series") or {}).get("cpu_cores") or {}
        if per:
            parts.append(line_chart(f"CPU over time, cores ({nm})", "seconds", "cores",
                                    [(NAMES[g], r["series"]["t"], v) for g, v in per.items()],
                                    note="CPU seconds per second of each process group; 2 cores = the whole machine here"))
    for nm, i, r in costed:
        top = ((r["cost"].get("statements") or {}).get("top")) or []
        if top and len(costed) <= 4:
            body = "".join(f"<tr><td>{t['total_ms']:,.1f}</td><td>{t['calls']:,}</td><td>{t['mean_ms']:.3f}</td>"
                           f"<td class=\"left\"><code>{esc(t['query'][:300])}</code></td></tr>" for t in top)
            parts.append(f"<h2>Top statements by execution time: {esc(nm)}</h2><div class=\"wrap\"><table><tr><th>total ms</th><th>calls</th>"
                         f"<th>ms/call</th><th class=\"left\">statement</th></tr>{body}</table></div>")
    return "".join(parts)
