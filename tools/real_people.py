"""Measure the classroom scorer on real recordings of other people (chapter 12_scoring, "Calibration"; chapter 12d_real_people).

The recordings are public but mostly unlicensed, so they are never copied into the repository: this script reads them
from a folder you give it and writes only derived numbers (scores and channel differences) to a JSON file.

Learners' webcam repeats: forks of the MediaPipe action-recognition tutorial keep `MP_Data/<sign>/<take>/<frame>.npy`
(1,662 values a frame: body 33 × (x, y, z, visibility), face 468 × 3, left and right hand 21 × 3, zeros where nothing
was found; coordinates are shares of a 640 × 480 webcam picture). The folder holds one `<owner>__<repo>.npz` per learner
(one array (takes, frames, 1662) per sign folder) and a `SOURCES.csv` (file, repo, commit, licence, ...), as collected
for issue #27.

Each learner's first take of HELLO, THANKS and I-LOVE-YOU is the reference; the next `--takes - 1` takes of each sign are
scored against all three references. Learners are split by name: every second one (sorted) calibrates, the others are
held out.

Fluent signers' repeats: `repeats FILE.csv` names .pose files (columns path, sign, source, licence; paths relative to the
CSV); every clip is scored against every other clip, as recorded and with 15 % cut off both ends of the attempt (a
trimmed copy), so a sign repeated (by the same or another fluent signer) can be compared with different signs.

Run: .venv/bin/python tools/real_people.py learners DIR --out data/real_people/learners.json [--takes 5] [--variants]
     .venv/bin/python tools/real_people.py repeats clips.csv --out data/real_people/repeats.json
"""
import argparse
import csv
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from signllm.core import SignLLMError
from signllm.pose import SIGN50, Pose, holistic_skeleton

SIGNS = ("hello", "thanks", "iloveyou")
ALIASES = {"hello": "hello", "thanks": "thanks", "thankyou": "thanks", "thank you": "thanks", "thank_you": "thanks",
           "iloveyou": "iloveyou", "i love you": "iloveyou", "ilove you": "iloveyou", "i_love_you": "iloveyou"}
WIDTH, HEIGHT, FPS = 640, 480, 30.0  # the tutorial's webcam picture and frame rate
MP_DATA = holistic_skeleton(468)

def mp_data_pose(frames: np.ndarray) -> Pose:
    "(T, 1662) MP_Data values -> a holistic Pose in pixels of a 640 × 480 picture; zeros and invisible body joints missing."
    frames = np.asarray(frames, np.float32)
    t = len(frames)
    body = frames[:, :132].reshape(t, 33, 4)
    parts = [frames[:, 132:1536].reshape(t, 468, 3), frames[:, 1536:1599].reshape(t, 21, 3), frames[:, 1599:1662].reshape(t, 21, 3)]
    data = np.concatenate([body[..., :3], *parts], 1) * np.float32([WIDTH, HEIGHT, WIDTH])
    found = [((body[..., 3] >= 0.5) & (np.abs(body[..., :3]).sum(-1) > 0)).astype(np.float32)]
    found += [np.repeat((np.abs(p).sum((1, 2)) > 0)[:, None], p.shape[1], 1).astype(np.float32) for p in parts]
    return Pose(data, np.concatenate(found, 1), FPS, MP_DATA, size=(WIDTH, HEIGHT, WIDTH))

def hands_seen(pose: Pose) -> float:
    "Share of frames in which a whole hand is seen."
    mask = pose.to_sign50().mask
    return float((mask[:, SIGN50.slice("RIGHT_HAND")].all(1) | mask[:, SIGN50.slice("LEFT_HAND")].all(1)).mean())

def learner_signs(path: Path, takes: int) -> dict[str, np.ndarray]:
    "sign -> (takes, frames, 1662) of one learner's file (sign folders mapped through ALIASES)."
    with np.load(path) as z:
        signs = {}
        for key in z.files:
            sign = ALIASES.get(key.strip().lower())
            if sign and sign not in signs and len(z[key]) >= takes: signs[sign] = z[key][:takes]
    return signs

VARIANTS = {"as recorded only": {"mirror": False}, "plain DTW": {"open_ends": 0.0}}  # one ingredient taken out

def _entry(attempt: Pose, reference: Pose, **options) -> dict:
    from signllm.scoring import score_attempt
    try: r = score_attempt(attempt, reference, **options)
    except SignLLMError as problem: return {"error": str(problem)}
    return {"overall": round(r.overall, 2), "mirror": r.mirror,
            "channels": {c: (None if not np.isfinite(v).any() else round(float(np.nanmean(v)), 4)) for c, v in r.differences.items()}}

