#!/usr/bin/env bash
# The pip package on its own: build the wheel from this repo, install it (not editable) into a fresh virtual
# environment, and run the main commands from an empty folder on the shipped defaults (data comes from the wheel).
# Called by tools/test.sh; run alone with: bash tools/wheel_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building the wheel"
.venv/bin/pip wheel --no-deps -q . -w "$work/dist" > "$work/build.log" 2>&1 || { cat "$work/build.log"; echo "wheel build failed"; exit 1; }
wheel=$(ls "$work"/dist/*.whl)
echo "$(basename "$wheel"): $(du -h "$wheel" | cut -f1)"
python3 -m venv "$work/venv"
# the same versions as the development environment (no resolver search, no CUDA torch)
.venv/bin/pip freeze --exclude-editable > "$work/constraints.txt"
"$work/venv/bin/pip" install -q -c "$work/constraints.txt" "$wheel" > "$work/install.log" 2>&1 \
  || { grep -v "^WARNING: Location" "$work/install.log"; echo "installing the wheel failed"; exit 1; }
mkdir "$work/empty" && cd "$work/empty"
unset SIGNLLM_DATA
sig="$work/venv/bin/signllm"
run() { echo "\$ signllm $*"; "$sig" "$@"; }
run generate "hello world" --lang ase -o hello.mp4
run generate "hello" --lang ase -o hello.pose
run render hello.pose -o hello_render.mp4
run generate "schauer im nordwesten" --lang gsg --engine model -o model.pose
run translate hello.pose
run score hello.pose hello.pose
ls -la
[ -s hello.mp4 ] && [ -s hello.pose ] && [ -s hello_render.mp4 ] && [ -s model.pose ]
echo "wheel check passed"
