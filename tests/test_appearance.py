"""Appearance (chapter 10: signllm.cutout, signllm.animate, signllm.appearance_eval, signllm.appearance): a pose
performed by the person of a reference photo.

Acceptance of issue 10 that the notebooks do not already assert: a PHOENIX sentence gives a playable MP4/GIF with the
right frame count and no temporary files; bad photos and bad arguments give one-line errors and write nothing (a photo
without visible hands falls back to drawn hands with a warning); retargeting, the signing region, warped photo hands,
the player and the `appearance_main` command. Self-reenactment beating its baselines and the speed of at least 10
frames/s at 512×512 are asserted in nbs/10b_appearance_eval.ipynb and nbs/10a_appearance_frames.ipynb.
Real data throughout; the only edited picture is a real frame with its hands painted over (labelled below).
"""
import itertools

import numpy as np
import pytest

from signllm.animate import AppearanceRenderer, drive
from signllm.appearance import AppearancePlayer, appearance_main, render_appearance
from signllm.appearance_eval import signing_region
from signllm.core import SignLLMError, data_path
from signllm.cutout import (BODY, HAND_SLICES, default_photo, default_reference, face_outline, make_reference,
                            part_domains, signer_video_pose)
from signllm.keypoints import extract_pose, read_video
from signllm.pose import SIGN50, read_pose, read_skels, write_pose
from signllm.render import count_frames

VIDEO = data_path("signer_video", "human_signer.mp4")


@pytest.fixture(scope="module")
def signer_pose(tmp_path_factory):
    "Holistic keypoints of the real signer video: the shipped .pose, else extracted once per test module (cached)."
    shipped = signer_video_pose()
    if shipped is not None: return shipped
    path = tmp_path_factory.mktemp("signer") / "human_signer.pose"
    write_pose(extract_pose(VIDEO), path)
    return read_pose(path)


@pytest.fixture(scope="module")
def phoenix():
    return next(read_skels(data_path("phoenix14t", "train.skels")))


def test_shipped_keypoints_are_what_extraction_gives(signer_pose):
    "data/signer_video/human_signer.pose is regenerable: its first frames are what a fresh MediaPipe run gives."
    if signer_video_pose() is None: pytest.skip("no shipped .pose (the fixture extracted it)")
    fresh, shipped = extract_pose(itertools.islice(read_video(VIDEO), 8), fps=24), signer_pose[:8]
    assert signer_pose.n_frames == 135 and signer_pose.size[:2] == (1280, 720)
    # to 1e-3 px on the machine that made it; another CPU's MediaPipe kernels move joints by hundredths of a pixel
    found = ((fresh.confidence > 0) == (shipped.confidence > 0)).mean()
    gap = np.abs(fresh.data - shipped.data)[(fresh.confidence > 0) & (shipped.confidence > 0)][:, :2]
    assert found > 0.99 and np.median(gap) < 0.05 and np.percentile(gap, 95) < 1, (found, np.median(gap), np.percentile(gap, 95))


def test_signing_region_holds_arms_and_hands(signer_pose):
    region = signing_region(signer_pose, 0, (720, 1280))
    body = signer_pose.skeleton
    for comp, point in (("POSE_LANDMARKS", "LEFT_ELBOW"), ("POSE_LANDMARKS", "RIGHT_SHOULDER"),
                        ("RIGHT_HAND_LANDMARKS", "INDEX_FINGER_TIP")):
        x, y = np.round(signer_pose.data[0, body.index(comp, point), :2]).astype(int)
        assert region[y, x]
    assert not region[50, 50] and 0.02 < region.mean() < 0.3  # a corner of the backdrop is outside


