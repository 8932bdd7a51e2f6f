"""Writers that cooperate, one-line failures and processes that end (issue #29): two processes adding signs to one class
lexicon, two trainers on one --out, uploads that cannot replace each other or the progress database, the reference
uploaded as an attempt, malformed index.csv / languages.csv / progress databases, OpenPose rows that leave the corpus,
and `signllm extract -j 2` stopped by Ctrl-C, SIGTERM or kill -9 of its parent."""
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, SIGNLLM, write_clip
from signllm.core import SignLLMError

KINDER = DATA / "words" / "sgg" / "kinder.pose"
VIDEO = DATA / "signer_video" / "human_signer.mp4"
HEADER = b"path,spoken_language,signed_language,start,end,words,glosses,priority"


def one_line(text: str) -> str:
    "The message, after checking it is one line with no traceback."
    assert "Traceback" not in text, text
    lines = [l for l in text.splitlines() if l.strip()]
    assert len(lines) == 1, text
    return lines[0]


# ---------------------------------------------------------------- two processes adding signs to one class lexicon

def _add_many(folder, who, n, ready):
    from signllm.classroom import add_sign
    from signllm.pose import read_pose
    pose = read_pose(KINDER)
    ready.wait()
    for k in range(n): add_sign(folder, pose, "hello", "ase", span=(0, 20), source=f"{who}-{k}.mp4", cache=False)


def test_two_processes_add_signs_to_one_lexicon(tmp_path):
    from signllm.classroom import check_lexicon
    folder = tmp_path / "class-lexicon"
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    workers = [context.Process(target=_add_many, args=(folder, who, 15, ready)) for who in ("a", "b")]
    for w in workers: w.start()
    time.sleep(2.0); ready.set()  # both start writing at the same moment
    for w in workers: w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    good, problems = check_lexicon(folder)
    clips = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.pose"))
    assert problems == [] and len(good) == 30 and len(clips) == 30
    assert sorted(e.path for e in good) == clips  # every clip filed once, no row without its clip


def test_formula_words_are_refused_and_file_names_neutralised(tmp_path):
    from signllm.classroom import add_sign
    from signllm.pose import read_pose
    pose = read_pose(KINDER)
    for word in ("=HYPERLINK(\"x\")", "+1", "-cmd", "@SUM(A1)"):
        with pytest.raises(SignLLMError, match="formula"): add_sign(tmp_path, pose, word, "ase", span=(0, 20))
    with pytest.raises(SignLLMError, match="formula"): add_sign(tmp_path, pose, "hello", "ase", gloss="=1+1", span=(0, 20))
    entry = add_sign(tmp_path, pose, "hello", "ase", span=(0, 20), source="=cmd|' /C calc'!A0.mp4")
    text = (tmp_path / "index.csv").read_text()
    assert entry.words == "hello" and "'=cmd" in text
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in text.splitlines() for cell in line.split(","))


# ---------------------------------------------------------------- two trainers on one --out

HOLD = """
import sys, time
from signllm.training import claim_run_folder
claim_run_folder(sys.argv[1]); print("held", flush=True); time.sleep(60)
"""


