"""Benchmark the Priority Learning Channel (chapter 08_sampler) on the learned generator (chapters 09b/09c).

Same data, same model, same step budget, several seeds: the generator (GENERATOR_TINY) is trained on the shipped real data of
both languages — the 5 PHOENIX training sentences (DGS) and 39 English words composed from the real ASL
fingerspelling clips, 4 sequences of each language per step — once with uniform sampling, once with the Priority Learning Channel, and (with --arms ... priority+rl)
once with the channel plus the RL (policy-gradient, DTW reward) loss. Every EVAL_EVERY steps the teacher-forced validation loss on
held-out real data (the 5 PHOENIX dev sentences and 8 ASL words not trained on) is measured; the time spent
measuring is not counted.

Reported, per seed and on average: the wall time each sampler needs to first reach the validation loss uniform
sampling reaches at the end of its budget (the mean of its last three measurements), divided by the time uniform
sampling needs to reach it. Target from the issue: ratio <= 0.75 (at least 25% less time). Whatever it is is printed.

Run: .venv/bin/python bench/sampler.py [--steps 600] [--seeds 0 1 2] [--arms uniform priority priority+rl] [--plot bench_sampler.png]
     .venv/bin/python bench/sampler.py --corpus fingerspelling --seeds 0 1 2 3 4 --steps 300
       (issue #16: the mixed corpus of chapter 11 — five alphabets of different size and difficulty: 120 English words
       in ASL, 30 words in each of DGS, DSGS, TID and LIS, composed from the real letter clips; validation on 8 held-out
       words per alphabet, split by word as in chapter 11)
     Measured 2026-12-02 (bench/results/sampler_fingerspelling.json; 2 CPU cores shared with other jobs), --corpus
       fingerspelling (every group reading letters, as chapter 11b's speller), 5 seeds, 300 steps, --arms uniform
       priority priority+rl: final validation loss uniform 1.148 (mean of 5), priority 1.185, priority+rl 1.186; per
       seed, priority / uniform 1.032 ± 0.010 and priority+rl / uniform 1.033 ± 0.007 (worse in every seed); priority
       reached uniform's final loss in 1 of 5 seeds (time ratio 1.19 there), priority+rl in none -> no speed-up
       (target <= 0.75). 43 min for the 15 runs.

Measured 2026-11-28 on 2 CPU cores (one thread per run), defaults: uniform 59 s a run, priority 61 s; time ratios
1.04, never, 1.02 -> mean 1.03, i.e. no gain (target: <= 0.75). The RL arm adds a DTW reward per step and takes
~7 minutes a run.
"""
import argparse
import time
from pathlib import Path
import warnings

import numpy as np
import pytorch_lightning as pl
import torch

from signllm.generator_model import GENERATOR_TINY
from signllm.generator_training import (GeneratorTrainConfig, fingerspelled_examples, phoenix_generation_examples,
                                        train_generator)
from signllm.sampler import Curve, final_loss, time_ratios, time_to_reach
from signllm.training import quiet_lightning

HELD_OUT_WORDS = "spring summer autumn winter hail cool humid breeze".split()
EVAL_EVERY = 25


class ValidationClock(pl.Callback):
    "Every `every` steps: teacher-forced validation loss, against training wall time (measuring time excluded)."
    def __init__(self, val_examples, every: int):
        self.val_examples, self.every = val_examples, every
        self.seconds, self.steps, self.losses = [], [], []
        self.excluded, self.started = 0.0, None

    def on_train_start(self, trainer, module): self.started = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        step = trainer.global_step
        if step % self.every: return
        paused = time.perf_counter()
        model = module.model
        model.eval()
        with torch.no_grad():
            losses = []
            for lang in dict.fromkeys(e.lang for e in self.val_examples):
                chosen = [e for e in self.val_examples if e.lang == lang]
                losses += model(model.batch(chosen))[1].total.tolist()
        model.train()
        self.seconds.append(paused - self.started - self.excluded)
        self.steps.append(step); self.losses.append(float(np.mean(losses)))
        self.excluded += time.perf_counter() - paused

    def curve(self) -> Curve: return Curve(np.array(self.seconds), np.array(self.steps), np.array(self.losses))


