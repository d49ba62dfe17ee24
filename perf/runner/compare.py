#!/usr/bin/env python3
"""Compares recorded runs: a markdown summary (for pull requests) on stdout and a self-contained HTML report.
`./exbuy perf compare --help` explains the options; this file is that verb (perf.py calls compare()) and can also be
run on any history file: compare.py HISTORY.jsonl [options]."""
import argparse
import datetime
import os
import sys

import history
from report import html_report, markdown

EXAMPLES = """examples:
  ./exbuy perf compare --scenario read-heavy --last 5           the newest five read-heavy runs
  ./exbuy perf compare --runs r91,3                              reference line 91 against your history's line 3
  ./exbuy perf compare --scenario persona-a --system ExBuy,Django --last 4
                                                                 ExBuy and a peer (recorded with --system Django) side by side
  ./exbuy perf compare --scenario flash-sale --commit 5c19b61,b37281b --last 12
                                                                 two commits' flash-sale matrices side by side
  ./exbuy perf compare --label tuned --markdown pr.md           runs labelled "tuned", the table also to pr.md"""


def add_arguments(parser, reports_dir):
    pick = parser.add_argument_group("which runs (filters combine; comma-separated values mean any of them)")
    pick.add_argument("--runs", metavar="IDS", help="exact runs, in this order: rN = line N of the reference file, N = line N of "
                      "your history, or a run id (printed after each run). Overrides the filters below.")
    pick.add_argument("--scenario", metavar="S[,S]", help="scenario(s), e.g. read-heavy or flash-sale")
    pick.add_argument("--lock-type", metavar="T[,T]", help="lock type(s): optimistic, pessimistic, redlock, row, atomic, batched, none, default")
    pick.add_argument("--system", metavar="NAME[,NAME]", help="system(s) under test as recorded with --system (ExBuy, Django, Spring, ...)")
    pick.add_argument("--label", metavar="TEXT", help="runs whose --label contains TEXT")
    pick.add_argument("--commit", metavar="C[,C]", help="git commit(s) of ExBuy the runs were made at (prefixes)")
    pick.add_argument("--last", metavar="N", type=int, default=10, help="keep the newest N of what the filters leave (default: %(default)s; 0: all)")
    src = parser.add_argument_group("where runs are read from")
    src.add_argument("--history", metavar="FILE", default=history.HISTORY, help="your own runs (default: perf/results/history.jsonl, untracked)")
    src.add_argument("--reference", metavar="FILE", default=history.REFERENCE,
                     help="the project's reference measurements (default: perf/results/reference.jsonl, committed)")
    src.add_argument("--no-reference", action="store_true", help="read only --history")
    out = parser.add_argument_group("output")
    out.add_argument("--html", metavar="FILE", help=f"HTML report (default: {reports_dir}/compare-<UTC time>.html)")
    out.add_argument("--markdown", metavar="FILE", help="also write the markdown table to FILE")
    out.add_argument("--quiet", action="store_true", help="do not print the markdown table")


def title_of(runs):
    scenarios = sorted({r["scenario"] for _, r in runs})
    systems = sorted({r.get("system", "ExBuy") for _, r in runs})
    return " vs ".join(systems) + " perf: " + ", ".join(scenarios)


def write_reports(runs, html_path=None, markdown_path=None, quiet=False, title=None):
    md = markdown(runs)
    if not quiet:
        print(md)
    if markdown_path:
        os.makedirs(os.path.dirname(os.path.abspath(markdown_path)), exist_ok=True)
        with open(markdown_path, "w") as f:
            f.write(md)
        print(f"markdown: {markdown_path}", file=sys.stderr)
    if html_path:
        os.makedirs(os.path.dirname(os.path.abspath(html_path)), exist_ok=True)
        with open(html_path, "w") as f:
            f.write(html_report(runs, title or title_of(runs)))
        print(f"HTML report: {html_path}", file=sys.stderr)


def compare(args, reports_dir):
    runs = history.load_all(args.history, None if args.no_reference else args.reference)
    if not runs:
        print("no runs recorded yet (run ./exbuy perf SCENARIO first)", file=sys.stderr)
        return 1
    picked = history.select(runs, args.runs, args.scenario, args.lock_type, args.system, args.label, args.commit, args.last)
    if not picked:
        print("no runs match", file=sys.stderr)
        return 1
    html_path = args.html or os.path.join(reports_dir, f"compare-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}.html")
    write_reports(picked, html_path, args.markdown, args.quiet)
    return 0


def main():
    parser = argparse.ArgumentParser(prog="compare.py", description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", metavar="HISTORY.jsonl", help="a history file (its lines are runs 1, 2, ...); no reference file is read")
    add_arguments(parser, "perf/results/reports")
    args = parser.parse_args()
    args.history, args.no_reference = args.file, True
    return compare(args, os.path.join(history.RESULTS, "reports"))


if __name__ == "__main__":
    sys.exit(main())
