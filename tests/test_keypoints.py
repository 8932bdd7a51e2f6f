"""Keypoint extraction (chapter 01_keypoints): agreement with pose-format, sources and streaming, smoothing on the real
wrist, importers; `inputs.load_pose` (appendix 01b: every input, the video cache, bad input); and `signllm extract`
(appendix 01a: exit codes, resume after a kill, --shard, -j, bad input)."""
import contextlib
import io
import json
import os
import subprocess
import time
import weakref
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import DATA, SIGNLLM, write_clip
from signllm.core import SignLLMError
from signllm.extract import existing_pose, extract_main, parse_shard
from signllm.inputs import check_signer, load_pose
from signllm.keypoints import (OPENPOSE_SKELETON, HolisticOptions, extract_pose, read_image_folder, read_openpose_folder,
                               read_video, smooth, wrist_distances)
from signllm.pose import SIGN50, Component, Pose, Skeleton, read_pose, write_pose

VIDEO = DATA / "signer_video" / "human_signer.mp4"


# ---------------------------------------------------------------- helpers: short clips cut from the real video


@pytest.fixture(scope="module")
def real_frames():
    "The first 40 frames of the real signer video."
    frames = []
    for frame in read_video(VIDEO):
        frames.append(frame)
        if len(frames) == 40: break
    return frames


@pytest.fixture(scope="module")
def clips(tmp_path_factory, real_frames):
    "Three 10-frame clips of the real video (different stretches of it), and a 10-frame clip at its start."
    d = tmp_path_factory.mktemp("clips")
    return [write_clip(d / f"clip{k}.mp4", real_frames[10 * k:10 * k + 10]) for k in range(3)]


def clip_folder(tmp_path, clips, names=("a.mp4", "b.mp4", "sub/c.mp4")):
    folder = tmp_path / "videos"
    for clip, name in zip(clips, names):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(clip.read_bytes())
    return folder


def run(argv):
    "extract_main(argv) with stdout/stderr captured: (exit code, stdout, stderr)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = extract_main([str(a) for a in argv] + ["--quiet"])
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code, err, *words):
    assert code == 2, (code, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("signllm extract: error:"), err
    for w in words: assert w in err, err


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


# ---------------------------------------------------------------- the real video: acceptance

@pytest.fixture(scope="module")
def real_pose():
    "Our extraction of the whole real video (done once for this module)."
    return extract_pose(VIDEO)


@pytest.fixture(scope="module")
def pose_format_pose(tmp_path_factory):
    "pose-format's own `video_to_pose` code path on the same video."
    from pose_format.bin.pose_estimation import pose_video
    out = tmp_path_factory.mktemp("pf") / "human_signer.pose"
    with contextlib.redirect_stdout(io.StringIO()):
        pose_video(str(VIDEO), str(out), "mediapipe", {"model_complexity": 1}, progress=False)
    return read_pose(out)



def test_agrees_with_pose_format_video_to_pose(real_pose, pose_format_pose):
    assert pose_format_pose.skeleton.joints == real_pose.skeleton.joints
    d = wrist_distances(real_pose, pose_format_pose)
    median = float(np.median(d)) / real_pose.size[0]
    print(f"median wrist distance to pose-format: {np.median(d):.4f} px = {median:.5%} of the width ({len(d)} wrists)")
    assert len(d) > 400 and median < 0.01
    # same detections too: a hand is found in a frame by both or by neither
    assert (np.abs(real_pose.mask.mean(0) - pose_format_pose.mask.mean(0)) < 0.05).all()


def test_confidence_never_fakes_positions(real_pose):
    s = real_pose.skeleton
    for hand in ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"):
        conf = real_pose.confidence[:, s.slice(hand)]
        assert set(np.unique(conf)) <= {0.0, 1.0}
        assert (conf.min(1) == conf.max(1)).all()  # a hand is found whole or not at all
        lost = conf[:, 0] == 0
        assert lost.any()  # the real video has frames where the right (or left) hand is lost ...
        assert (real_pose.data[lost][:, s.slice(hand)] == 0).all()  # ... stored as zeros under confidence 0
    body = real_pose.confidence[:, s.slice("POSE_LANDMARKS")]
    assert (body > 0).all() and (body <= 1).all() and len(np.unique(body)) > 10  # visibilities, not a constant
    x, y = real_pose.data[real_pose.mask][:, 0], real_pose.data[real_pose.mask][:, 1]
    assert np.median(x) > 100 and np.median(y) > 100  # pixels, not normalised coordinates


def test_pose_file_opens_in_pose_format(real_pose, tmp_path):
    from pose_format import Pose as PFPose
    path = write_pose(real_pose, tmp_path / "human_signer.pose")
    pf = PFPose.read(path.read_bytes())
    assert pf.body.data.shape == (135, 1, 576, 3)
    assert [c.name for c in pf.header.components] == ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS",
                                                      "RIGHT_HAND_LANDMARKS", "POSE_WORLD_LANDMARKS"]
    assert (pf.header.dimensions.width, pf.header.dimensions.height) == (1280, 720)
    assert (np.asarray(pf.body.data.mask[:, 0, :, 0]) == (real_pose.confidence == 0)).all()
    from pose_format.utils.generic import detect_known_pose_format
    assert detect_known_pose_format(pf) == "holistic"



