"""The classroom in daily use (issue #28): lessons run again on a class's own files change nothing, charts are sent as
mime bundles, the same upload twice is scored twice, a score is cleared when the phrase changes, the camera records the
reference's length, a recording cut short is told so, HEVC videos are shown as H.264, `python -m signllm.cli` works,
quick extraction and the letter examples' cache."""
import datetime
import hashlib
import subprocess
import sys

import numpy as np
import pytest

from conftest import DATA, REPO
from signllm.core import SignLLMError
from signllm.inputs import load_pose
from signllm.keypoints import HolisticOptions
from signllm.pose import read_pose

VIDEO = DATA / "signer_video" / "human_signer.mp4"
SIGNER = DATA / "signer_video" / "human_signer.pose"


@pytest.fixture(scope="module")
def signer():
    return load_pose(SIGNER)


# ---------------------------------------------------------------- a second Run All on the class's own files

def snapshot(*paths):
    "Every file under the paths, by relative name -> sha1 of its bytes."
    out = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files: out[str(f)] = hashlib.sha1(f.read_bytes()).hexdigest()
    return out


def run_lesson(name, settings: dict, tmp_path):
    "Execute a lesson notebook with its Settings cell's assignments replaced, as a teacher edits them."
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(REPO / "nbs" / "lessons" / name, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and all(f"{k} = " in c.source for k in settings))
    lines = [line for line in cell.source.splitlines() if not any(line.startswith(f"{k} = ") for k in settings)]
    cell.source = "\n".join(lines + [f"{k} = {v}" for k, v in settings.items()])
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()


@pytest.fixture(scope="module")
def class_files(tmp_path_factory, signer):
    "A class's progress file with one real attempt, and a class lexicon holding its own recording of 'essen'."
    from signllm.classroom import add_sign
    from signllm.progress import Progress
    from signllm.scoring import score_attempt
    root = tmp_path_factory.mktemp("class-7b")
    progress = Progress(root / "class-7b-progress.sqlite")
    progress.record("Alex", "signer video", score_attempt(signer, signer), source="")
    add_sign(root / "class-7b-lexicon", read_pose(DATA / "words" / "sgg" / "essen.pose"), "essen", "sgg")
    return root


