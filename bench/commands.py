"""Benchmark the model commands as whole processes against a bare `python -c "import torch"` on the same machine.

`signllm translate`, `signllm generate --engine model` and `signllm score` do no training, so they should cost little
more than loading torch itself (issue 18: each <= 2.0x `import torch`; pytorch-lightning must not be imported).
Each command runs `--runs` times (default 3), the commands taking turns so machine load hits all alike; the table
shows the median wall time, the ratio to the median `import torch` of the same run, the peak memory (max RSS) of each
process, and whether pytorch_lightning was imported. `--imports` adds the slowest top-level imports of each command
(python -X importtime), to see what remains to trim.

Run: .venv/bin/python bench/commands.py [--runs 3] [--imports]
Measured 2026-12-07 (issue #27's scorer and drill), 3 runs: score 0.17x `import torch` (it imports no torch), score --spell
1.12x (it reads every shipped alphabet for the letter examples), translate 1.11x, generate --engine model 1.04x; after
each clip was prepared once and only the letters the drill's alphabet has were read: score --spell 0.90x.
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

from whole_process import run  # bench/: one timing of a whole process

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def import_times(cmd: list) -> tuple[list, bool]:
    "([(cumulative seconds, module)] of the top-level imports, slowest first), and whether Lightning was imported."
    _, _, err = run([sys.executable, "-X", "importtime", *cmd[1:]] if cmd[0] == sys.executable else
                    [sys.executable, "-X", "importtime", *cmd])
    rows = [re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line) for line in err.splitlines()]
    top = sorted(((int(m[1]) / 1e6, m[3]) for m in rows if m and not m[2]), reverse=True)
    return top, any(m and m[3].split(".")[0] in ("pytorch_lightning", "lightning") for m in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median reported; at least 3)")
    parser.add_argument("--imports", action="store_true", help="also list the slowest top-level imports per command")
    args = parser.parse_args(argv)
    runs = max(3, args.runs)
    signllm = str(BIN / "signllm")
    with tempfile.TemporaryDirectory() as d:
        commands = {
            "python -c 'import torch'": [sys.executable, "-c", "import torch"],
            "signllm translate human_signer.pose": [signllm, "translate", "data/signer_video/human_signer.pose"],
            "signllm generate --engine model": [signllm, "generate", "schauer im nordwesten", "--lang", "gsg",
                                                "--engine", "model", "-o", str(Path(d) / "model.pose")],
            "signllm score (a .pose vs itself)": [signllm, "score", "data/words/ase_FOOTBALL.pose",
                                                  "data/words/ase_FOOTBALL.pose", "--no-cache"],
            "signllm score --spell (the drill)": [signllm, "score", str(Path(d) / "hello.pose"), "--spell", "hello"],
        }
        run([signllm, "generate", "hello", "--lang", "ase", "-o", str(Path(d) / "hello.pose")])  # the drill's attempt
        times = {name: [] for name in commands}
        memory = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                seconds, mib, _ = run(cmd)
                times[name].append(seconds); memory[name].append(mib)
        imports = {name: import_times([sys.executable, *cmd[1:]] if cmd[0] == sys.executable else
                                      [str(BIN / "python"), signllm, *cmd[1:]]) for name, cmd in commands.items()}
    base = statistics.median(times["python -c 'import torch'"])
    print(f"whole processes on {os.cpu_count()} CPUs, {runs} runs of each command, taking turns\n")
    print(f"{'command':36} {'median s':>9} {'runs (s)':>22} {'x torch':>8} {'target':>12} {'peak MiB':>9} lightning")
    for name in commands:
        med = statistics.median(times[name])
        target = "" if name.startswith("python") else f"<= 2.0 {'ok' if med / base <= 2.0 else 'NOT met'}"
        print(f"{name:36} {med:9.2f} {' '.join(f'{t:.2f}' for t in times[name]):>22} {med / base:8.2f} {target:>12} "
              f"{max(memory[name]):9.0f} {'IMPORTED' if imports[name][1] else 'no'}")
    if args.imports:
        for name, (top, _) in imports.items():
            print(f"\n{name}: slowest top-level imports (cumulative s, one -X importtime run)")
            for seconds, module in top[:6]: print(f"  {seconds:6.2f}  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