# ---------------------------------------------------------------- options, sources, streaming

def test_face_modes_and_world(clips):
    full = extract_pose(clips[0], options=HolisticOptions(face="full"))
    contours = extract_pose(clips[0], options=HolisticOptions(face="contours", world=False))
    iris = extract_pose(clips[0], options=HolisticOptions(face="iris", world=False))
    bare = extract_pose(clips[0], options=HolisticOptions(face="none", world=False))
    assert (full.n_joints, contours.n_joints, iris.n_joints, bare.n_joints) == (576, 203, 553, 75)
    keep = [int(p) for p in contours.skeleton.component("FACE_LANDMARKS").points]
    np.testing.assert_array_equal(contours.points("FACE_LANDMARKS"), full.points("FACE_LANDMARKS")[:, keep])
    np.testing.assert_array_equal(bare.points("RIGHT_HAND_LANDMARKS"), full.points("RIGHT_HAND_LANDMARKS"))
    assert not bare.skeleton.has("POSE_WORLD_LANDMARKS") and not bare.skeleton.has("FACE_LANDMARKS")



def test_image_folder_and_frame_stream_match_video(clips, tmp_path):
    import cv2
    from_video = extract_pose(clips[1])
    frames = list(read_video(clips[1]))
    for t, f in enumerate(frames):  # frame_2 must come before frame_10: natural order
        cv2.imwrite(str(tmp_path / f"frame_{t}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    from_images = extract_pose(tmp_path, fps=24)
    from_stream = extract_pose(iter(frames), fps=24)
    for other in (from_images, from_stream):
        np.testing.assert_array_equal(other.data, from_video.data)
        np.testing.assert_array_equal(other.confidence, from_video.confidence)
    assert [f.shape for f in read_image_folder(tmp_path)] == [(720, 1280, 3)] * 10
    with pytest.raises(SignLLMError, match="fps"):
        extract_pose(iter(frames))
    with pytest.raises(SignLLMError, match="same size"):
        extract_pose(iter([frames[0], frames[1][:100]]), fps=24)


def test_streaming_holds_no_frames(clips):
    alive, refs = [], []

    def watched():
        nonlocal refs
        for _ in range(3):  # 30 frames
            for frame in read_video(clips[2]):
                refs = [r for r in refs if r() is not None]
                alive.append(len(refs))
                refs.append(weakref.ref(frame))
                yield frame

    pose = extract_pose(watched(), fps=24, options=HolisticOptions(face="none", world=False))
    assert pose.n_frames == 30 and max(alive) <= 4, max(alive)


# ---------------------------------------------------------------- smoothing (synthetic test signals, labelled)


def test_smooth_reduces_jitter_on_real_wrist(real_pose):
    j = real_pose.skeleton.index("POSE_LANDMARKS", "RIGHT_WRIST")
    before = np.abs(np.diff(real_pose.data[:, j, :2], n=2, axis=0)).mean()
    steady = smooth(real_pose)
    after = np.abs(np.diff(steady.data[:, j, :2], n=2, axis=0)).mean()
    assert after < 0.7 * before
    assert np.abs(steady.data[:, j, :2] - real_pose.data[:, j, :2]).mean() < 10  # the movement stays (pixels)
    assert (steady.confidence == real_pose.confidence).all()
    filled = real_pose.fill_gaps()
    hand = real_pose.skeleton.slice("RIGHT_HAND_LANDMARKS")
    assert filled.mask[:, hand].all() and not real_pose.mask[:, hand].all()  # filling is its own, explicit step


# ---------------------------------------------------------------- importers (synthetic OpenPose JSON, labelled)

def synthetic_openpose_frame(t, face=True, people=1):
    "Synthetic OpenPose keypoints (not sign language): a body whose right wrist moves right by 2 px per frame."
    person = {"person_id": [-1], "pose_keypoints_3d": [], "face_keypoints_3d": []}
    body = np.zeros((25, 3))
    body[:, :2] = np.arange(50).reshape(25, 2) * 10 + 100
    body[:, 2] = 0.8
    body[4] = (300 + 2 * t, 400, 0.9)  # RIGHT_WRIST
    body[19:] = 0  # feet not found
    person["pose_keypoints_2d"] = body.ravel().tolist()
    person["face_keypoints_2d"] = (np.tile([500.0, 200.0, 0.7], 70)).tolist() if face else []
    for side, x in (("left", 700.0), ("right", 300.0)):
        hand = np.tile([x + 2 * t, 400.0, 0.6], 21)
        person[f"hand_{side}_keypoints_2d"] = hand.tolist()
    return {"version": 1.3, "people": [person] * people}


def write_openpose_folder(folder, frames, **kw):
    folder.mkdir(parents=True, exist_ok=True)
    for t in frames:
        (folder / f"clip_{t:012d}_keypoints.json").write_text(json.dumps(synthetic_openpose_frame(t, **kw)))
    return folder


def test_openpose_folder_importer(tmp_path):
    folder = write_openpose_folder(tmp_path / "op", [0, 1, 3, 4], face=False)  # frame 2 has no file
    (folder / f"clip_{5:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": []}))  # nobody
    pose = read_openpose_folder(folder, fps=24, width=1280, height=720)
    assert (pose.n_frames, pose.dims, pose.n_joints, pose.size) == (6, 2, 137, (1280, 720, 0))
    assert pose.skeleton == OPENPOSE_SKELETON
    assert not pose.mask[2].any() and not pose.mask[5].any()  # missing file, no person
    assert not pose.mask[:, OPENPOSE_SKELETON.slice("face_keypoints_2d")].any()  # empty face list = not found
    np.testing.assert_allclose(pose.points("pose_keypoints_2d", "RIGHT_WRIST")[[0, 4]], [[300, 400], [308, 400]])
    assert pose.confidence[0, OPENPOSE_SKELETON.index("pose_keypoints_2d", "RIGHT_WRIST")] == pytest.approx(0.9)
    assert not pose.mask[:, OPENPOSE_SKELETON.index("pose_keypoints_2d", "LEFT_BIG_TOE")].any()
    sign = pose.to_sign50()
    assert sign.skeleton == SIGN50 and sign.dims == 2
    for joint in ("NOSE", "NECK", "RIGHT_WRIST", "LEFT_SHOULDER"):
        assert sign.mask[[0, 1, 3, 4], SIGN50.index("BODY", joint)].all(), joint
    np.testing.assert_allclose(sign.points("RIGHT_HAND", "WRIST")[4], [308, 400])
    np.testing.assert_allclose(sign.points("LEFT_HAND", "WRIST")[4], [708, 400])


