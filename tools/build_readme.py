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
    from signllm.cli import load_pose_file
    from signllm.render import PoseRenderer
    pose = load_pose_file(REPO / "data" / "phoenix14t" / "train.skels", 0)
    renderer = PoseRenderer(pose, width=256, height=256)
    picks = np.linspace(8, pose.n_frames - 8, 4).astype(int)
    strip = np.concatenate([renderer.frame(t) for t in picks], axis=1)  # (256, 4*256, 3)
    out.parent.mkdir(exist_ok=True)
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
    build_readme()
    print("wrote README.md and docs/phoenix_frames.png")
