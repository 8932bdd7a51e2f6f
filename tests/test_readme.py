"The README starts with exactly two set-up commands, and CI runs the second one verbatim."
import re

from conftest import REPO


def setup_commands():
    text = (REPO / "README.md").read_text()
    return re.findall(r"```bash\n(.*?)\n```", text, re.S)[:2], text


def test_readme_starts_with_two_commands_and_ci_runs_the_test_one():
    (main_job, tests), text = setup_commands()
    assert "\n" not in main_job and "\n" not in tests  # one line each
    assert text.index(main_job) < text.index(tests) < text.index("## Why")
    assert main_job.startswith("python3 -m venv .venv && .venv/bin/pip install -e . && ")
    assert "signllm generate" in main_job and "signllm render data/phoenix14t/train.skels --index 0" in main_job
    assert tests in (REPO / ".ci" / "run").read_text()


def test_readme_is_built_from_the_index_notebook():
    import json
    cells = json.loads((REPO / "nbs" / "index.ipynb").read_text())["cells"]
    first = "".join(cells[0]["source"]).splitlines()[0]
    assert (REPO / "README.md").read_text().startswith(first)


def test_every_file_the_readme_links_exists():
    "The course map and the text link chapters and files: none may point at a renamed or deleted one."
    links = re.findall(r"\]\(((?:nbs|data|docs)/[^)#]+|LICENSE)\)", (REPO / "README.md").read_text())
    assert len(links) > 30
    missing = [link for link in links if not (REPO / link).exists()]
    assert not missing, missing


def test_the_course_map_lists_every_chapter():
    text = (REPO / "README.md").read_text()
    chapters = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "nbs").rglob("*.ipynb")
                      if p.name != "index.ipynb" and ".ipynb_checkpoints" not in p.parts)  # Jupyter's own copies
    assert [c for c in chapters if f"({c})" not in text] == []