def test_openpose_importer_agrees_with_pose_format(tmp_path):
    from pose_format.utils.openpose import load_openpose_directory
    folder = write_openpose_folder(tmp_path / "op", range(6), face=True)
    ours = read_openpose_folder(folder, fps=24, width=1280, height=720)
    theirs = load_openpose_directory(str(folder), fps=24, width=1280, height=720)
    with open(tmp_path / "openpose.pose", "wb") as f: theirs.write(f)
    converted = load_pose(tmp_path / "openpose.pose")  # pose-format names (RShoulder, BASE, ...) -> ours
    assert converted.skeleton.joints == ours.skeleton.joints
    np.testing.assert_allclose(converted.data, ours.data)
    np.testing.assert_allclose(converted.confidence, ours.confidence)
    np.testing.assert_allclose(converted.to_sign50().data, ours.to_sign50().data)


@pytest.mark.parametrize("case, words", [
    ("missing", ["does not exist"]), ("no-files", ["no *_keypoints.json"]), ("bad-json", ["clip_000000000001"]),
    ("bad-length", ["hand_left_keypoints_2d has 6 numbers"]),
])
def test_openpose_bad_input(tmp_path, case, words):
    folder = write_openpose_folder(tmp_path / "op", [0, 1]) if case != "missing" else tmp_path / "nope"
    if case == "no-files":
        for p in folder.iterdir(): p.unlink()
    if case == "bad-json": (folder / f"clip_{1:012d}_keypoints.json").write_text("{not json")
    if case == "bad-length":
        frame = synthetic_openpose_frame(1)
        frame["people"][0]["hand_left_keypoints_2d"] = [1, 2, 3, 4, 5, 6]
        (folder / f"clip_{1:012d}_keypoints.json").write_text(json.dumps(frame))
    with pytest.raises(SignLLMError) as e: read_openpose_folder(folder)
    assert "\n" not in str(e.value)
    for w in words: assert w in str(e.value)