def test_a_second_trainer_on_a_held_out_is_refused(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        r = subprocess.run([str(SIGNLLM), "train", "generator", "--out", out, "--steps", "4", "--batch-size", "2",
                            "--val-every", "2", "--no-progress"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 2, r.stderr
        assert f"process {holder.pid}" in one_line(r.stderr) and "in use by another training run" in r.stderr
        assert sorted(p.name for p in out.iterdir()) == [".signllm-train.lock"]  # nothing of the refused run
    finally:
        holder.kill(); holder.wait()


def test_a_dead_runs_claim_is_taken_over(tmp_path):
    from signllm.training import RUN_LOCK, claim_run_folder, release_run_folder
    out = tmp_path / "run"
    dead = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    assert dead.stdout.readline().strip() == "held"
    dead.kill(); dead.wait()  # killed while holding it: the lock file still names it
    assert (out / RUN_LOCK).read_text().split()[0] == str(dead.pid)
    claim_run_folder(out)
    try: assert (out / RUN_LOCK).read_text().split()[0] == str(os.getpid())
    finally: release_run_folder(out)


def test_two_real_trainers_on_one_out(tmp_path):
    out = tmp_path / "run"
    command = [str(SIGNLLM), "train", "generator", "--out", str(out), "--steps", "4", "--batch-size", "2", "--val-every", "2",
               "--no-progress"]
    first = subprocess.Popen(command[:5] + ["--steps", "200", "--batch-size", "2", "--val-every", "100", "--no-progress"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # (long enough to meet the second)
    lock = out / ".signllm-train.lock"
    for _ in range(600):
        if lock.is_file() and lock.read_text().strip() == str(first.pid): break
        time.sleep(0.05)
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    alive = first.poll() is None
    stdout, stderr = first.communicate(timeout=600)
    assert alive, "the first run ended before the second started: the test proves nothing"
    assert first.returncode == 0, stderr
    assert second.returncode == 2 and "in use by another training run" in one_line(second.stderr)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["last.ckpt"]  # no stray last-v1.ckpt


# ---------------------------------------------------------------- uploads

def test_uploads_never_replace_each_other_or_the_progress_database(tmp_path):
    from signllm.progress import Progress, save_upload
    progress = Progress(tmp_path / "progress.sqlite")
    before = (tmp_path / "progress.sqlite").read_bytes()
    first = save_upload({"name": "attempt.mp4", "content": b"first"}, tmp_path)
    second = save_upload({"name": "attempt.mp4", "content": b"second"}, tmp_path)
    assert first != second and first.read_bytes() == b"first" and second.read_bytes() == b"second"
    assert first.suffix == second.suffix == ".mp4"
    sneaky = save_upload({"name": "progress.sqlite", "content": b"not a database"}, tmp_path)
    assert sneaky != progress.path and progress.path.read_bytes() == before and progress.learners() == []
    long = save_upload({"name": "a" * 300 + ".mp4", "content": b"x"}, tmp_path)
    assert long.suffix == ".mp4" and len(long.name) <= 120 and long.read_bytes() == b"x"


def _upload_many(folder, n, ready):
    from signllm.progress import save_upload
    ready.wait()
    for k in range(n): save_upload({"name": "attempt.mp4", "content": f"{os.getpid()}-{k}".encode()}, folder)


def test_two_processes_uploading_the_same_name(tmp_path):
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    workers = [context.Process(target=_upload_many, args=(tmp_path, 20, ready)) for _ in range(2)]
    for w in workers: w.start()
    time.sleep(1.5); ready.set()
    for w in workers: w.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    contents = sorted(p.read_bytes() for p in tmp_path.glob("attempt*.mp4"))
    assert len(contents) == 40 and len(set(contents)) == 40


# ---------------------------------------------------------------- the reference uploaded as the attempt

def test_the_reference_itself_is_not_an_attempt(tmp_path):
    from signllm.lessons import PracticeSession
    from signllm.pose import read_pose
    reference = DATA / "signer_video" / "human_signer.pose"
    session = PracticeSession({"signer": reference}, "Alex", tmp_path / "p.sqlite", tmp_path, cache=False)
    with pytest.raises(SignLLMError, match="is the reference itself"): session.attempt("signer", reference)
    with pytest.raises(SignLLMError, match="is the reference itself"): session.attempt("signer", read_pose(reference))
    assert session.progress.attempts() == []
    slower = read_pose(reference)
    slower = slower.resample(slower.fps * 1.5).replace(fps=slower.fps)
    assert session.attempt("signer", slower).overall > 50 and len(session.progress.attempts()) == 1


# ---------------------------------------------------------------- malformed lexicon files: one line, file and line

def lexicon(tmp_path, index: bytes, languages: bytes | None = None) -> Path:
    (tmp_path / "sgg").mkdir(exist_ok=True)
    (tmp_path / "sgg" / "kinder.pose").write_bytes(KINDER.read_bytes())
    (tmp_path / "index.csv").write_bytes(index)
    if languages is not None: (tmp_path / "languages.csv").write_bytes(languages)
    return tmp_path


MALFORMED = {
    "start 1e400": (HEADER + b"\nsgg/kinder.pose,de,sgg,1e400,0,k,K,0\n", None, "line 2: start"),
    "end 1e400": (HEADER + b"\nsgg/kinder.pose,de,sgg,0,1e400,k,K,0\n", None, "line 2: end"),
    "start nan": (HEADER + b"\nsgg/kinder.pose,de,sgg,nan,0,k,K,0\n", None, "line 2: start"),
    "row not utf-8": (HEADER + b"\nsgg/kinder.pose,de,sgg,0,0,k,K,0\nsgg/kinder.pose,de,sgg,0,0,k\xff,K,0\n", None,
                      "index.csv line 3 is not UTF-8"),
    "header not utf-8": (b"pa\xffth" + HEADER[4:] + b"\nsgg/kinder.pose,de,sgg,0,0,k,K,0\n", None, "index.csv line 1 is not UTF-8"),
    "field of 200k": (HEADER + b"\nsgg/kinder.pose,de,sgg,0,0," + b"k" * 200_000 + b",K,0\n", None, "index.csv line 2"),
    "field of 100k": (HEADER + b"\nsgg/kinder.pose,de,sgg,0,0," + b"k" * 100_000 + b",K,0\n", None, "index.csv line 2"),
    "languages.csv not utf-8": (HEADER + b"\nsgg/kinder.pose,ar,jox,0,0,k,K,0\n",
                                b"code,name,spoken_language\njox,Jor\xffdan,ar\n", "languages.csv line 2 is not UTF-8"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_lexicon_is_one_line(tmp_path, case):
    from signllm.classroom import check_lexicon
    from signllm.data import read_index
    from signllm.loaders import read_corpus
    index, languages, where = MALFORMED[case]
    folder = lexicon(tmp_path, index, languages)
    for read in (lambda: list(read_index(folder)), lambda: check_lexicon(folder)[1][0], lambda: list(read_corpus(folder, "train"))):
        try: problem = read()
        except SignLLMError as e: problem = str(e)
        assert where in one_line(problem) and len(problem) < 400, problem


@pytest.mark.parametrize("case", ["start 1e400", "languages.csv not utf-8"])
def test_malformed_corpus_on_the_command_line(tmp_path, case):
    index, languages, where = MALFORMED[case]
    folder = lexicon(tmp_path / "corpus", index, languages) if (tmp_path / "corpus").mkdir() is None else None
    r = subprocess.run([str(SIGNLLM), "train", "generator", "--corpus", folder, "--out", tmp_path / "out", "--steps", "2",
                        "--no-progress"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and where in one_line(r.stderr), r.stderr


def test_control_characters_are_not_printed(tmp_path):
    import warnings
    from signllm.data import read_index
    folder = lexicon(tmp_path, HEADER + b"\nsgg/kinder.pose,ar,jow,0,0,chil\x1b[2Jdren,CHILDREN\x07,0\n",
                     b"code,name,spoken_language\njow,Jor\x1b]0;pwned\x07dan\x1b[31m Sign\xe2\x80\xae Language,ar\n")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        entry = next(read_index(folder))
    message = str(said[0].message)
    assert "\x1b" not in message and "\x07" not in message and "\u202e" not in message and "Jor]0;pwneddan[31m Sign Language" in message
    assert entry.words == "chil[2Jdren" and entry.glosses == "CHILDREN"


# ---------------------------------------------------------------- OpenPose rows: the checks of .pose rows

def openpose_corpus(tmp_path, row: str) -> Path:
    import json
    corpus = tmp_path / "corpus"
    (corpus / "clip").mkdir(parents=True)
    person = {"pose_keypoints_2d": [100.0, 100.0, 0.9] * 25, "face_keypoints_2d": [],
              "hand_left_keypoints_2d": [90.0, 200.0, 0.8] * 21, "hand_right_keypoints_2d": [110.0, 200.0, 0.8] * 21}
    for k in range(4): (corpus / "clip" / f"clip_{k:012d}_keypoints.json").write_text(json.dumps({"people": [person]}))
    outside = tmp_path / "outside"
    outside.mkdir()
    for k in range(4): (outside / f"clip_{k:012d}_keypoints.json").write_text(json.dumps({"people": [person]}))
    (corpus / "link").symlink_to(outside, target_is_directory=True)
    (corpus / "index.csv").write_text(HEADER.decode() + "\n" + row + "\n")
    return corpus


@pytest.mark.parametrize("row, problem", [
    ("clip,en,ase,0,0,hello,HELLO,0", None),
    ("link,en,ase,0,0,hello,HELLO,0", "leads outside"),
    ("clip,en,ase,-1000,0,hello,HELLO,0", "times must be 0 or more"),
    ("clip,en,ase,0,1e400,hello,HELLO,0", "end"),
    ("clip/../../outside,en,ase,0,0,hello,HELLO,0", "leads outside"),
])
def test_openpose_rows_are_checked_like_pose_rows(tmp_path, row, problem):
    from signllm.loaders import read_corpus
    corpus = openpose_corpus(tmp_path, row)
    if problem is None:
        assert [s.pose.n_frames for s in read_corpus(corpus, "train")] == [4]; return
    with pytest.raises(SignLLMError, match=problem) as e: list(read_corpus(corpus, "train"))
    assert "index.csv line 2" in one_line(str(e.value))


# ---------------------------------------------------------------- progress databases: locked is not corrupt

def test_locked_corrupt_and_foreign_progress_databases(tmp_path):
    from signllm.progress import Progress
    from signllm.scoring import ScoreReport
    path = tmp_path / "class.sqlite"
    progress = Progress(path, timeout=0.3)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process in the middle of a save
    for touch in (lambda: progress.learners(), lambda: progress.attempts("Alex"), lambda: Progress(path, timeout=0.3)):
        with pytest.raises(SignLLMError) as e: touch()
        assert "locked by another process" in one_line(str(e.value)) and "try again" in str(e.value)
        assert "not a progress database" not in str(e.value) and "move this one away" not in str(e.value)
    other.execute("ROLLBACK"); other.close()
    assert progress.learners() == []
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO attempts (learner, phrase, time, overall) VALUES (?, ?, ?, ?)", [("x" * 500, "y" * 500, "t", 1.0)] * 300)
    db.commit(); db.close()
    damaged = bytearray(path.read_bytes())
    for i in range(2 * 4096 + 100, len(damaged), 4096): damaged[i:i + 3000] = b"\x77" * 3000
    path.write_bytes(bytes(damaged))
    for touch in (lambda: progress.learners(), lambda: progress.attempts()):
        with pytest.raises(SignLLMError, match="not a progress database or is damaged") as e: touch()
        one_line(str(e.value))
    foreign = sqlite3.connect(tmp_path / "grades.sqlite"); foreign.execute("CREATE TABLE grades (x)"); foreign.commit(); foreign.close()
    with pytest.raises(SignLLMError, match="not a progress database"): Progress(tmp_path / "grades.sqlite")
    same_names = sqlite3.connect(tmp_path / "other.sqlite")
    same_names.execute("CREATE TABLE attempts (x)"); same_names.execute("CREATE TABLE part_scores (y)"); same_names.commit(); same_names.close()
    with pytest.raises(SignLLMError, match="lacks id, learner"): Progress(tmp_path / "other.sqlite")
    assert ScoreReport  # (imported: the module loads)


# ---------------------------------------------------------------- extract -j 2: Ctrl-C, kill -9 of the parent

@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    "Short real clips cut from the shipped signer video (one second each)."
    import av
    folder = tmp_path_factory.mktemp("clips")
    frames = []
    with av.open(str(VIDEO)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24")[::2, ::2])
            if len(frames) == 24: break
    for k in range(12): write_clip(folder / f"clip{k:02d}.mp4", frames[k % 4:] + frames[:k % 4])
    return folder


def _workers(pid: int) -> list[int]:
    "The worker processes of an extract run (its spawned children, not the resource tracker)."
    import psutil
    try: children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess: return []
    out = []
    for c in children:
        try:
            if "resource_tracker" not in " ".join(c.cmdline()): out.append(c.pid)
        except psutil.Error: pass
    return out


def _alive(pids: list[int]) -> list[int]:
    import psutil
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE: alive.append(pid)
        except psutil.NoSuchProcess: pass
    return alive


def _start_extract(clips: Path, out: Path) -> tuple[subprocess.Popen, list[int]]:
    "Start `signllm extract CLIPS -o OUT -j 2` in its own process group; return it once both workers are extracting."
    process = subprocess.Popen([str(SIGNLLM), "extract", clips, "-o", out, "-j", "2", "-q"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        workers = _workers(process.pid)
        if len(workers) >= 2 and (any(out.glob("*.pose")) or any(out.glob(".*.part.pose"))): return process, workers
        time.sleep(0.1)
    process.kill(); raise AssertionError("the workers never started")


def test_ctrl_c_stops_extract_j2_and_its_workers(clip_folder, tmp_path):
    out = tmp_path / "poses"
    process, workers = _start_extract(clip_folder, out)
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    stdout, stderr = process.communicate(timeout=30)
    took = time.monotonic() - started
    assert process.returncode == 130 and took < 6, (process.returncode, took, stderr)
    assert "interrupted" in one_line(stderr)
    time.sleep(0.5)
    assert _alive(workers) == []
    assert len(list(out.glob("*.pose"))) < 12 and list(out.glob(".*part*")) == []  # stopped early, no temporary file left


def test_sigterm_stops_extract_j2(clip_folder, tmp_path):
    out = tmp_path / "poses"
    process, workers = _start_extract(clip_folder, out)
    started = time.monotonic()
    process.terminate()  # SIGTERM to the parent only
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and time.monotonic() - started < 6, stderr
    time.sleep(0.5)
    assert _alive(workers) == [] and list(out.glob(".*part*")) == []
    assert "Traceback" not in stderr


def test_workers_die_with_a_killed_parent(clip_folder, tmp_path):
    out = tmp_path / "poses"
    process, workers = _start_extract(clip_folder, out)
    process.kill(); process.wait()  # kill -9: the parent cannot clean up
    deadline = time.monotonic() + 8
    while _alive(workers) and time.monotonic() < deadline: time.sleep(0.2)
    left = _alive(workers)
    for pid in left: os.kill(pid, signal.SIGKILL)
    assert left == []
    time.sleep(0.5)
    assert list(out.glob(".*part*")) == []  # the workers removed their temporary files as they went


# ---------------------------------------------------------------- SIGTERM during a write; temp files of killed runs

def test_sigterm_during_render_leaves_no_temp_file(tmp_path):
    from signllm.pose import read_pose, write_pose
    pose = read_pose(DATA / "signer_video" / "human_signer.pose")
    long = write_pose(pose.replace(data=np.concatenate([pose.data] * 12), confidence=np.concatenate([pose.confidence] * 12)),
                      tmp_path / "long.pose")  # ~1 minute of real signing: rendering takes several seconds
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen([str(SIGNLLM), "render", str(long), "-o", str(out), "--appearance"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".out.*.part.mp4")) and time.time() < deadline and proc.poll() is None: time.sleep(0.1)
    assert proc.poll() is None, "the render ended before it could be stopped"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    ours = [line for line in err.splitlines() if line.startswith("signllm")]  # (MediaPipe's own C++ INFO line may precede it)
    assert proc.returncode == 130 and len(ours) == 1 and "interrupted" in ours[0] and "Traceback" not in err, (proc.returncode, err)
    assert not out.exists() and not list(tmp_path.glob(".out.*.part*")), list(tmp_path.iterdir())


def test_a_killed_writes_temp_file_is_swept_by_the_next_write(tmp_path):
    from signllm.core import STALE_PART_SECONDS, atomic_path
    stale, fresh = tmp_path / ".row.abc123.part.mp4", tmp_path / ".row.def456.part.mp4"  # what kill -9 leaves
    for f in (stale, fresh): f.write_bytes(b"\0" * 1000)
    os.utime(stale, (time.time() - 2 * STALE_PART_SECONDS,) * 2)
    with atomic_path(tmp_path / "row.mp4") as tmp: tmp.write_bytes(b"video")
    assert not stale.exists() and fresh.exists()  # a write still running elsewhere (fresh) is left alone
