#!/usr/bin/env bash
# The README's test command ends here (and so does CI's .ci/run): every notebook executed top to bottom,
# the pytest suite, a check that the package signllm/ is exactly what nbdev-export makes of nbs/, and the built wheel
# installed on its own into a fresh environment (tools/wheel_check.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export MPLBACKEND=Agg PYTHONWARNINGS=ignore::DeprecationWarning
failed=()

echo "== 1/4 nbdev-export leaves signllm/ unchanged"
nbdev-export
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  drift=$(git status --porcelain -- signllm)
  if [ -n "$drift" ]; then echo "signllm/ is out of sync with nbs/ (run nbdev-export and commit):"; echo "$drift"; failed+=(export); fi
fi

echo "== 2/4 notebooks (nbdev-test; cells flagged slow/notest are skipped)"
nbdev-test --n-workers 2 --timing 2>&1 | tee "${TMPDIR:-/tmp}/signllm-nbdev-test.log" || failed+=(notebooks)
# the README's run times: .venv/bin/python tools/course_timings.py "${TMPDIR:-/tmp}/signllm-nbdev-test.log" && .venv/bin/python tools/build_readme.py --readme-only

echo "== 3/4 pytest"
pytest -q
rc=$?
if [ "$rc" -eq 5 ]; then echo "pytest: no tests were collected"; failed+=(pytest-no-tests)
elif [ "$rc" -ne 0 ]; then failed+=(pytest); fi

echo "== 4/4 the wheel on its own (built, installed non-editable in a fresh venv, run from an empty folder)"
bash tools/wheel_check.sh || failed+=(wheel)

if [ ${#failed[@]} -gt 0 ]; then echo "FAILED: ${failed[*]}"; exit 1; fi
echo "all checks passed"