@pytest.mark.parametrize("lesson,setting,name", [
    ("01_practice_a_phrase.ipynb", "PROGRESS_FILE", "class-7b-progress.sqlite"),
    ("02_fingerspelling_drill.ipynb", "PROGRESS_FILE", "class-7b-progress.sqlite"),
    ("03_class_lexicon.ipynb", "CLASS_FOLDER", "class-7b-lexicon"),
])
def test_lessons_leave_the_class_files_alone(lesson, setting, name, class_files, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLLM_CACHE", str(tmp_path / "cache")); monkeypatch.setenv("MPLBACKEND", "Agg")
    settings = {setting: f"Path({str(class_files / name)!r})"}
    before = snapshot(class_files)
    for _ in range(2):  # Restart & Run All, twice
        run_lesson(lesson, settings, tmp_path)
        assert snapshot(class_files) == before, f"{lesson} changed the class's files"


# ---------------------------------------------------------------- widgets

def test_chart_is_sent_as_a_plotly_bundle(signer):
    from signllm.lessons import report_widgets
    from signllm.scoring import score_attempt
    parts = report_widgets(score_attempt(signer[:60], signer))
    chart = parts[-1]
    (output,) = chart.outputs
    figure = output["data"]["application/vnd.plotly.v1+json"]
    assert figure["data"] and all(len(trace["x"]) for trace in figure["data"]), "a chart without data"
    assert chart.layout.min_height and int(chart.layout.min_height.rstrip("px")) > 100  # never drawn at height 0


def test_same_upload_twice_is_scored_twice(tmp_path):
    import ipywidgets as widgets
    from signllm.progress import video_inputs
    upload, seen = widgets.FileUpload(), []
    video_inputs(upload, seen.append, tmp_path, widgets.Output())
    file = {"name": "attempt.pose", "content": SIGNER.read_bytes(), "type": "", "size": 1, "last_modified": datetime.datetime(2026, 12, 7)}
    for _ in range(2): upload.value = (file,)  # what the browser sends when the same file is chosen again
    assert len(seen) == 2 and upload.value == ()


def test_phrase_change_clears_the_score_and_sets_the_recording_length(signer, tmp_path):
    from signllm.lessons import PracticeSession
    from signllm.scoring import MARGIN, recording_seconds
    session = PracticeSession({"long": signer, "short": signer[:30]}, folder=tmp_path)
    box = session.widget
    assert session.seconds.value == recording_seconds(signer) >= signer.n_frames / signer.fps + MARGIN
    session.results.children = [box]  # (a score on screen)
    session.phrase_menu.value = "short"
    assert session.results.children == () and session.seconds.value == recording_seconds(signer[:30]) < recording_seconds(signer)


def test_a_recording_cut_short_is_told_so(signer):
    from signllm.scoring import score_attempt
    cut = score_attempt(signer[: int(0.65 * signer.n_frames)], signer)
    assert cut.cut_short and "record for longer" in cut.hints[0] and not any("faster" in h for h in cut.hints), cut.hints
    whole = score_attempt(signer, signer)
    assert not whole.cut_short and not any("record for longer" in h for h in whole.hints)
    slower = score_attempt(signer.resample(signer.fps * 0.7).replace(fps=signer.fps), signer)  # quicker, but complete
    assert not slower.cut_short


def test_hevc_videos_are_shown_as_h264(tmp_path, monkeypatch):
    import av
    from signllm.lessons import browser_video
    monkeypatch.setenv("SIGNLLM_CACHE", str(tmp_path))
    hevc = DATA / "msl_words" / "doctor.mp4"
    copy = browser_video(hevc)
    with av.open(str(copy)) as c: assert c.streams.video[0].codec_context.name == "h264"
    assert browser_video(hevc) == copy and copy.is_relative_to(tmp_path)  # made once
    assert browser_video(VIDEO) == VIDEO  # already H.264: shown as it is
    broken = tmp_path / "broken.mp4"; broken.write_bytes(b"\0" * 100)
    with pytest.raises(SignLLMError): browser_video(broken)


# ---------------------------------------------------------------- commands, extraction, caches

def test_python_dash_m_runs_the_cli():
    help_ = subprocess.run([sys.executable, "-m", "signllm.cli", "--help"], capture_output=True, text=True)
    assert help_.returncode == 0 and "usage: signllm" in help_.stdout
    bad = subprocess.run([sys.executable, "-m", "signllm.cli", "train", "nothing"], capture_output=True, text=True)
    assert bad.returncode != 0


def test_quick_extraction_keeps_about_the_target_rate(tmp_path):
    from signllm.keypoints import extract_pose
    frames = [np.zeros((64, 64, 3), np.uint8)] * 30
    assert HolisticOptions(target_fps=15).stride(30) == 2 and HolisticOptions(target_fps=15).stride(16) == 1
    assert HolisticOptions().stride(60) == 1
    pose = extract_pose(iter(frames), fps=30, options=HolisticOptions(target_fps=15))
    assert pose.n_frames == 15 and pose.fps == 15
    for bad in (-1, float("nan"), "15"):
        with pytest.raises(SignLLMError): HolisticOptions(target_fps=bad)


def test_letter_examples_are_cached_on_disk(tmp_path, monkeypatch):
    from signllm.classroom import _letter_variants, letter_variants
    monkeypatch.setenv("SIGNLLM_CACHE", str(tmp_path))
    _letter_variants.cache_clear()
    made = letter_variants("sgg")
    (stored,) = (tmp_path / "letters").glob("*.npz")
    _letter_variants.cache_clear()
    read = letter_variants("sgg")
    assert list(made) == list(read) and all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2:] == b[2:] for u in made for a, b in zip(made[u], read[u]))
    stored.write_bytes(b"not a cache file")  # damaged: made again, not trusted
    _letter_variants.cache_clear()
    assert list(letter_variants("sgg")) == list(made)
    _letter_variants.cache_clear()
