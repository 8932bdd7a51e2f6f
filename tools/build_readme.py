"""Build README.md from nbs/index.ipynb with nbconvert (nbdev-readme needs Quarto, which cannot be installed here),
and refresh the README's picture (docs/phoenix_frames.png) from a real PHOENIX sentence.

Run: .venv/bin/python tools/build_readme.py
"""
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def build_picture(out: Path):
    "Four frames of the README's main job, drawn by signllm.render."
    from PIL import Image
    from signllm.inputs import load_pose
    from signllm.render import PoseRenderer
    pose = load_pose(REPO / "data" / "phoenix14t" / "train.skels", 0)
    renderer = PoseRenderer(pose, width=256, height=256)
    picks = np.linspace(8, pose.n_frames - 8, 4).astype(int)
    strip = np.concatenate([renderer.frame(t) for t in picks], axis=1)  # (256, 4*256, 3)
    out.parent.mkdir(exist_ok=True)
    Image.fromarray(strip).save(out, optimize=True)


def build_hello(out: Path):
    "Mid-frames of the five letters of the README's `signllm generate \"hello\" --lang ase`."
    from PIL import Image
    from signllm.generator import generate
    from signllm.render import PoseRenderer
    pose = generate("hello", "ase")
    renderer = PoseRenderer(pose, width=200, height=200)
    strip = np.concatenate([renderer.frame((s.start + s.end) // 2) for s in pose.meta["segments"]], axis=1)
    Image.fromarray(strip).save(out, optimize=True)


def build_readme():
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "markdown", str(REPO / "nbs" / "index.ipynb"),
                    "--output", "README", "--output-dir", str(REPO)], check=True, capture_output=True)
    readme = REPO / "README.md"
    text = readme.read_text()
    footer = "\n<!-- Generated from nbs/index.ipynb by tools/build_readme.py: edit the notebook, not this file. -->\n"
    readme.write_text(text.strip() + "\n" + footer)


if __name__ == "__main__":
    build_picture(REPO / "docs" / "phoenix_frames.png")
    build_hello(REPO / "docs" / "hello_frames.png")
    build_readme()
    print("wrote README.md, docs/phoenix_frames.png and docs/hello_frames.png")
