"""Scale benchmark: streaming a corpus folder of 1k, 10k and 100k short sequences (throughput and peak memory).

Run from the repository root:  .venv/bin/python bench/scale.py [--sizes 1000 10000 100000] [--folder DIR]

SYNTHETIC DATA, for throughput and memory only: the corpus is a folder in the kit's index.csv layout (chapter
02b_loaders) whose rows point at 64 synthetic 16-frame SIGN50 .pose files (random walks, not signing, never shown
as sign language). The index.csv of each size is written once, lazily, into a temporary folder (or --folder).

Each size runs in a fresh Python process so that its peak resident memory (ru_maxrss) is its own: the streaming path
(`PoseStream` over `read_corpus`, a DataLoader with batches of 64, the way the trainers would read a large corpus) and,
as the baseline, the in-memory path (`PoseDataset` over the whole split read into a list first) for the sizes up to
--memory-max. Prints sequences/s and peak RSS per size, and the 100k/1k peak-memory ratio of the streaming path.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMES, CLIPS = 16, 64  # frames per synthetic sequence; distinct synthetic .pose files the rows point at


def synthetic_corpus(folder: Path, n: int) -> Path:
    "A corpus folder with n index.csv rows over CLIPS synthetic .pose files (written on first use, deterministic)."
    import numpy as np
    from signllm.pose import SIGN50, Pose, write_pose
    corpus = folder / f"synthetic-{n}"
    if (corpus / "index.csv").is_file(): return corpus
    (corpus / "clips").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k in range(CLIPS):
        start = rng.normal(0, 1, (1, SIGN50.n_joints, 3))
        data = (start + np.cumsum(rng.normal(0, 0.02, (FRAMES, SIGN50.n_joints, 3)), 0)).astype(np.float32)
        data[:, :, 2] = 0.0
        write_pose(Pose(data, np.ones(data.shape[:2], np.float32), 25.0, SIGN50), corpus / "clips" / f"synthetic-{k:02d}.pose")
    tmp = corpus / "index.csv.part"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "spoken_language", "signed_language", "start", "end", "words", "glosses", "priority", "split"])
        for i in range(n):
            w.writerow([f"clips/synthetic-{i % CLIPS:02d}.pose", "en", "ase", 0, 0, f"synthetic {i}", "SYNTHETIC", 0, "train"])
    tmp.replace(corpus / "index.csv")
    return corpus


def measure(corpus: Path, mode: str, batch_size: int) -> dict:
    "Read the whole train split once (in this process) and report time, sequences and peak RSS."
    import resource
    from functools import partial
    import torch
    from torch.utils.data import DataLoader
    from signllm.loaders import PoseDataset, PoseStream, collate, read_corpus
    torch.set_num_threads(1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "stream": dataset = PoseStream(partial(read_corpus, corpus, "train"))
    else: dataset = PoseDataset(list(read_corpus(corpus, "train")))  # the baseline: every sequence in memory
    n = 0
    for batch in DataLoader(dataset, batch_size=batch_size, collate_fn=collate): n += len(batch["id"])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"mode": mode, "sequences": n, "seconds": seconds, "per_second": n / seconds,
            "rss_before_mb": before / 1024, "peak_rss_mb": peak / 1024}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--memory-max", type=int, default=10000, help="largest size also read in memory (baseline)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--folder", help="where the synthetic corpora go (default: a temporary folder, removed after)")
    parser.add_argument("--child", nargs=2, metavar=("CORPUS", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), args.child[1], args.batch_size)))
        return 0
    temp = None if args.folder else tempfile.TemporaryDirectory(prefix="signllm-scale-")
    folder = Path(args.folder or temp.name)
    print(f"SYNTHETIC corpus (random-walk poses, {FRAMES} frames each, {CLIPS} distinct clips; not sign language) "
          f"in {folder}\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}, "
          f"1 torch thread, batches of {args.batch_size}, DataLoader in the main process")
    print(f"{'sequences':>10} {'loader':>10} {'seq/s':>8} {'seconds':>8} {'RSS after imports':>18} {'peak RSS':>9}")
    results = {}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    try:
        for n in args.sizes:
            corpus = synthetic_corpus(folder, n)
            for mode in ["stream"] + (["memory"] if n <= args.memory_max else []):
                out = subprocess.run([sys.executable, __file__, "--child", str(corpus), mode, "--batch-size", str(args.batch_size)],
                                     capture_output=True, text=True, env=env, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                results[(n, mode)] = r
                print(f"{r['sequences']:>10} {'streaming' if mode == 'stream' else 'in memory':>10} {r['per_second']:>8.0f} "
                      f"{r['seconds']:>8.1f} {r['rss_before_mb']:>15.0f} MB {r['peak_rss_mb']:>6.0f} MB", flush=True)
    finally:
        if temp: temp.cleanup()
    small, large = min(args.sizes), max(args.sizes)
    if (small, "stream") in results and (large, "stream") in results and large > small:
        a, b = results[(small, "stream")], results[(large, "stream")]
        print(f"streaming, {large} vs {small} sequences: peak memory ×{b['peak_rss_mb'] / a['peak_rss_mb']:.2f} "
              f"(target ≤ 1.5), throughput ×{b['per_second'] / a['per_second']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
