"""Benchmark `signllm generate` (lexicon composition) against spoken-to-signed 0.4.0 on the same sentence, as whole
processes: what a user waits for after pressing Enter (interpreter start, imports, reading clips, writing the file).

The sentence is the 20-word English one of issue 18 (ASL: FOOTBALL is a real sign, the other 19 words are
fingerspelled). spoken-to-signed (PyPI `spoken-to-signed`, module `spoken_to_signed`) does text -> .pose with its
`simple` glosser, a `CSVPoseLookup` on the kit's `data/words` and its fingerspelling backup
(`FingerspellingPoseLookup`) reading the kit's `data/fingerspelling` — the same real clips (its own shipped ASL
letters are byte-identical). It has no video output of its own (its `pose_to_video` needs a pix2pix model download),
so the kit's MP4 is compared with the peer's .pose time, as in issue 18.

Each command runs `--runs` times (default 3), the commands taking turns so machine load hits all alike; the table
shows the median wall time, its ratio to the peer's median from the same run, and the peak memory (max RSS) of each
process. Targets (issue 18): .pose <= 0.10x the peer, MP4 <= 0.35x the peer's .pose time.

Run: .venv/bin/python bench/generate.py [--runs 3] [--pace slow]
"""
import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from whole_process import run  # bench/: one timing of a whole process

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
BIN = Path(sys.executable).parent
SENTENCE = "the quick brown fox jumps over the lazy dog while kids eat pizza and watch football on a sunny day"

PEER = r'''
import sys
from spoken_to_signed.bin import _text_to_gloss
from spoken_to_signed.gloss_to_pose import CSVPoseLookup, gloss_to_pose
from spoken_to_signed.gloss_to_pose.lookup.fingerspelling_lookup import FingerspellingPoseLookup

class KitLetters(FingerspellingPoseLookup):  # its fingerspelling backup, reading a given folder (the kit's letters)
    def __init__(self, directory):
        CSVPoseLookup.__init__(self, directory)
        self.alphabets = {sp: {si: sorted(v, key=len, reverse=True) for si, v in d.items()}
                          for sp, d in self.words_index.items()}

text, words, letters, out = sys.argv[1:5]
sentences = _text_to_gloss(text, "en", "simple", signed_language="ase")  # as its text_to_gloss_to_pose CLI
lookup = CSVPoseLookup(words, backup=KitLetters(letters))
result = gloss_to_pose(sentences[0], lookup, "en", "ase")
with open(out, "wb") as f: result.pose.write(f)
'''


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median reported; at least 3)")
    parser.add_argument("--pace", default="slow", help="signllm's fingerspelling pace (default: its default, slow)")
    args = parser.parse_args(argv)
    runs = max(3, args.runs)
    try: import spoken_to_signed  # noqa: F401
    except ImportError: raise SystemExit("spoken-to-signed is not installed: pip install spoken-to-signed==0.4.0")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        signllm = [str(BIN / "signllm"), "generate", SENTENCE, "--lang", "ase", "--pace", args.pace]
        commands = {
            "spoken-to-signed 0.4.0 -> .pose": [sys.executable, "-c", PEER, SENTENCE, DATA / "words",
                                                DATA / "fingerspelling", out / "peer.pose"],
            "signllm generate -> .pose": [*signllm, "-o", out / "kit.pose"],
            "signllm generate -> .mp4": [*signllm, "-o", out / "kit.mp4"],
        }
        times = {name: [] for name in commands}
        memory = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                seconds, mib, _ = run(cmd)
                times[name].append(seconds); memory[name].append(mib)
        from signllm.pose import read_pose
        from signllm.render import MP4_OPTIONS, count_frames
        peer, kit = read_pose(out / "peer.pose"), read_pose(out / "kit.pose")
        mp4_size, mp4_frames = (out / "kit.mp4").stat().st_size, count_frames(out / "kit.mp4")
    base = statistics.median(times["spoken-to-signed 0.4.0 -> .pose"])
    print(f'"{SENTENCE}" (20 words, ASL; {os.cpu_count()} CPUs; {runs} runs of each command, taking turns)\n')
    print(f"{'command':34} {'median s':>9} {'runs (s)':>22} {'x peer':>7} {'target':>7} {'peak MiB':>9}")
    targets = {"signllm generate -> .pose": 0.10, "signllm generate -> .mp4": 0.35}
    for name in commands:
        med, target = statistics.median(times[name]), targets.get(name)
        verdict = "" if target is None else f"<= {target:.2f}" + (" ok" if med / base <= target else " NOT met")
        print(f"{name:34} {med:9.2f} {' '.join(f'{t:.2f}' for t in times[name]):>22} {med / base:7.2f} "
              f"{verdict:>7} {max(memory[name]):9.0f}")
    print(f"\noutputs: peer {peer.n_frames} frames ({peer.duration:.1f} s of signing, {peer.skeleton.name}); "
          f"signllm {kit.n_frames} frames ({kit.duration:.1f} s, pace {args.pace}, {kit.skeleton.name})")
    print(f"MP4: {mp4_frames} frames, 512x512, H.264 yuv420p, x264 {MP4_OPTIONS}, {mp4_size / 1e6:.2f} MB "
          f"({mp4_size * 8 / kit.duration / 1e3:.0f} kbit/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