def test_load_pose_shipped_layouts_to_sign50(tmp_path):
    for path in (DATA / "words" / "ase_FOOTBALL.pose", DATA / "words" / "sgg" / "kinder.pose"):
        sign = load_pose(path).to_sign50()
        assert sign.skeleton == SIGN50 and sign.mask[:, SIGN50.index("BODY", "RIGHT_WRIST")].mean() > 0.9
        assert check_signer(sign, path.name) is sign
    unknown = Pose(np.zeros((3, 2, 2), np.float32), None, 25, Skeleton("x", [Component("MARKERS", ("A", "B"))]))
    pose = load_pose(write_pose(unknown, tmp_path / "markers.pose"))  # synthetic: a layout the kit cannot map
    assert pose.skeleton.components[0].name == "MARKERS"  # `signllm info` still describes it ...
    with pytest.raises(SignLLMError, match="unknown layout"):  # ... but no model is fed with it
        check_signer(pose, "markers.pose")


def test_load_pose_every_input_kind(tmp_path):
    sentence = load_pose(DATA / "phoenix14t" / "dev.skels", 2)
    assert sentence.skeleton == SIGN50 and sentence.meta["index"] == 2
    assert sentence.meta["text"] == (DATA / "phoenix14t" / "dev.text").read_text(encoding="utf-8").splitlines()[2].strip()
    assert load_pose(sentence) is sentence
    folder = write_openpose_folder(tmp_path / "op", range(3))
    assert load_pose(folder).skeleton == OPENPOSE_SKELETON
    shipped = load_pose(VIDEO)  # the sibling human_signer.pose, same frame count: no extraction
    assert shipped.n_frames == 135 and shipped.skeleton.n_joints == 576


def test_load_pose_extracts_a_video_once(clips, tmp_path):
    cache = tmp_path / "cache"
    first = load_pose(clips[0], cache=cache)
    assert [p.suffix for p in cache.iterdir()] == [".pose"]
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(clips[0].read_bytes())
    start = time.perf_counter()
    again = load_pose(copy, cache=cache)  # same content, another name: from the cache
    assert time.perf_counter() - start < 2
    np.testing.assert_array_equal(again.data, first.data)
    (next(cache.iterdir())).write_bytes(b"damaged")  # a damaged cache entry is extracted again
    np.testing.assert_array_equal(load_pose(copy, cache=cache).data, first.data)


@pytest.mark.parametrize("case, words", [
    ("missing", ["attempt", "does not exist"]), ("empty", ["is empty"]), ("text", ["unsupported input", "give a video"]),
    ("folder", ["_keypoints.json"]), ("index", ["--index is for .skels"]), ("negative", ["0 or more"]),
    ("range", ["has no sentence 9", "out of range"]), ("fake-video", ["not a readable video"]),
])
def test_load_pose_bad_input_is_one_line(tmp_path, case, words):
    (tmp_path / "empty.pose").touch()
    (tmp_path / "notes.txt").write_text("not a pose")
    (tmp_path / "fake.mp4").write_text("not a video")
    (tmp_path / "folder").mkdir()
    source, index = {"missing": (tmp_path / "nope.pose", None), "empty": (tmp_path / "empty.pose", None),
                     "text": (tmp_path / "notes.txt", None), "folder": (tmp_path / "folder", None),
                     "index": (DATA / "words" / "ase_FOOTBALL.pose", 2), "negative": (DATA / "phoenix14t" / "dev.skels", -1),
                     "range": (DATA / "phoenix14t" / "dev.skels", 9), "fake-video": (tmp_path / "fake.mp4", None)}[case]
    with pytest.raises(SignLLMError) as e: load_pose(source, index, what="attempt")
    assert "\n" not in str(e.value)
    for w in words: assert w in str(e.value), str(e.value)


