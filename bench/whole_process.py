"""One helper for the benches that time whole commands (bench/generate.py, bench/commands.py): what a user waits for
after pressing Enter, and the peak memory of that process alone."""
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list, env: dict | None = None) -> tuple[float, float, str]:
    "(wall seconds, peak RSS MiB, stderr) of one whole process run in the repo; fails loudly if the command fails."
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    err = proc.stderr.read().decode()  # read before waiting: a full pipe would block the child
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own resource usage (ru_maxrss in KiB on Linux)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode: raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, err