def measure_learners(folder: Path, takes: int, variants: bool) -> dict:
    import inspect
    from signllm.scoring import TOLERANCE, score_attempt
    known = inspect.signature(score_attempt).parameters
    sources = {row["file"]: row for row in csv.DictReader(open(folder / "SOURCES.csv", encoding="utf-8"))}
    names = sorted(p.stem for p in folder.glob("*.npz"))
    learners, pairs, skipped, firsts, seconds = [], [], {}, [], []
    for name in names:
        signs = learner_signs(folder / f"{name}.npz", takes)
        if set(signs) != set(SIGNS): skipped[name] = "not all three signs"; continue
        poses = {s: [mp_data_pose(a) for a in signs[s]] for s in SIGNS}
        if min(hands_seen(poses[s][0]) for s in SIGNS) < 0.3: skipped[name] = "a first take shows no hand"; continue
        k = len(learners)
        row = sources.get(f"{name}.npz", {})
        learners.append({"learner": k, "repo": row.get("repo", name), "commit": row.get("commit", ""),
                         "licence": row.get("licence", ""), "split": "calibration" if k % 2 == 0 else "held out"})
        for sign in SIGNS:
            for take in range(1, takes):
                for ref in SIGNS:
                    entry = {"learner": k, "sign": sign, "take": take, "reference": ref, **_entry(poses[sign][take], poses[ref][0])}
                    if variants:
                        entry["variants"] = {v: _entry(poses[sign][take], poses[ref][0], **o).get("overall")
                                             for v, o in VARIANTS.items() if set(o) <= set(known)}
                    pairs.append(entry)
        firsts.append({s: poses[s][0] for s in SIGNS}); seconds.append({s: poses[s][1] for s in SIGNS})
        print(f"{name}: learner {k}", flush=True)
    # another learner's first take as the reference (a teacher's recording is another person's): each learner's second
    # take against the next learner's references
    others = []
    for k in range(len(learners)):
        j = (k + 1) % len(learners)
        for sign in SIGNS:
            for ref in SIGNS:
                others.append({"learner": k, "reference_learner": j, "sign": sign, "reference": ref, **_entry(seconds[k][sign], firsts[j][ref])})
    return {"learners": learners, "pairs": pairs, "other_learner_pairs": others, "skipped": skipped,
            "tolerance": dict(TOLERANCE), "takes": takes}

def measure_repeats(table: Path) -> dict:
    from signllm.inputs import load_pose
    rows = list(csv.DictReader(open(table, encoding="utf-8")))
    clips = [load_pose(table.parent / r["path"], what=r["path"]) for r in rows]
    pairs = []
    for i, (row, attempt) in enumerate(zip(rows, clips)):
        n = attempt.n_frames
        for cut, shown in (("as recorded", attempt), ("trimmed", attempt[round(0.15 * n):n - round(0.15 * n)])):
            for j, ref in enumerate(rows):
                if i != j: pairs.append({"attempt": i, "reference": j, "cut": cut, **_entry(shown, clips[j])})
    return {"clips": [{"clip": k, "sign": r["sign"], "source": r["source"], "licence": r["licence"]} for k, r in enumerate(rows)],
            "pairs": pairs}

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["learners", "repeats"])
    p.add_argument("folder", type=Path, help="learners: the folder of .npz files; repeats: the CSV of clips")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--takes", type=int, default=5)
    p.add_argument("--variants", action="store_true", help="also score with one ingredient taken out (VARIANTS)")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    started = time.time()
    result = measure_learners(args.folder, args.takes, args.variants) if args.what == "learners" else measure_repeats(args.folder)
    import signllm
    where = Path(signllm.__file__).resolve().parent.parent
    git = lambda *a: subprocess.run(["git", "-C", str(where), *a], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") + ("-dirty" if git("status", "--porcelain", "--", "signllm") else "")
    result.update(made_by="tools/real_people.py", kit_commit=commit, seconds=round(time.time() - started),
                  note="derived numbers only; the recordings are public but mostly unlicensed and are not in this repository")
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"{len(result.get('learners', result.get('clips')))} learners or clips, {len(result['pairs'])} scored pairs -> {args.out} ({result['seconds']} s)")
    return 0

if __name__ == "__main__":
    sys.exit(main())