# ---------------------------------------------------------------- bad video input

@pytest.fixture(scope="module")
def bad_videos(tmp_path_factory, clips):
    "A 0-byte file, a truncated MP4 (opens, stops decoding half-way), a text file named .mp4, a black video."
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is a text file, not a video\n" * 20)
    faststart = d / "faststart.mp4"  # moov first, so a truncated copy still opens
    with av.open(str(clips[0])) as src, av.open(str(faststart), "w", options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is None: continue
            packet.stream = stream
            dst.mux(packet)
    data = faststart.read_bytes()
    (d / "truncated.mp4").write_bytes(data[:len(data) // 2])
    faststart.unlink()
    write_clip(d / "black.mp4", [np.zeros((240, 320, 3), np.uint8)] * 10)
    return d


@pytest.mark.parametrize("name, words", [("empty.mp4", ["is empty"]), ("truncated.mp4", ["truncated"]),
                                         ("text.mp4", ["not a readable video"])])
def test_unreadable_single_video_is_exit_2(bad_videos, tmp_path, name, words):
    code, out, err = run([bad_videos / name, "-o", tmp_path / "out"])
    assert_one_line_error(code, err, name, *words)
    assert not (tmp_path / "out").exists()  # nothing partial, not even the output folder


def test_video_with_no_person_warns(bad_videos, tmp_path):
    code, out, err = run([bad_videos / "black.mp4", "-o", tmp_path])
    assert code == 0, err
    assert "warning" in err and "no person" in err and "Traceback" not in err
    pose = read_pose(tmp_path / "black.pose")
    assert pose.n_frames == 10 and not pose.mask.any()


def test_batch_with_bad_videos_processes_the_rest(bad_videos, clips, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    for p in bad_videos.iterdir(): (folder / p.name).write_bytes(p.read_bytes())
    (folder / "good.mp4").write_bytes(clips[0].read_bytes())
    out = tmp_path / "out"
    code, stdout, err = run([folder, "-o", out])
    assert code == 1, err
    assert files_under(out) == ["black.pose", "good.pose"]  # no partial or temporary files
    for name in ("empty.mp4", "truncated.mp4", "text.mp4"):
        assert name in err and name in stdout
    assert "3 of 5 videos failed" in err and "Traceback" not in err
    assert "good.mp4" in stdout and "100%" in stdout


@pytest.mark.parametrize("case, words", [
    ("missing-input", ["does not exist"]), ("missing-folder", ["does not exist"]), ("empty-list", ["names no videos"]),
    ("empty-folder", ["holds no videos"]), ("bad-shard", ["--shard"]), ("shard-order", ["--shard"]),
    ("unwritable", ["choose another -o folder"]), ("outdir-is-file", ["is a file"]), ("jobs", ["-j"]),
    ("complexity", ["never downloads"]),
])
def test_bad_input_exit_2(tmp_path, clips, case, words):
    (tmp_path / "empty").mkdir()
    (tmp_path / "list.txt").write_text("# nothing here\n\n")
    (tmp_path / "afile").write_text("x")
    argv = {
        "missing-input": [tmp_path / "nope.mp4", "-o", tmp_path / "out"],
        "missing-folder": [tmp_path / "no" / "folder", "-o", tmp_path / "out"],
        "empty-list": [tmp_path / "list.txt", "-o", tmp_path / "out"],
        "empty-folder": [tmp_path / "empty", "-o", tmp_path / "out"],
        "bad-shard": [clips[0], "-o", tmp_path / "out", "--shard", "2/2"],
        "shard-order": [clips[0], "-o", tmp_path / "out", "--shard", "one/two"],
        "unwritable": [clips[0], "-o", "/proc/signllm-extract-test"],
        "outdir-is-file": [clips[0], "-o", tmp_path / "afile"],
        "jobs": [clips[0], "-o", tmp_path / "out", "-j", "0"],
        "complexity": [clips[0], "-o", tmp_path / "out", "--model-complexity", "2"],
    }[case]
    code, out, err = run(argv)
    assert_one_line_error(code, err, *words)
    assert not (tmp_path / "out").exists()  # nothing written


# ---------------------------------------------------------------- the command: resume, shards, workers, kill

def test_folder_resume_and_list_file(clips, tmp_path):
    folder = clip_folder(tmp_path, clips)
    out = tmp_path / "out"
    code, stdout, err = run([folder, "-o", out])
    assert code == 0, err
    assert files_under(out) == ["a.pose", "b.pose", "sub/c.pose"]  # sub-folders kept
    assert "3 videos: 3 extracted, 0 skipped, 0 failed" in stdout
    assert "frames/s" in stdout and "     10     24" in stdout
    before = {p: (out / p).read_bytes() for p in files_under(out)}
    code, stdout, err = run([folder, "-o", out])  # resume: nothing to do
    assert code == 0 and "0 extracted, 3 skipped" in stdout
    assert {p: (out / p).read_bytes() for p in files_under(out)} == before
    (out / "b.pose").write_bytes(before["b.pose"][:200])  # a damaged output is extracted again
    code, stdout, err = run([folder, "-o", out])
    assert code == 0 and "1 extracted, 2 skipped" in stdout
    assert read_pose(out / "b.pose").n_frames == 10
    listing = tmp_path / "videos.txt"
    listing.write_text("videos/a.mp4\n# a comment\nvideos/sub/c.mp4\n")
    code, stdout, err = run([listing, "-o", tmp_path / "from_list"])
    assert code == 0 and files_under(tmp_path / "from_list") == ["a.pose", "c.pose"]


def test_shards_split_the_corpus(clips, tmp_path):
    folder = clip_folder(tmp_path, clips)
    assert parse_shard("1/3") == (1, 3) and parse_shard(None) == (0, 1)
    seen = []
    for i in range(2):
        code, stdout, err = run([folder, "-o", tmp_path / f"shard{i}", "--shard", f"{i}/2"])
        assert code == 0, err
        seen.append(files_under(tmp_path / f"shard{i}"))
    assert seen == [["a.pose", "sub/c.pose"], ["b.pose"]]


def test_two_workers_give_the_same_files(clips, tmp_path):
    folder = clip_folder(tmp_path, clips)
    assert run([folder, "-o", tmp_path / "one", "-j", "1"])[0] == 0
    code, stdout, err = run([folder, "-o", tmp_path / "two", "-j", "2"])
    assert code == 0, err
    for name in files_under(tmp_path / "one"):
        a, b = read_pose(tmp_path / "one" / name), read_pose(tmp_path / "two" / name)
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.confidence, b.confidence)


def test_killed_run_resumes_to_the_same_files(clips, real_frames, tmp_path):
    "A run killed (SIGKILL, no clean-up) half-way through a folder, then run again, equals an uninterrupted run."
    folder = tmp_path / "videos"
    folder.mkdir()
    for k in range(4):  # 20-frame clips so that the kill lands mid-folder
        write_clip(folder / f"v{k}.mp4", real_frames[10 * (k % 3):10 * (k % 3) + 20])
    out = tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([str(SIGNLLM), "extract", str(folder), "-o", str(out), "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.is_dir() and list(out.glob("v*.pose"))): time.sleep(0.05)
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    finished = sorted(p.name for p in out.glob("v*.pose"))
    (out / ".v3.ab12cd_3.part.pose").write_bytes(b"half a file")  # as if killed while writing v3.pose
    assert 1 <= len(finished) < 4, finished  # killed mid-folder
    for name in finished: assert existing_pose(out / name, HolisticOptions().skeleton) is not None  # none truncated
    code, stdout, err = run([folder, "-o", out])
    assert code == 0, err
    assert f"{4 - len(finished)} extracted, {len(finished)} skipped" in stdout
    assert files_under(out) == [f"v{k}.pose" for k in range(4)]  # temporary files of the killed run are gone
    assert run([folder, "-o", tmp_path / "clean"])[0] == 0
    for k in range(4):
        a, b = read_pose(out / f"v{k}.pose"), read_pose(tmp_path / "clean" / f"v{k}.pose")
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.confidence, b.confidence)


def test_console_script_routes_extract(cli, clips, tmp_path):
    r = cli("extract", clips[0], "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "clip0.mp4" in r.stdout and "1 extracted" in r.stdout
    assert "frame/s" in r.stderr or "frames/s" in r.stderr or "it/s" in r.stderr  # the progress bar
    assert "W0000" not in r.stderr  # MediaPipe's start-up log noise is hidden
    r = cli("extract", tmp_path / "missing.mp4", "-o", tmp_path)
    assert r.returncode == 2 and r.stderr.strip().startswith("signllm extract: error:")
    assert len(r.stderr.strip().splitlines()) == 1
