"""Build README.md from nbs/index.ipynb with nbconvert (nbdev-readme needs Quarto, which cannot be installed here),
and refresh the README's picture (docs/phoenix_frames.png) from a real PHOENIX sentence.

Run: .venv/bin/python tools/build_readme.py  (--readme-only: README.md alone, without redrawing the pictures)
"""
import re
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


ECHO_FALSE = re.compile(r"^\s*#\|\s*echo:\s*false\s*$", re.M)  # the Quarto/nbdev directive: show the output, not the code


def build_readme():
    """README.md from nbs/index.ipynb: the notebook is executed (its `#| echo: false` cells compute tables such as the
    syllabus, whose run times come from nbs/course_timings.json), those cells are replaced by their Markdown output,
    and the result is converted to Markdown."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import MarkdownExporter
    nb = nbformat.read(REPO / "nbs" / "index.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(REPO / "nbs")}}).execute()
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and ECHO_FALSE.search(cell.source):
            shown = [o["data"]["text/markdown"] for o in cell.outputs
                     if o.get("output_type") in ("display_data", "execute_result") and "text/markdown" in o.get("data", {})]
            if not shown: raise SystemExit(f"an `#| echo: false` cell of index.ipynb shows no Markdown: {cell.source[:80]!r}")
            cell = nbformat.v4.new_markdown_cell("\n\n".join(shown))
        cells.append(cell)
    nb.cells = cells
    text, _ = MarkdownExporter().from_notebook_node(nb)
    footer = "\n<!-- Generated from nbs/index.ipynb by tools/build_readme.py: edit the notebook, not this file. -->\n"
    (REPO / "README.md").write_text(text.strip() + "\n" + footer)


if __name__ == "__main__":
    import sys
    if "--readme-only" not in sys.argv:  # --readme-only: leave the two pictures alone
        build_picture(REPO / "docs" / "phoenix_frames.png")
        build_hello(REPO / "docs" / "hello_frames.png")
    build_readme()
    print("wrote README.md" + ("" if "--readme-only" in sys.argv else ", docs/phoenix_frames.png and docs/hello_frames.png"))
