"Rendering (chapters 03_render, 03a_player): written videos read back with PyAV, confidence-aware drawing, errors, player logic."
import csv
import tracemalloc

import av
import numpy as np
import pytest
from PIL import Image

from signllm.core import SignLLMError, data_path
from signllm.player import Player, plotly_animation
from signllm.pose import SIGN50, read_pose, read_skels
from signllm.render import PALETTES, PoseRenderer, SideBySide, count_frames, render_pose, side_by_side, write_video


@pytest.fixture(scope="module")
def phoenix():
    return next(read_skels(data_path("phoenix14t", "train.skels")))  # real: 86 frames, 25 fps, SIGN50


@pytest.fixture(scope="module")
def football():
    return read_pose(data_path("words", "ase_FOOTBALL.pose"))  # real: 62 frames, 29.97 fps, holistic 576


@pytest.fixture(scope="module")
def letter():
    "The real fingerspelled ASL letter A (holistic 586; the left hand is missing in every frame)."
    rows = list(csv.DictReader(data_path("fingerspelling", "index.csv").open()))
    return read_pose(data_path("fingerspelling", next(r["path"] for r in rows if r["signed_language"] == "ase" and r["words"] == "A")))


def near(image, rgb, tolerance=60):
    "How many pixels are close to the colour `rgb`."
    return int((np.abs(image.astype(int) - rgb).sum(-1) < tolerance).sum())


# --- written files ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["phoenix", "football"])
def test_mp4_has_one_frame_per_pose_frame_and_plays_in_browsers(which, request, tmp_path):
    pose = request.getfixturevalue(which)
    out = render_pose(pose, tmp_path / "out.mp4", 160, 120)
    assert out == tmp_path / "out.mp4"
    assert count_frames(out) == pose.n_frames
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (stream.width, stream.height) == (160, 120)
        assert float(stream.average_rate) == pytest.approx(pose.fps, rel=1e-3)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]  # no temporary file left over


