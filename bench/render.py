"""Benchmark (not a test): signllm's skeleton renderer vs pose-format's PoseVisualizer on the same real sequences.

Run from the repository root:  .venv/bin/python bench/render.py [--repeats 5]

Both renderers draw every frame of the same sequence, at the same frame size, into RGB uint8 arrays (no file
writing). The time includes setting up (PoseVisualizer(...) / PoseRenderer(...)); the best of several repetitions is
reported, as that is least disturbed by other processes. What each draws differs by default, so the work done is
printed too: pose-format draws every limb and a dot at every point of the file (the full 2,556-limb face mesh of a
holistic file, and the world landmarks, which land off-screen); signllm draws the face contours (124 limbs), skips
the world landmarks, and puts dots only on body joints, wrists and fingertips. The "face mesh" row makes signllm
draw all 2,556 face limbs too.
"""
import argparse
import resource
import sys
import time

import numpy as np
from pose_format import Pose as PFPose
from pose_format.pose_visualizer import PoseVisualizer

from signllm.core import data_path
from signllm.pose import read_pose, read_skels, to_pose_format
from signllm.render import PoseRenderer, fit_view, skeleton_layers, palette


def one_pass(make_frames, n_frames: int) -> float:
    "Seconds for one full pass (checks it yields n_frames RGB frames)."
    start, count = time.perf_counter(), 0
    for frame in make_frames():
        count += 1
    seconds = time.perf_counter() - start
    assert count == n_frames and frame.dtype == np.uint8 and frame.ndim == 3, (count, n_frames, frame.shape)
    return seconds


def best_fps(renderers: dict, n_frames: int, repeats: int) -> dict:
    "Frames/s of each renderer, best of `repeats` passes; the renderers take turns, so machine load hits all alike."
    times = {name: [] for name in renderers}
    for _ in range(repeats):
        for name, make_frames in renderers.items(): times[name].append(one_pass(make_frames, n_frames))
    return {name: n_frames / min(t) for name, t in times.items()}


def work(pose, renderer_kw: dict) -> str:
    "How many limbs / dots signllm draws per frame."
    layers = skeleton_layers(pose.skeleton, palette(), 3, renderer_kw.get("face", "contours"),
                             renderer_kw.get("skip", ("POSE_WORLD_LANDMARKS",)))
    return f"{sum(len(l.limbs) for l in layers)} limbs, {sum(len(l.dots) for l in layers)} dots"


def pf_work(pf) -> str:
    comps = pf.header.components
    return f"{sum(len(c.limbs) for c in comps)} limbs, {sum(len(c.points) for c in comps)} dots"


def phoenix_in_pixels(size: int = 512):
    "The first PHOENIX train sentence (neck-centred units) moved into a size×size pixel frame, for both renderers."
    pose = next(read_skels(data_path("phoenix14t", "train.skels")))
    view = fit_view([pose], size, size)
    data = pose.data.copy()
    data[..., :2] = view.project(data[..., :2])
    data[..., 2] *= view.scale
    return pose.replace(data=data, size=(size, size, 0))


def cases():
    "(name, our Pose, pose-format Pose, width, height) for the same real sequences."
    football_file = data_path("words", "ase_FOOTBALL.pose")
    football_pf = PFPose.read(football_file.read_bytes())
    dims = football_pf.header.dimensions
    yield "ASL FOOTBALL (holistic 576)", read_pose(football_file), football_pf, dims.width, dims.height
    phoenix = phoenix_in_pixels(512)
    yield "PHOENIX train 1 (SIGN50)", phoenix, to_pose_format(phoenix), 512, 512


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="passes per renderer (best one counts)")
    args = parser.parse_args(argv)
    print(f"skeleton rendering, frames/s (best of {args.repeats}; setup included; higher is better)\n")
    header = f"{'sequence':30s} {'frames':>6s} {'size':>9s}  {'renderer':34s} {'frames/s':>9s}  {'vs pose-format':>14s}  work per frame"
    print(header); print("-" * len(header))
    ratios = []
    for name, ours, theirs, width, height in cases():
        n, pf = ours.n_frames, "pose-format PoseVisualizer.draw()"
        renderers = {pf: lambda: PoseVisualizer(theirs).draw(),
                     "signllm PoseRenderer (default)": lambda: iter(PoseRenderer(ours, width, height))}
        what = {pf: pf_work(theirs), "signllm PoseRenderer (default)": work(ours, {})}
        if ours.n_joints != 50:  # holistic: also draw every limb of the file, as pose-format does
            renderers["signllm PoseRenderer (face mesh)"] = lambda: iter(PoseRenderer(ours, width, height, face="mesh"))
            what["signllm PoseRenderer (face mesh)"] = work(ours, {"face": "mesh"})
        fps = best_fps(renderers, n, args.repeats)
        ratios.append(fps["signllm PoseRenderer (default)"] / fps[pf])
        for label in renderers:
            print(f"{name:30s} {n:6d} {f'{width}x{height}':>9s}  {label:34s} {fps[label]:9.0f}  "
                  f"{fps[label] / fps[pf]:13.1f}x  {what[label]}")
        print()
    print(f"signllm (default) is {min(ratios):.1f}x to {max(ratios):.1f}x as fast as pose-format's visualiser "
          f"(target: at least 2x) -> {'met' if min(ratios) >= 2 else 'NOT met'}")
    print(f"peak memory of this process (both renderers, all sequences): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
