#!/usr/bin/env python3
"""Which k6 the runner drives, and the command-line spellings that differ between k6 v0.x (v0.47 on these machines)
and v1.x / v2.x (perf/guide/scripts.md, "k6 versions", says what differs and what does not).

usage: k6version.py [K6]        print the version k6 reports and the flags the runner will use with it
"""
import json
import re
import subprocess
import sys

VERSION = re.compile(r"\bv?(\d+)\.(\d+)\.(\d+)")
_known = {}


def version(k6):
    """k6's version as (major, minor, patch), or None when `k6 version` gives none (a stand-in, a broken binary).
    Asked once per binary."""
    if k6 not in _known:
        try:
            out = subprocess.run([k6, "version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        m = VERSION.search(out.splitlines()[0] if out.strip() else "")
        _known[k6] = tuple(int(g) for g in m.groups()) if m else None
    return _known[k6]


def text(v):
    return "v%d.%d.%d" % v if v else None


def is_v1(v):
    """v1.0 or later (v2 included): the spellings v1 introduced are the ones v2 keeps."""
    return bool(v) and v[0] >= 1


def no_summary(v):
    """No end-of-test summary (and so no handleSummary, no --summary-export): v1 deprecates --no-summary (a warning on
    every run) for --summary-mode=disabled, which v0.47 does not know, and v2.0 removes --no-summary (an unknown
    flag, exit 255). An unknown version (a stand-in, a broken binary: `k6 version` gave no version) gets the old
    spelling, which v0.x and v1.x accept."""
    return ["--summary-mode=disabled"] if is_v1(v) else ["--no-summary"]


def tag(key, value):
    """One --tag KEY=VALUE. Before v1 a comma in --tag's value starts a new tag (v1.0 changed that); the runner's tag
    values (test id, system name, lock type) must not split, so a comma becomes a semicolon for every version alike
    (the same recorded tag on both)."""
    return ["--tag", f"{key}={str(value).replace(',', ';')}"]


def main(argv):
    k6 = argv[0] if argv else "k6"
    v = version(k6)
    print(json.dumps({"k6": k6, "version": text(v), "major": v[0] if v else None, "v1": is_v1(v), "no_summary": no_summary(v)}))
    return 0 if v else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
