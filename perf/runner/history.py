"""The recorded runs: the project's reference measurements (perf/results/reference.jsonl, committed) and a user's
own history (perf/results/history.jsonl, untracked). A run is named by its line: `r12` is line 12 of the reference
file, `12` line 12 of the history; a run recorded by perf.py also has a run id (its k6 `testid` tag)."""
import json
import os

RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results")
REFERENCE = os.path.join(RESULTS, "reference.jsonl")
HISTORY = os.path.join(RESULTS, "history.jsonl")


def load(path, prefix=""):
    """[(id, run)] of one file, in file order; a missing file has no runs."""
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        runs = []
        for n, line in enumerate(f, 1):
            if line.strip():
                run = json.loads(line)
                run.setdefault("system", "ExBuy")
                runs.append((f"{prefix}{n}", run))
        return runs


def load_all(history=HISTORY, reference=REFERENCE):
    """The reference runs first, then the user's."""
    return load(reference, "r") + load(history, "")


def by_id(runs, wanted):
    """The runs named in `wanted` (line ids like r12 or 7, or run ids), in the order asked for."""
    index = dict(runs)
    index.update({r["run_id"]: (i, r) for i, r in runs if r.get("run_id")})
    found, missing = [], []
    for w in wanted:
        hit = index.get(w)
        if hit is None:
            missing.append(w)
        elif isinstance(hit, tuple):
            found.append(hit)
        else:
            found.append((w, hit))
    if missing:
        raise SystemExit(f"no recorded run {', '.join(missing)} (reference runs are r1..r{sum(1 for i, _ in runs if i.startswith('r'))}, "
                         f"your history's 1..{sum(1 for i, _ in runs if not i.startswith('r'))}; see ./exbuy perf compare --help)")
    return found


def matches(value, wanted):
    """A comma-separated filter: any of its items (case-insensitive; commits by prefix)."""
    if not wanted:
        return True
    return any(str(value or "").lower().startswith(w.strip().lower()) for w in wanted.split(",") if w.strip())


def select(runs, runs_arg=None, scenario=None, lock_type=None, system=None, label=None, commit=None, last=10):
    if runs_arg:
        return by_id(runs, [x.strip() for x in runs_arg.split(",") if x.strip()])
    picked = [(i, r) for i, r in runs
              if (not scenario or r["scenario"] in scenario.split(","))
              and (not lock_type or r["lock_type"] in lock_type.split(","))
              and matches(r.get("system"), system)
              and (not label or label.lower() in str(r.get("label") or "").lower())
              and matches(r.get("commit"), commit)]
    return picked[-last:] if last else picked