def test_mp4_looks_like_the_drawn_frames_and_stays_small(phoenix, tmp_path):
    "The YUV conversion and the x264 settings keep the picture (colours, thin lines) and the file small."
    out = render_pose(phoenix, tmp_path / "out.mp4", 512, 512, title="PHOENIX")
    drawn = list(PoseRenderer(phoenix, 512, 512, title="PHOENIX"))
    with av.open(str(out)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    mse = np.mean([((a.astype(float) - b) ** 2).mean() for a, b in zip(decoded, drawn)])
    assert 10 * np.log10(255 ** 2 / mse) > 33  # dB; a wrong colour matrix or a blurred picture falls far below
    blue = PALETTES["dark"]["RIGHT_HAND"]
    assert near(decoded[40], blue) > 0.5 * near(drawn[40], blue) > 0  # the right hand keeps its colour
    assert out.stat().st_size < 150_000 * phoenix.duration  # bytes: well under 1.2 Mbit/s


def test_mp4_of_odd_size_is_padded_to_even(phoenix, tmp_path):
    out = render_pose(phoenix[:10], tmp_path / "odd.mp4", 101, 77)
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 10 and frames[0].shape == (78, 102, 3)


def test_gif_frame_count_duration_and_colours(letter, tmp_path):
    out = render_pose(letter, tmp_path / "letter.gif", 128, 128, title="A")
    gif = Image.open(out)
    assert gif.n_frames == letter.n_frames == 21
    assert gif.info["duration"] == 40  # 25 fps = 4/100 s per frame
    decoded = [f.to_ndarray(format="rgb24") for f in av.open(str(out)).decode(video=0)]
    drawn = list(PoseRenderer(letter, 128, 128, title="A"))
    assert max(np.abs(a.astype(int) - b).mean() for a, b in zip(decoded, drawn)) < 2  # palette per frame: ~lossless


def test_fps_resamples_and_speed_slows_down(phoenix, tmp_path):
    assert count_frames(render_pose(phoenix, tmp_path / "50.mp4", 64, 64, fps=50)) == 2 * phoenix.n_frames
    assert count_frames(render_pose(phoenix, tmp_path / "slow.mp4", 64, 64, speed=0.5)) == 2 * phoenix.n_frames
    assert count_frames(render_pose(phoenix, tmp_path / "same.mp4", 64, 64, fps=25)) == phoenix.n_frames


@pytest.mark.parametrize("name", ["out.avi", "out.webm", "out"])
def test_unknown_extension_is_refused_before_drawing(phoenix, tmp_path, name):
    drawn = []
    def frames():
        for frame in PoseRenderer(phoenix, 64, 64):
            drawn.append(1)
            yield frame
    with pytest.raises(SignLLMError, match=r"\.mp4, \.gif"):
        write_video(frames(), tmp_path / name, 25)
    assert drawn == [] and list(tmp_path.iterdir()) == []


def test_unwritable_output_path_gives_one_line_error_and_no_file(phoenix, tmp_path):
    with pytest.raises(SignLLMError, match="does not exist"):
        render_pose(phoenix, tmp_path / "no" / "such" / "folder" / "out.mp4")
    (tmp_path / "folder.mp4").mkdir()
    with pytest.raises(SignLLMError, match="is a folder"):
        render_pose(phoenix, tmp_path / "folder.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["folder.mp4"]


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_failure_half_way_leaves_no_partial_file(phoenix, tmp_path, suffix):
    frames = list(PoseRenderer(phoenix[:5], 64, 64))
    frames.append(np.zeros((32, 32, 3), np.uint8))  # synthetic: a frame of the wrong size, after 5 good ones
    with pytest.raises(SignLLMError, match="one size"):
        write_video(frames, tmp_path / f"out{suffix}", 25)
    def crashing():
        yield from frames[:3]
        raise RuntimeError("renderer crashed")
    with pytest.raises(RuntimeError):
        write_video(crashing(), tmp_path / f"out{suffix}", 25)
    assert list(tmp_path.iterdir()) == []


def test_empty_pose_and_bad_fps_are_refused(phoenix, tmp_path):
    with pytest.raises(SignLLMError, match="no frames"):
        render_pose(phoenix[:0], tmp_path / "empty.mp4")
    with pytest.raises(SignLLMError, match="fps"):
        render_pose(phoenix, tmp_path / "x.mp4", fps=0)
    with pytest.raises(SignLLMError, match="frame size"):
        render_pose(phoenix, tmp_path / "x.mp4", width=0)
    assert list(tmp_path.iterdir()) == []


def test_streaming_keeps_memory_flat(phoenix, tmp_path):
    "A 10× longer sequence must not need 10× the memory: frames are drawn and encoded one at a time."
    long = phoenix.replace(data=np.tile(phoenix.data, (10, 1, 1)), confidence=np.tile(phoenix.confidence, (10, 1)), meta={})
    peaks = []
    for pose in (phoenix, long):
        tracemalloc.start()
        render_pose(pose, tmp_path / f"{pose.n_frames}.mp4", 256, 256)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert count_frames(tmp_path / "860.mp4") == 860
    assert peaks[1] < 2 * peaks[0] + 5e6, peaks  # all 860 frames held at once would be 169 MB


# --- what is drawn ---------------------------------------------------------------------------------------------------

def test_missing_hand_is_not_drawn(letter, phoenix):
    # real: the ASL letter's left hand is missing (confidence 0) in every frame; garbage under it changes nothing
    left = letter.skeleton.slice("LEFT_HAND_LANDMARKS")
    assert (letter.confidence[:, left] == 0).all()
    garbage = letter.replace()
    garbage.data[:, left] = np.random.default_rng(0).uniform(-1e4, 1e4, garbage.data[:, left].shape)
    assert np.array_equal(PoseRenderer(letter, 200, 200).frame(10), PoseRenderer(garbage, 200, 200).frame(10))
    assert near(PoseRenderer(letter, 200, 200).frame(10), PALETTES["dark"]["LEFT_HAND"]) == 0
    # real PHOENIX frame: the right hand is drawn in blue; with its confidence set to 0 no blue pixel is left
    blue = PALETTES["dark"]["RIGHT_HAND"]
    assert near(PoseRenderer(phoenix, 256, 256).frame(40), blue) > 50
    lost = phoenix.replace()
    lost.confidence[:, SIGN50.slice("RIGHT_HAND")] = 0
    frame = PoseRenderer(lost, 256, 256).frame(40)
    assert near(frame, blue, tolerance=150) == 0
    assert near(frame, PALETTES["dark"]["LEFT_HAND"]) > 50  # ... while the left hand still is


def test_unsure_joints_are_drawn_faint(phoenix):
    unsure = phoenix.replace()
    unsure.confidence[:, SIGN50.slice("RIGHT_HAND")] = 0.5  # as Pose.fill_gaps marks filled joints
    sure_frame, faint_frame = PoseRenderer(phoenix, 256, 256).frame(40), PoseRenderer(unsure, 256, 256).frame(40)
    blue, bg = np.array(PALETTES["dark"]["RIGHT_HAND"]), np.array(PALETTES["dark"]["background"])
    faint_blue = (0.4 * blue + 0.6 * bg).round()
    assert near(faint_frame, blue, 40) == 0 and near(faint_frame, faint_blue, 20) > 20
    assert near(sure_frame, faint_blue, 20) < near(faint_frame, faint_blue, 20)


def test_world_landmarks_are_skipped_by_default(football):
    default = PoseRenderer(football, 200, 200).frame(0)
    hidden = football.replace()
    hidden.confidence[:, football.skeleton.slice("POSE_WORLD_LANDMARKS")] = 0
    assert np.array_equal(default, PoseRenderer(hidden, 200, 200).frame(0))


def test_view_is_fixed_for_the_whole_sequence(phoenix):
    renderer = PoseRenderer(phoenix, 256, 256)
    assert renderer.view == PoseRenderer(phoenix[40:41], 256, 256, fit=[phoenix]).view
    pixels = renderer.view.project(phoenix.data[..., :2])
    assert pixels.min() >= 0.06 * 256 - 1e-3 and pixels.max() <= 256 * 0.94 + 1e-3


def test_mirror_renders_differ(phoenix, tmp_path):
    plain, mirrored = PoseRenderer(phoenix, 256, 256).frame(40), PoseRenderer(phoenix.mirror(), 256, 256).frame(40)
    assert np.abs(plain.astype(int) - mirrored).sum() > 1000
    # mirroring swaps the hands: the signer's right hand (blue) is now a left hand (orange) on the other side
    blue_x = np.nonzero(near_mask(plain, PALETTES["dark"]["RIGHT_HAND"]))[1].mean()
    orange_x = np.nonzero(near_mask(mirrored, PALETTES["dark"]["LEFT_HAND"]))[1].mean()
    assert abs((256 - 1 - blue_x) - orange_x) < 8
    a, b = render_pose(phoenix, tmp_path / "a.mp4", 64, 64), render_pose(phoenix, tmp_path / "b.mp4", 64, 64, mirror=True)
    assert a.read_bytes() != b.read_bytes()


def near_mask(image, rgb, tolerance=60):
    return np.abs(image.astype(int) - rgb).sum(-1) < tolerance


@pytest.mark.parametrize("rel", ["phoenix14t/dev.skels", "words/ase_FOOTBALL.pose", "words/sgg/kinder.pose",
                                 "fingerspelling/gsg/fs-sts0258e172d448614da0a939f3f6e57508.pose"])
def test_every_shipped_layout_draws_its_hands(rel):
    path = data_path(*rel.split("/"))
    pose = next(read_skels(path)) if path.suffix == ".skels" else read_pose(path)
    renderer = PoseRenderer(pose, 200, 200, background="light")
    frames = list(renderer)
    assert len(frames) == pose.n_frames and frames[0].shape == (200, 200, 3) and frames[0].dtype == np.uint8
    hand = PALETTES["light"]["RIGHT_HAND"]
    assert sum(near(f, hand) for f in frames) > 0, "the right hand should show somewhere"


# --- side by side, plotly, player ------------------------------------------------------------------------------------

def test_side_by_side_holds_last_frame_and_resamples(letter, football, tmp_path):
    both = SideBySide([letter, football], ["A", "FOOTBALL"], width=96, height=96)
    assert len(both) == round(football.duration * letter.fps) == 52  # 29.97 fps resampled to 25
    assert both.frame(0).shape == (96, 2 * 96 + 2, 3)
    assert np.array_equal(both.frame(51)[:, :96], both.frame(20)[:, :96])  # the 21-frame letter holds its last frame
    out = write_video(side_by_side([letter, football], width=96, height=96), tmp_path / "pair.mp4", letter.fps)
    assert count_frames(out) == 52
    with pytest.raises(SignLLMError, match="titles"):
        SideBySide([letter, football], ["only one"])


def test_plotly_animation_frames_and_size(phoenix, football):
    fig = plotly_animation(phoenix)
    assert len(fig.frames) == phoenix.n_frames and fig.layout.sliders and fig.layout.updatemenus
    long = phoenix.resample(100)  # 344 frames
    assert len(plotly_animation(long, max_frames=150).frames) <= 150
    fig3 = plotly_animation(football, dims=3)
    assert fig3.data[0].type == "scatter3d" and len(fig3.frames) == football.n_frames
    assert len(fig.to_json()) < 400_000
    with pytest.raises(SignLLMError):
        plotly_animation(phoenix, dims=4)


def test_player_frame_function_without_a_browser(phoenix, letter):
    player = Player(phoenix, width=128, height=96)
    assert player.frame(0).shape == (96, 128, 3) and player.n_frames == phoenix.n_frames
    assert np.array_equal(player.frame(10_000), player.frame(phoenix.n_frames - 1))  # clamped
    assert not np.array_equal(player.frame(40), player.frame(40, mirror=True))
    png = np.asarray(Image.open(__import__("io").BytesIO(player.png(40))).convert("RGB"))
    assert np.array_equal(png, player.frame(40))
    two = Player([phoenix, letter.to_sign50()], ["PHOENIX", "A"], width=100, height=100)
    assert two.frame(5).shape == (100, 202, 3)
    # the widgets call the same functions
    two.widget
    two.show(30)
    assert two.view.index == 30 and len(two.view.frames) == two.n_frames and two.view.frames[30] == two.jpeg(30)
    two.mirror_box.value = True
    assert two.view.frames[30] == two.jpeg(30, mirror=True) != two.jpeg(30)
    import signllm.player as player_module  # a sequence longer than the limit: one frame at a time from the kernel
    limit, player_module.MAX_SENT_FRAMES = player_module.MAX_SENT_FRAMES, 10
    try:
        long = Player(phoenix, width=64, height=64)
        long.widget; long.show(25)
        assert long.view.frames == [long.jpeg(25)] and long.view.index == 0
    finally: player_module.MAX_SENT_FRAMES = limit
    two.speed_menu.value = 2.0
    assert two.play_button.interval == 20


def test_saved_notebooks_stay_light_and_embed_no_plotly_js():
    "Every saved notebook output: no copy of plotly.js (~4.8 MB each), no notebook over 1.5 MB, nbs/ under 10 MB."
    import json
    from conftest import REPO
    total = 0
    for nb in sorted((REPO / "nbs").rglob("*.ipynb")):
        text = nb.read_text(); total += len(text)
        assert len(text) < 1.5 * 2**20, f"{nb.name} is {len(text) / 2**20:.1f} MB; save smaller outputs (tools/shrink_outputs.py)"
        outputs = json.dumps([c.get("outputs", []) for c in json.loads(text)["cells"]])
        assert "plotly.js v" not in outputs, f"{nb.name} embeds plotly.js; import signllm.player before drawing plotly figures"
    assert total < 10 * 2**20, f"nbs/ holds {total / 2**20:.1f} MB"
