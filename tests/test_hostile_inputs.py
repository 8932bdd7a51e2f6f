"""Issue #29, budgets at every edge: a hostile DATA input (a tiny frame rate, a huge frame number, a device, a
100,000-letter word, an out-of-range option) is refused in one line, exit code 2, before it decides an allocation.

Every command runs as the real `signllm` console script under an address-space limit, so a command that would
allocate gigabytes fails the test (MemoryError / killed) instead of slowing the machine. 2 GiB of address space is
measured to be enough for the heaviest normal run here (`signllm translate` imports torch and MediaPipe and loads the
shipped translator), so the limit only stops the runaway allocations the issue reported (5.6 GiB - 99 TiB)."""
import json
import os
import resource
import subprocess

import numpy as np
import pytest

from conftest import DATA, SIGNLLM, write_clip

ADDRESS_SPACE = 2 * 1024**3  # bytes: torch + mediapipe + the translator fit; the inputs asked 5.6 GiB and more
TIMEOUT = 180  # seconds: the refused inputs take about one; a FIFO that blocks would take forever


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_limited(*args, cwd=None, timeout=TIMEOUT):
    "Run `signllm ARGS` with a bounded address space and a timeout."
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([str(SIGNLLM), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout, preexec_fn=_limit_memory)


def assert_refused(r, *words, outputs=()):
    "Exit code 2, exactly one line on stderr naming the problem (every word in `words`), no traceback, no output."
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr[-2000:]
    for word in words: assert word.lower() in lines[0].lower(), (word, lines[0])
    for out in outputs:
        assert not out.exists(), out
        assert not list(out.parent.glob(f".{out.stem}.*")), list(out.parent.iterdir())  # no partial file either


# ---------- hostile inputs, built in tmp_path ----------

def slow_pose(tmp_path, fps=1e-6, name="slow.pose"):
    "A real shipped clip whose header claims a tiny frame rate (the issue's 586 KB .pose at 1e-6 fps)."
    from signllm.pose import read_pose, write_pose
    pose = read_pose(DATA / "words" / "ase_FOOTBALL.pose")
    return write_pose(pose.replace(fps=fps), tmp_path / name)


def slow_video(tmp_path, fps="1/10000"):
    "An .mkv whose stream says 0.0001 frames per second (the issue's 87 KB .mkv)."
    import av
    from fractions import Fraction
    path = tmp_path / "slow.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 40 * i, np.uint8), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(): out.mux(packet)
    return path


def openpose_frame(people=1) -> dict:
    "One OpenPose frame: `people` people with a body and both hands."
    person = {"pose_keypoints_2d": [100.0, 100.0, 0.9] * 25, "face_keypoints_2d": [],
              "hand_left_keypoints_2d": [90.0, 200.0, 0.8] * 21, "hand_right_keypoints_2d": [110.0, 200.0, 0.8] * 21}
    return {"version": 1.3, "people": [person] * people}


def openpose_folder(tmp_path, names=("clip_000000000000_keypoints.json", "clip_000000000001_keypoints.json"),
                    content=None):
    folder = tmp_path / "openpose"
    folder.mkdir()
    for name in names:
        (folder / name).write_text(json.dumps(openpose_frame()) if content is None else content)
    return folder


# ---------- a frame rate read from an input ----------

@pytest.mark.parametrize("command", ["info", "render", "translate", "score"])
def test_pose_with_a_tiny_frame_rate(tmp_path, command):
    pose = slow_pose(tmp_path)
    out = tmp_path / "out.mp4"
    args = {"info": ["info", pose], "render": ["render", pose, "-o", out], "translate": ["translate", pose],
            "score": ["score", pose, DATA / "words" / "ase_FOOTBALL.pose"]}[command]
    assert_refused(run_limited(*args), "slow.pose", "frame rate", "1–240", outputs=[out])


def test_pose_with_a_huge_frame_rate(tmp_path):
    assert_refused(run_limited("info", slow_pose(tmp_path, fps=1e9)), "slow.pose", "frame rate")


def test_lexicon_clip_with_a_tiny_frame_rate(tmp_path):
    "A class's --lexicon folder holding a clip at 1e-6 fps: refused when the clip is read, naming the index.csv row."
    folder = tmp_path / "lexicon"
    folder.mkdir()
    slow_pose(folder, name="ball.pose")
    (folder / "index.csv").write_text("path,spoken_language,signed_language,start,end,words,glosses,priority\n"
                                      "ball.pose,en,ase,0,0,ball,BALL,0\n")
    out = tmp_path / "ball.mp4"
    r = run_limited("generate", "ball", "--lang", "ase", "--lexicon", folder, "-o", out)
    assert_refused(r, "ball.pose", "frame rate", outputs=[out])


def test_tokenizer_corpus_with_a_tiny_frame_rate(tmp_path):
    pose = slow_pose(tmp_path)
    r = run_limited("train", "tokenizer", "--data", pose, "--out", tmp_path / "tok", "--max-steps", "1", "--no-progress")
    assert_refused(r, "slow.pose", "frame rate")
    assert not (tmp_path / "tok" / "tokenizer.safetensors").exists()


@pytest.mark.parametrize("command", ["info", "translate", "score"])
def test_video_with_a_tiny_frame_rate(tmp_path, command):
    video = slow_video(tmp_path)
    args = {"info": ["info", video], "translate": ["translate", video],
            "score": ["score", video, DATA / "words" / "ase_FOOTBALL.pose"]}[command]
    r = run_limited(*args, cwd=tmp_path)
    assert_refused(r, "slow.mkv", "frame rate")


def test_practice_session_attempt_with_a_tiny_frame_rate(tmp_path):
    "PracticeSession.attempt (the classroom's upload path) refuses the 0.0001 fps video with one SignLLMError."
    video, folder = slow_video(tmp_path), tmp_path / "uploads"
    code = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
from signllm.core import SignLLMError
from signllm.lessons import PracticeSession
session = PracticeSession({{"football": {str(DATA / "words" / "ase_FOOTBALL.pose")!r}}}, folder={str(folder)!r}, cache=False)
try: session.attempt("football", {str(video)!r})
except SignLLMError as e: print("refused:", e); sys.exit(0)
sys.exit(1)
"""
    r = subprocess.run([str(SIGNLLM.parent / "python"), "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0 and "frame rate" in r.stdout and "slow.mkv" in r.stdout, r.stdout + r.stderr[-2000:]


def test_resample_checks_the_frames_it_would_make():
    "Pose.resample refuses a rate that would make more frames than LIMITS['frames'], before allocating them."
    from signllm.core import LIMITS, SignLLMError
    from signllm.pose import read_pose
    pose = read_pose(DATA / "words" / "ase_FOOTBALL.pose")
    with pytest.raises(SignLLMError, match="frames"):
        pose.replace(fps=1.0).resample(LIMITS["frames"][1])  # 62 s at 108,000 fps: 6.7 million frames
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(SignLLMError): pose.resample(bad)
    assert pose.resample(25).n_frames == round(pose.duration * 25)


def test_openpose_folder_fps_is_checked(tmp_path):
    from signllm.core import SignLLMError
    from signllm.keypoints import read_openpose_folder
    folder = openpose_folder(tmp_path)
    assert read_openpose_folder(folder).n_frames == 2
    with pytest.raises(SignLLMError, match="frame rate"): read_openpose_folder(folder, fps=1e-4)


def test_image_folder_fps_is_checked(tmp_path):
    from signllm.core import SignLLMError
    from signllm.keypoints import extract_pose
    with pytest.raises(SignLLMError, match="frame rate"): extract_pose(tmp_path, fps=1e-4)


# ---------- text to sign ----------

def test_generate_one_huge_word(tmp_path):
    out = tmp_path / "word.pose"
    r = run_limited("generate", "a" * 100_000, "--lang", "ase", "-o", out)
    assert_refused(r, "characters", outputs=[out])


def test_generate_one_long_word(tmp_path):
    "Under the text limit, one word longer than anyone fingerspells."
    out = tmp_path / "word.pose"
    r = run_limited("generate", "b" * 500, "--lang", "ase", "-o", out)
    assert_refused(r, "letters", outputs=[out])


def test_generate_a_huge_number(tmp_path):
    out = tmp_path / "number.pose"
    r = run_limited("generate", "9" * 3000, "--lang", "ase", "-o", out)
    assert_refused(r, outputs=[out])


@pytest.mark.parametrize("fps", ["0", "nan", "inf", "-25", "1e9"])
def test_generate_bad_fps(tmp_path, fps):
    out = tmp_path / "hello.pose"
    assert_refused(run_limited("generate", "hello", "--lang", "ase", "--fps", fps, "-o", out), "--fps", outputs=[out])


@pytest.mark.parametrize("option", [["--width", "100000"], ["--height", "0"], ["--width", "-5"]])
def test_generate_bad_size(tmp_path, option):
    out = tmp_path / "hello.mp4"
    assert_refused(run_limited("generate", "hello", "--lang", "ase", *option, "-o", out), option[0], outputs=[out])


# ---------- render options ----------

@pytest.mark.parametrize("option", [["--width", "100000"], ["--height", "100000"], ["--width", "3"],
                                    ["--fps", "inf"], ["--fps", "1e30"], ["--fps", "0"], ["--fps", "nan"],
                                    ["--speed", "1e-9"], ["--speed", "0"], ["--speed", "inf"], ["--speed", "1e9"]])
def test_render_bad_option(tmp_path, option):
    out = tmp_path / "out.mp4"
    r = run_limited("render", DATA / "phoenix14t" / "dev.skels", "-o", out, *option)
    assert_refused(r, option[0], outputs=[out])


# ---------- OpenPose folders ----------

def test_openpose_huge_frame_number(tmp_path):
    "One file named frame 10,000,000,000: the frame count comes from counting files, the number is checked."
    folder = openpose_folder(tmp_path, names=["clip_000010000000_keypoints.json"])
    assert_refused(run_limited("info", folder), "clip_000010000000_keypoints.json")
    (tmp_path / "b").mkdir()
    folder = openpose_folder(tmp_path / "b", names=["clip_100000000000_keypoints.json"])
    assert_refused(run_limited("info", folder), "clip_100000000000_keypoints.json")


def test_openpose_numbering_with_a_huge_gap(tmp_path):
    "Two frames numbered 0 and 99,999: under the frame limit, but 99,997 missing frames are not invented."
    folder = openpose_folder(tmp_path, names=["c_000000000000_keypoints.json", "c_000000099999_keypoints.json"])
    assert_refused(run_limited("info", folder), "missing")


def test_openpose_symlink_to_dev_zero(tmp_path):
    folder = openpose_folder(tmp_path)
    os.symlink("/dev/zero", folder / "clip_000000000002_keypoints.json")
    assert_refused(run_limited("info", folder), "clip_000000000002_keypoints.json", "not a regular file")


def test_openpose_fifo(tmp_path):
    folder = openpose_folder(tmp_path)
    os.mkfifo(folder / "clip_000000000002_keypoints.json")
    assert_refused(run_limited("info", folder, timeout=60), "clip_000000000002_keypoints.json", "not a regular file")


def test_openpose_symlink_to_a_regular_file_is_read(tmp_path):
    "A symlink to a regular file is an ordinary frame (datasets are often linked, not copied)."
    folder = openpose_folder(tmp_path)
    elsewhere = tmp_path / "frame.json"
    elsewhere.write_text(json.dumps(openpose_frame()))
    os.symlink(elsewhere, folder / "clip_000000000002_keypoints.json")
    r = run_limited("info", folder)
    assert r.returncode == 0 and "frames 3," in r.stdout, r.stderr


def test_openpose_oversized_file(tmp_path):
    folder = openpose_folder(tmp_path)
    with open(folder / "clip_000000000002_keypoints.json", "w") as f:
        f.write('{"people": [{"pose_keypoints_2d": [' + "0.5, " * 2_000_000 + '0]}]}')
    assert_refused(run_limited("info", folder), "clip_000000000002_keypoints.json", "bytes")


@pytest.mark.parametrize("content", ['{"people":5}', "[[1,2,3]]", "[" * 100_000 + "]" * 100_000, '{"people": [5]}',
                                     '{"people": [{"pose_keypoints_2d": 7}]}', '{"people": [{"pose_keypoints_2d": ["a", 2, 3]}]}',
                                     '{"people": "x"}', b"\xff\xfe not json", b"\x00" * 100])
def test_openpose_malformed_json(tmp_path, content):
    folder = openpose_folder(tmp_path, names=["clip_000000000000_keypoints.json"], content="")
    path = folder / "clip_000000000000_keypoints.json"
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    assert_refused(run_limited("info", folder), "clip_000000000000_keypoints.json")


# ---------- .skels text inputs ----------

def test_skels_with_one_huge_line(tmp_path):
    "A one-line .skels over LIMITS['line_bytes'] (32 MiB) is refused before the line is read whole."
    path = tmp_path / "big.skels"
    frame = ("0.1 " * 150 + "0.5 ").encode()
    with open(path, "wb") as f:
        for _ in range(34 * 1024**2 // len(frame) + 1): f.write(frame)
    out = tmp_path / "big.mp4"
    assert_refused(run_limited("render", path, "-o", out), "big.skels", "line 1", "bytes", outputs=[out])
    assert_refused(run_limited("info", path), "big.skels", "bytes")


def test_skels_with_a_long_line_under_the_limit_stays_small(tmp_path):
    "A 30 MB one-line .skels (under the line limit) is read in little memory: `info` answers under the 2 GiB limit."
    path = tmp_path / "long.skels"
    frame = ("0.1 " * 150 + "0.5 ").encode()
    with open(path, "wb") as f:
        for _ in range(30 * 1000**2 // len(frame)): f.write(frame)
    r = run_limited("info", path)
    assert r.returncode == 0 and "1 sentences" in r.stdout, r.stderr[-2000:]


def test_skels_of_random_bytes(tmp_path):
    path = tmp_path / "noise.skels"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    out = tmp_path / "noise.mp4"
    assert_refused(run_limited("render", path, "-o", out), "noise.skels", outputs=[out])
    assert_refused(run_limited("info", path), "noise.skels")


def test_skels_fifo(tmp_path):
    path = tmp_path / "pipe.skels"
    os.mkfifo(path)
    assert_refused(run_limited("info", path, timeout=60), "pipe.skels", "not a regular file")


def test_pose_symlink_to_dev_zero(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.pose")
    assert_refused(run_limited("info", tmp_path / "zero.pose", timeout=60), "zero.pose", "not a regular file")


# ---------- normal inputs still work under the same limits ----------

def test_normal_inputs_still_work(tmp_path):
    for pose in sorted((DATA / "words").rglob("*.pose"))[:3] + [DATA / "signer_video" / "human_signer.pose"]:
        r = run_limited("info", pose)
        assert r.returncode == 0 and "fps" in r.stdout, (pose, r.stderr[-2000:])
    for skels in sorted((DATA / "phoenix14t").glob("*.skels")):
        r = run_limited("info", skels)
        assert r.returncode == 0 and "sentences" in r.stdout, (skels, r.stderr[-2000:])
    out = tmp_path / "dev.mp4"
    r = run_limited("render", DATA / "phoenix14t" / "dev.skels", "--index", "1", "-o", out, "--width", "128",
                    "--height", "128", "--speed", "2", "--fps", "12.5")
    assert r.returncode == 0 and out.stat().st_size > 0, r.stderr[-2000:]
    out = tmp_path / "hello.pose"
    r = run_limited("generate", "hello Anna", "--lang", "ase", "--fps", "30", "-o", out)
    assert r.returncode == 0 and out.stat().st_size > 0, r.stderr[-2000:]
    r = run_limited("translate", DATA / "signer_video" / "human_signer.pose")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr[-2000:]
    folder = openpose_folder(tmp_path, names=[f"clip_{i:012d}_keypoints.json" for i in (0, 1, 3)])
    r = run_limited("info", folder)  # a missing file is a missing frame
    assert r.returncode == 0 and "frames 4," in r.stdout, r.stderr[-2000:]


def test_a_real_video_still_reads(tmp_path):
    "A normal 24 fps video: video_info accepts it."
    from signllm.keypoints import video_info
    video = write_clip(tmp_path / "gray.mp4", [np.full((64, 64, 3), 90, np.uint8)] * 3)
    assert video_info(video).fps == 24
