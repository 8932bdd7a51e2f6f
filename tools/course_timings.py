"""Notebook run times for the README's syllabus, read from the test command's own timing output.

`nbdev-test --timing` (as `tools/test.sh` runs it: `nbdev-test --n-workers 2 --timing`) ends with one line per notebook,
slowest first, e.g. `04a_vqsign_training.ipynb: 76 secs` (whole seconds, wall clock, two notebooks at a time on the
test machine). This tool reads those lines and writes `nbs/course_timings.json`: {notebook file name: seconds, or null
for a notebook no run has measured yet}. `tools/build_readme.py` (through `nbs/index.ipynb`) writes the syllabus's
run-time column from it, so no run time is typed by hand.

Run:  bash tools/test.sh 2>&1 | tee test.log && .venv/bin/python tools/course_timings.py test.log
 or:  .venv/bin/nbdev-test --n-workers 2 --timing | .venv/bin/python tools/course_timings.py
Notebooks missing from the log keep their earlier value (`--fresh` forgets them: null).
"""
import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "nbs" / "course_timings.json"
LINE = re.compile(r"^(?P<name>[\w.-]+\.ipynb): (?P<secs>\d+) secs?\s*$")  # nbdev.test: f"{name}: {int(t)} secs"


def parse_timing(text: str) -> dict[str, int]:
    "The per-notebook seconds in the output of `nbdev-test --timing` (other lines are ignored)."
    return {m["name"]: int(m["secs"]) for m in map(LINE.match, text.splitlines()) if m}


def course_notebooks() -> list[str]:
    "File names of every notebook the test command runs (nbs/ and its subfolders), as nbdev-test prints them."
    names = [p.name for p in sorted((REPO / "nbs").rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes: sys.exit(f"notebook names are not unique, nbdev-test's timing cannot tell them apart: {sorted(dupes)}")
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", help="output of nbdev-test --timing (default: standard input)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier values of notebooks not in this log")
    args = parser.parse_args()
    text = Path(args.log).read_text() if args.log else sys.stdin.read()
    measured = parse_timing(text)
    if not measured: sys.exit("no 'NAME.ipynb: N secs' lines found: was nbdev-test run with --timing?")
    old = {} if args.fresh or not OUT.exists() else json.loads(OUT.read_text())
    names = course_notebooks()
    unknown = sorted(set(measured) - set(names))
    if unknown: print(f"ignored (not in nbs/): {', '.join(unknown)}", file=sys.stderr)
    timings = {n: measured.get(n, old.get(n)) for n in names}
    OUT.write_text(json.dumps(timings, indent=1) + "\n")
    missing = [n for n, s in timings.items() if s is None]
    print(f"wrote {OUT.relative_to(REPO)}: {len(measured)} notebooks from this log"
          + (f"; not measured yet: {len(missing)}" if missing else ""))


if __name__ == "__main__":
    main()
