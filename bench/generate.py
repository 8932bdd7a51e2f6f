"""Benchmark `signllm generate` (lexicon composition) on a 20-word sentence: time and peak memory to .pose and to
MP4, after import, with a warm lexicon (clips read once) and a cold one.

Targets (issue 5): under 0.3 s to .pose and under 2 s to MP4 after import, under 1 GiB.
spoken-to-signed-translation's pose concatenation is the baseline when it can be installed offline; it is not on
the package registry this machine reaches (it installs from its git repository), so the ratio is reported as n/a.

Run: .venv/bin/python bench/generate.py
"""
import importlib.util
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from signllm.data import sign_language
from signllm.generator import Lexicon, generate
from signllm.pose import write_pose
from signllm.render import render_pose

SENTENCES = {
    "sgg": "kleine Kinder essen Pizza " * 5,  # 20 words, all real DSGS signs
    "ase": "the quick brown fox jumps over the lazy dog while kids eat pizza and watch football on a sunny day",
}


def measure(fn):
    "(seconds, peak traced MiB) of one call."
    tracemalloc.start()
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def main():
    print(f"{'language':8} {'words':>5} {'frames':>6}  {'to .pose (cold)':>15} {'to .pose (warm)':>15} {'to MP4 (warm)':>13} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as d:
        for code, text in SENTENCES.items():
            lang = sign_language(code)  # parsed once, as `signllm generate` does, and passed down as a SignLanguage
            words = len(text.split())
            cold = Lexicon()
            t_cold, m1 = measure(lambda: write_pose(generate(text, lang, cold), Path(d) / "cold.pose"))
            t_warm, m2 = measure(lambda: write_pose(generate(text, lang, cold), Path(d) / "warm.pose"))
            pose = generate(text, lang, cold)
            t_mp4, m3 = measure(lambda: render_pose(generate(text, lang, cold), Path(d) / "out.mp4"))
            print(f"{lang.code:8} {words:>5} {pose.n_frames:>6}  {t_cold:>13.3f} s {t_warm:>13.3f} s {t_mp4:>11.3f} s {max(m1, m2, m3):>9.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"process peak RSS {rss:.0f} MiB (target < 1024 MiB; includes the Python/numpy/PyAV import)")
    baseline = importlib.util.find_spec("spoken_to_signed")
    print("spoken-to-signed-translation baseline:", "installed (not yet wired)" if baseline else
          "not installable offline (not on the reachable package registry); ratio n/a")


if __name__ == "__main__":
    main()
