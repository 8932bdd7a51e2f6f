"Round trips and validation of the Pose core (chapter 00_pose) on the real shipped data."
import numpy as np
import pytest
from pose_format import Pose as PFPose

from signllm.core import SignLLMError, data_path
from signllm.pose import (SIGN50, Pose, face_mesh_limbs, from_pose_format, holistic_skeleton, pose_from_skels_line,
                          pose_to_skels_line, read_pose, read_skels, to_pose_format, write_pose)

SKELS = [data_path("phoenix14t", f"{split}.skels") for split in ("train", "dev", "test")]


@pytest.mark.parametrize("path", SKELS, ids=lambda p: p.name)
def test_skels_line_round_trip_is_exact(path):
    lines = path.read_text().splitlines()
    assert len(lines) == 5
    for line in lines:
        pose = pose_from_skels_line(line)
        assert pose.n_frames * 151 == len(line.split())
        assert pose_to_skels_line(pose) == line.strip()


def test_pose_file_round_trip_both_ways(tmp_path):
    pose = next(read_skels(SKELS[0]))
    back = read_pose(write_pose(pose, tmp_path / "s.pose"))
    assert np.array_equal(back.data, pose.data) and np.array_equal(back.confidence, pose.confidence)
    assert back.fps == pose.fps and back.skeleton == pose.skeleton
    theirs = PFPose.read((tmp_path / "s.pose").read_bytes())  # pose-format reads our file
    assert np.array_equal(np.asarray(theirs.body.data.data)[:, 0], pose.data)
    # ... and a .skels line survives Pose -> .pose -> Pose -> .skels
    assert pose_to_skels_line(back) == SKELS[0].read_text().splitlines()[0].strip()


@pytest.mark.parametrize("rel", ["words/sgg/essen.pose", "words/ase_FOOTBALL.pose",
                                 "fingerspelling/gsg/fs-sts0258e172d448614da0a939f3f6e57508.pose"])
def test_we_read_pose_format_files_of_every_layout_losslessly(tmp_path, rel):
    src = data_path(*rel.split("/"))
    theirs = PFPose.read(src.read_bytes())
    ours = from_pose_format(theirs)
    assert np.array_equal(ours.data, np.ma.getdata(theirs.body.data)[:, 0])
    assert np.array_equal(ours.confidence, np.asarray(theirs.body.confidence)[:, 0])
    assert ours.fps == pytest.approx(theirs.body.fps)
    again = to_pose_format(ours)
    assert [(c.name, list(c.points), [tuple(l) for l in c.limbs]) for c in again.header.components] == \
           [(c.name, list(c.points), [tuple(l) for l in c.limbs]) for c in theirs.header.components]
    sign = ours.to_sign50()
    assert sign.skeleton == SIGN50 and sign.mask[:, SIGN50.index("BODY", "LEFT_SHOULDER")].all()


def test_nan_joint_is_rejected_unless_missing():
    data = np.zeros((3, SIGN50.n_joints, 3), np.float32)  # synthetic: all-zero frames, only for validation
    data[1, 4] = np.nan
    with pytest.raises(SignLLMError, match="BODY.LEFT_WRIST is NaN"):
        Pose(data, None, 25, SIGN50)
    conf = np.ones((3, SIGN50.n_joints), np.float32)
    conf[1, 4] = 0
    assert Pose(data, conf, 25, SIGN50).missing > 0  # missing joints may hold anything


def test_unreadable_pose_file(tmp_path):
    bad = tmp_path / "bad.pose"
    bad.write_bytes(b"\x00\x01not a pose file at all")
    with pytest.raises(SignLLMError, match="not a readable .pose file"):
        read_pose(bad)
    # a real file cut short: the header claims more frames than the bytes hold
    cut = tmp_path / "cut.pose"
    cut.write_bytes(data_path("words", "ase_FOOTBALL.pose").read_bytes()[:20000])
    with pytest.raises(SignLLMError):
        read_pose(cut)


def test_face_mesh_limbs_is_public_and_matches_the_holistic_face():
    "render draws the face with `face_mesh_limbs`; the holistic skeleton uses the same edges."
    limbs = face_mesh_limbs(468)
    assert len(limbs) > 100 and all(0 <= a < 468 and 0 <= b < 468 for a, b in limbs)
    assert holistic_skeleton(468).component("FACE_LANDMARKS").limbs == limbs