def test_phoenix_to_mp4_and_gif(phoenix, tmp_path):
    out = render_appearance(phoenix, tmp_path / "phoenix.mp4")
    assert count_frames(out) == phoenix.n_frames
    gif = render_appearance(phoenix, tmp_path / "slow.gif", width=128, height=96, fps=10)
    assert count_frames(gif) == round(phoenix.duration * 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["phoenix.mp4", "slow.gif"]  # no temporary files left


def test_retargeting_gives_the_photo_person_proportions(phoenix, signer_pose):
    reference = default_reference()
    motion = drive(phoenix, reference)
    xy, ref = motion.xy, reference.joints
    rs, ls = BODY["RIGHT_SHOULDER"], BODY["LEFT_SHOULDER"]
    assert motion.retargeted
    assert np.median(np.linalg.norm(xy[:, ls] - xy[:, rs], axis=-1)) == pytest.approx(reference.shoulder_width, rel=1e-3)
    np.testing.assert_allclose(np.median((xy[:, rs] + xy[:, ls]) / 2, 0), (ref[rs] + ref[ls]) / 2, atol=1.0)
    fore = np.percentile(np.linalg.norm(xy[:, BODY["LEFT_WRIST"]] - xy[:, BODY["LEFT_ELBOW"]], axis=-1), 90)
    want = max(np.linalg.norm(ref[BODY["LEFT_WRIST"]] - ref[BODY["LEFT_ELBOW"]]), 0.8 * reference.shoulder_width)
    assert fore == pytest.approx(want, rel=1e-3)
    # keypoints of the photo's own video are used as they are; the same keypoints twice as big are retargeted
    assert not drive(signer_pose, reference).retargeted
    bigger = signer_pose.replace(data=signer_pose.data * 2)
    assert drive(bigger, reference).retargeted
    np.testing.assert_allclose(drive(signer_pose, reference, retarget_mode=False).xy[0, rs],
                               signer_pose.to_sign50().data[0, rs, :2])


def test_photo_hands_warped_when_apart(signer_pose):
    frame125 = next(itertools.islice(read_video(VIDEO), 125, None))
    apart = make_reference(frame125, signer_pose[125:126])
    assert apart.hands_warped == {"RIGHT": True, "LEFT": True}
    assert not any(default_reference().hands_warped.values())  # the default photo's hands touch: drawn
    warped = AppearanceRenderer(signer_pose[66:67], apart, 1280, 720, retarget=False, crop="full")
    drawn = AppearanceRenderer(signer_pose[66:67], make_reference(frame125, signer_pose[125:126], hands="draw"),
                               1280, 720, retarget=False, crop="full")
    assert warped._warped_hand(warped.plate.copy(), "LEFT", warped.xy[0, HAND_SLICES["LEFT"]])
    hand = warped.xy[0, HAND_SLICES["LEFT"]]
    (x0, y0), (x1, y1) = hand.min(0).astype(int), hand.max(0).astype(int)
    assert np.abs(warped.frame(0)[y0:y1, x0:x1].astype(int) - drawn.frame(0)[y0:y1, x0:x1]).mean() > 5


@pytest.mark.parametrize("name, make, message", [
    ("broken.png", lambda d, image: (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image"),
     "is not a readable image"),
    ("backdrop.png", lambda d, image: _save(d / "backdrop.png", image[:300, :400]), "no person found in backdrop.png"),
    ("head.png", lambda d, image: _save(d / "head.png", image[:400, 350:1050]), "cannot be seen in head.png"),
    ("missing.png", lambda d, image: None, "does not exist"),
])
def test_bad_photos_fail_cleanly(name, make, message, tmp_path, phoenix):
    image, _ = default_photo()
    make(tmp_path, image)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(SignLLMError, match=message) as error:
        render_appearance(phoenix, tmp_path / "out.mp4", photo=tmp_path / name)
    assert "\n" not in str(error.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, not even a partial file


def _save(path, rgb):
    import cv2
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]))


def test_photo_without_visible_hands_warns_and_draws(tmp_path, phoenix):
    reference = default_reference()
    edited = reference.image.copy()  # EDITED real frame: both hands painted over with the shirt's colour
    domains = part_domains(reference.joints, reference.hips, face_outline(reference.keypoints), edited.shape[:2])
    edited[(domains["RIGHT_HAND"] > 0) | (domains["LEFT_HAND"] > 0)] = (15, 15, 17)
    _save(tmp_path / "no_hands.png", edited)
    with pytest.warns(UserWarning, match="hand found in no_hands.png; drawing"):
        out = render_appearance(phoenix[:10], tmp_path / "out.mp4", photo=tmp_path / "no_hands.png")
    assert count_frames(out) == 10


def test_arm_never_seen_rests_with_a_warning(tmp_path):
    "ASL fingerspelling clips zero the non-dominant arm: it is drawn at rest, not refused."
    pose = read_pose(sorted(data_path("fingerspelling", "ase").glob("*.pose"))[0])
    with pytest.warns(UserWarning, match="never shows the signer's left wrist; drawing it at rest"):
        out = render_appearance(pose, tmp_path / "letter.mp4", width=160, height=160)
    assert count_frames(out) == pose.n_frames


def test_bad_arguments_fail_before_writing(tmp_path, phoenix):
    with pytest.raises(SignLLMError, match="unknown video format"): render_appearance(phoenix, tmp_path / "out.avi")
    with pytest.raises(SignLLMError, match="frame size"): render_appearance(phoenix, tmp_path / "out.mp4", width=8)
    with pytest.raises(SignLLMError, match="fps must be"): render_appearance(phoenix, tmp_path / "out.mp4", fps=0)
    no_shoulders = phoenix.replace(confidence=np.where(np.isin(np.arange(SIGN50.n_joints),
                                                                [BODY["LEFT_SHOULDER"]]), 0, phoenix.confidence))
    with pytest.raises(SignLLMError, match="no left shoulder"): render_appearance(no_shoulders, tmp_path / "out.mp4")
    with pytest.raises(SignLLMError, match="hands must be"): make_reference(hands="glove")
    assert list(tmp_path.iterdir()) == []


def test_player_shows_skeleton_and_appearance(phoenix):
    player = AppearancePlayer(phoenix, width=160, height=120)
    assert player.n_frames == phoenix.n_frames and player.frame(5).shape == (120, 322, 3)
    assert player.frame(5, mirror=True).shape == (120, 322, 3)
    assert not np.array_equal(player.frame(5), player.frame(5, mirror=True))
    assert AppearancePlayer(phoenix, width=160, height=120, skeleton=False).frame(0).shape == (120, 160, 3)


def test_appearance_main(tmp_path, capsys):
    skels = data_path("phoenix14t", "dev.skels")
    assert appearance_main([str(skels), "--index", "2", "-o", str(tmp_path / "a.mp4"), "--width", "128",
                            "--height", "128"]) == 0
    assert count_frames(tmp_path / "a.mp4") == list(read_skels(skels))[2].n_frames
    assert appearance_main([str(skels), "-o", str(tmp_path / "b.mp4"), "--photo", str(tmp_path / "none.jpg")]) == 2
    assert "signllm appearance: error: photo" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]