def run(arm: str, seed: int, steps: int, batch_size: int, train_examples, val_examples, model=GENERATOR_TINY, **train) -> Curve:
    sampler, rl = {"uniform": ("uniform", 0.0), "priority": ("priority", 0.0), "priority+rl": ("priority", 0.05)}[arm]
    clock = ValidationClock(val_examples, EVAL_EVERY)
    config = GeneratorTrainConfig(steps=steps, batch_size=batch_size, sampler=sampler, rl_weight=rl, seed=seed, val_every=10 ** 9, **train)
    train_generator(model, config, train_examples, (), callbacks=[clock])
    return clock.curve()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--arms", nargs="+", default=["uniform", "priority"], choices=["uniform", "priority", "priority+rl"],
                   help="samplers to race (default: uniform priority; add priority+rl for the RL loss, ~7 min a run)")
    p.add_argument("--batch-size", type=int, default=4, help="sequences per language per step (default 4: 4 of the 5 "
                   "DGS sentences, 4 of the 39 ASL words, so the sampler has a choice in both groups)")
    p.add_argument("--plot", default=None, help="write the curves to this PNG")
    p.add_argument("--json", default=None, help="write the per-seed results (ratios, final losses, curves) to this JSON file")
    p.add_argument("--corpus", default="phoenix+asl", choices=["phoenix+asl", "fingerspelling"],
                   help="phoenix+asl (default: 5 PHOENIX sentences + 39 ASL words) or fingerspelling (chapter 11's five alphabets)")
    args = p.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    model, train_options = GENERATOR_TINY, {}
    if args.corpus == "fingerspelling":  # every group reads letters, as chapter 11b's speller (word dropout off)
        from dataclasses import replace
        from signllm.fingerspelling import ALPHABETS, reader_words
        from signllm.speller import spelled_examples
        words = reader_words()
        sizes = {"ase": 120, "gsg": 30, "sgg": 30, "tsm": 30, "ise": 30}  # languages of different size (and difficulty)
        train = [e for lang in ALPHABETS for e in spelled_examples(words[lang][0][:sizes[lang]], lang)]
        val = [e for lang in ALPHABETS for e in spelled_examples(words[lang][1][:8], lang)]
        model, train_options = replace(GENERATOR_TINY, spelled=ALPHABETS), {"word_dropout": 0.0}
    else:
        train = phoenix_generation_examples("train") + fingerspelled_examples()
        val = phoenix_generation_examples("dev") + fingerspelled_examples(HELD_OUT_WORDS)
    print(f"train: {len(train)} sequences; validation: {len(val)} held-out sequences; {args.steps} steps per run, "
          f"seeds {args.seeds}")
    curves = {arm: [] for arm in args.arms}
    started = time.time()
    with quiet_lightning():
        for seed in args.seeds:  # arms interleaved per seed: machine load hits all of them alike
            for arm in args.arms:
                curves[arm].append(run(arm, seed, args.steps, args.batch_size, train, val, model, **train_options))
                c = curves[arm][-1]
                print(f"  seed {seed} {arm:12} final val loss {final_loss(c):.4f}, {c.seconds[-1]:.0f} s training", flush=True)
    print(f"total bench time {time.time() - started:.0f} s")
    base = curves["uniform"]
    print(f"\n{'sampler':14}{'final val loss':>16}{'train s':>9}   time to reach uniform's final loss / uniform's time")
    for arm, cs in curves.items():
        ratios = time_ratios(base, cs)
        reached = ratios[~np.isnan(ratios)]
        print(f"{arm:14}{np.mean([final_loss(c) for c in cs]):>16.4f}{np.mean([c.seconds[-1] for c in cs]):>9.0f}   "
              f"{' '.join(f'{r:.2f}' for r in ratios)}" + (f"  -> mean {np.nanmean(ratios):.2f}" if len(reached) else "")
              + (f", spread (sd) {reached.std():.2f}, range {reached.min():.2f}-{reached.max():.2f}" if len(reached) else "")
              + (f" ({np.isnan(ratios).sum()} run(s) never reached it)" if np.isnan(ratios).any() else ""))
    print(f"\n{'sampler':14}final val loss / uniform's, per seed (same seed)")
    for arm, cs in curves.items():
        rel = np.array([final_loss(c) / final_loss(b) for c, b in zip(cs, base)])
        print(f"{arm:14}{' '.join(f'{r:.3f}' for r in rel)}  -> mean {rel.mean():.3f}, sd {rel.std():.3f}")
    for arm in [a for a in curves if a != "uniform"]:
        ratios = time_ratios(base, curves[arm])
        reached = ~np.isnan(ratios)
        if reached.all():
            verdict = f"time ratio {ratios.mean():.2f} ± {ratios.std():.2f} -> {ratios.mean() - 1:+.0%} time vs uniform"
        else:
            verdict = (f"reached uniform's final loss in {reached.sum()} of {len(ratios)} seeds"
                       + (f" (time ratio {ratios[reached].mean():.2f} there)" if reached.any() else "") + ", never in the others: no speed-up")
        print(f"\n{arm}: {verdict} (target: ratio <= 0.75, i.e. at least 25% less time)")
    if args.json:
        import json
        result = {"corpus": args.corpus, "steps": args.steps, "seeds": args.seeds, "batch_size": args.batch_size,
                  "measured": time.strftime("%Y-%m-%d"), "arms": {}}
        for arm, cs in curves.items():
            result["arms"][arm] = {"time_ratio": [None if np.isnan(r) else round(float(r), 4) for r in time_ratios(base, cs)],
                                   "final_loss": [round(final_loss(c), 5) for c in cs],
                                   "curves": [{"seconds": c.seconds.round(2).tolist(), "val_loss": c.val_loss.round(5).tolist()} for c in cs]}
        from signllm.core import atomic_path
        with atomic_path(args.json) as tmp: Path(tmp).write_text(json.dumps(result, indent=1))
        print(f"wrote {args.json}")
    if args.plot:
        import matplotlib; matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        colors = {"uniform": "tab:gray", "priority": "tab:blue", "priority+rl": "tab:red"}
        for arm, cs in curves.items():
            for i, c in enumerate(cs): ax.plot(c.seconds, c.val_loss, color=colors.get(arm), alpha=0.7, label=arm if i == 0 else None)
        ax.set_yscale("log"); ax.set_xlabel("training seconds"); ax.set_ylabel("validation loss"); ax.legend()
        fig.tight_layout(); fig.savefig(args.plot, dpi=100)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
