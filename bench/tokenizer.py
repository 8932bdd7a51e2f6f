"""Tokenizer benchmark: training throughput and tokenisation speed (frames/s) of VQ-Sign and the k-means baseline.

Run from the repository root:  .venv/bin/python bench/tokenizer.py [--steps 200] [--repeat 3]

Data: the shipped real data (PHOENIX train + fingerspelling + words for training, all of it for tokenisation).
Frames are counted at 25 fps, the rate both tokenizers work at; padding frames of training crops are not counted.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import replace

import torch

from signllm.training import quiet_lightning
from signllm.vqsign import VQSIGN_TINY, load_sources, pose_features
from signllm.vqsign_training import VQSIGN_TINY_TRAIN, CropDataset, KMeansTokenizer, train_vqsign


def frames_at_25(poses) -> int:
    return sum(len(pose_features(p)) for p in poses)


def best_of(repeat: int, run) -> float:
    "Fastest wall time of `repeat` runs (the others are disturbed by whatever else the machine does)."
    times = []
    for _ in range(repeat):
        start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="VQ-Sign training steps to time (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="tokenisation runs; the fastest counts (default 3)")
    parser.add_argument("--kmeans-iterations", type=int, default=30)
    args = parser.parse_args(argv)

    train_poses = load_sources(["phoenix:train", "fingerspelling", "words"])
    all_poses = train_poses + load_sources(["phoenix:dev", "phoenix:test"])
    train_frames, all_frames = frames_at_25(train_poses), frames_at_25(all_poses)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"data: {len(train_poses)} training sequences ({train_frames} frames), "
          f"{len(all_poses)} sequences to tokenise ({all_frames} frames), 25 fps")

    # VQ-Sign training: real (unpadded) frames seen per second of training
    steps_per_epoch = VQSIGN_TINY_TRAIN.crops_per_epoch // VQSIGN_TINY_TRAIN.batch_size
    config = replace(VQSIGN_TINY_TRAIN, max_epochs=-(-args.steps // steps_per_epoch), max_steps=args.steps)
    start = time.perf_counter()
    with quiet_lightning(): module, trainer = train_vqsign(VQSIGN_TINY, config, train_poses)
    seconds = time.perf_counter() - start
    seen = sum(int(n) for n in _crop_lengths(train_poses, config, trainer.global_step))  # real frames trained on
    vq_train = seen / seconds
    model = module.model

    vq_tok_s = best_of(args.repeat, lambda: model.tokenize(all_poses))
    start = time.perf_counter()
    kmeans = KMeansTokenizer.fit(train_poses, k=VQSIGN_TINY.codebook_size, iterations=args.kmeans_iterations)
    km_fit_s = time.perf_counter() - start
    km_tok_s = best_of(args.repeat, lambda: [kmeans.tokenize(p) for p in all_poses])

    print(f"\n{'tokenizer':<22}{'training (frames/s)':>22}{'tokenisation (frames/s)':>26}")
    print(f"{'VQ-Sign (TINY)':<22}{vq_train:>22,.0f}{all_frames / vq_tok_s:>26,.0f}")
    print(f"{'k-means baseline':<22}{train_frames * args.kmeans_iterations / km_fit_s:>22,.0f}{all_frames / km_tok_s:>26,.0f}")
    print(f"\nVQ-Sign: {trainer.global_step} steps of {VQSIGN_TINY_TRAIN.batch_size} crops × {VQSIGN_TINY_TRAIN.crop_frames} frames "
          f"in {seconds:.1f} s (incl. Lightning start-up; {VQSIGN_TINY_TRAIN.threads} training thread)")
    print(f"k-means: {args.kmeans_iterations} Lloyd iterations over {train_frames} frames in {km_fit_s:.1f} s "
          "(training frames/s counts every frame once per iteration)")
    print("tokenisation: all sequences, pose features included, fastest of", args.repeat, "runs")


def _crop_lengths(poses, config, steps):
    "Real frames in the crops of the timed steps (crops are deterministic, so this replays them)."
    crops = CropDataset([pose_features(p) for p in poses], config.crop_frames, config.crops_per_epoch, config.seed)
    per_epoch = config.crops_per_epoch // config.batch_size
    for step in range(steps):
        crops.epoch = step // per_epoch
        for i in range((step % per_epoch) * config.batch_size, (step % per_epoch + 1) * config.batch_size):
            yield crops[i][1]


if __name__ == "__main__":
    main()
