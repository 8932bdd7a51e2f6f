"VQ-Sign (nbs/04_vqsign, 04a_vqsign_training): acceptance numbers after the default training, determinism, save/load, bad input, DDP."
import math
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from signllm.core import SignLLMError
from signllm.pose import SIGN50, Pose, holistic_skeleton
from signllm.training import check_checkpoint, quiet_lightning
from signllm.vqsign import (VQSIGN_BASE, VQSIGN_TINY, VQSign, VQSignConfig, codebook_use, context_accuracy,
                            load_sources, load_vqsign, pad_features, pose_features, save_vqsign)
from signllm.vqsign_training import TRAIN_COMMAND, VQSIGN_TINY_TRAIN, KMeansTokenizer, train_vqsign


@pytest.fixture(scope="session")
def data():
    return load_sources(["phoenix:train", "fingerspelling", "words"]), load_sources(["phoenix:dev", "phoenix:test"])


@pytest.fixture(scope="session")
def trained(data):
    "The default training (VQSIGN_TINY preset, VQSIGN_TINY_TRAIN, shipped data) — the run the acceptance numbers are about."
    train, _ = data
    with quiet_lightning():
        module, trainer = train_vqsign(VQSIGN_TINY, VQSIGN_TINY_TRAIN, train)
    return module


def test_default_training_uses_codebook_and_beats_chance(trained, data):
    train, heldout = data
    model = trained.model
    heldout_use = codebook_use(model.tokenize(heldout), VQSIGN_TINY.codebook_size)
    train_use = codebook_use(model.tokenize(train), VQSIGN_TINY.codebook_size)
    score = context_accuracy(model, heldout)
    ratio = float(score.accuracy / score.chance)
    print(f"usage held-out {heldout_use.usage:.2f} train {train_use.usage:.2f}, accuracy {float(score.accuracy):.4f} "
          f"chance {float(score.chance):.4f} = {ratio:.1f}x")
    assert heldout_use.usage >= 0.5 and train_use.usage >= 0.5
    assert heldout_use.perplexity >= 0.25 * VQSIGN_TINY.codebook_size
    assert ratio >= 3
    assert abs(float(score.chance) - 1 / sum(math.ceil(p.n_frames / 4) for p in heldout)) < 1e-9


def test_an_untrained_model_fails_the_same_checks(data):
    "The acceptance checks can fail: a model without training is at chance with a collapsed codebook."
    _, heldout = data
    torch.manual_seed(0)
    model = VQSign(VQSIGN_TINY).eval()
    score = context_accuracy(model, heldout)
    assert float(score.accuracy / score.chance) < 3
    assert codebook_use(model.tokenize(heldout), VQSIGN_TINY.codebook_size).usage < 0.5


def test_training_history_shows_learning(trained):
    history = trained.history
    assert len(history) == VQSIGN_TINY_TRAIN.max_epochs * VQSIGN_TINY_TRAIN.crops_per_epoch // VQSIGN_TINY_TRAIN.batch_size
    first, last = np.mean([h["context"] for h in history[:20]]), np.mean([h["context"] for h in history[-20:]])
    assert last < first - 1.0
    assert np.mean([h["accuracy"] / h["chance"] for h in history[-20:]]) > 10
    assert min(h["usage"] for h in history[-50:]) > 0.3  # no collapse late in training


def test_tokens_are_deterministic_and_batch_independent(trained, data):
    _, heldout = data
    model = trained.model
    alone = [model.tokenize(p) for p in heldout]
    batched = model.tokenize(heldout, batch_size=4)
    for a, b, p in zip(alone, batched, heldout):
        np.testing.assert_array_equal(a, b)
        assert len(a) == math.ceil(p.n_frames / VQSIGN_TINY.downsample)
        assert a.min() >= 0 and a.max() < VQSIGN_TINY.codebook_size
    np.testing.assert_array_equal(model.tokenize(heldout[0]), alone[0])


def test_other_frame_rates_are_resampled(trained, data):
    train, _ = data
    clip = next(p for p in train if p.fps == 30)
    assert len(trained.model.tokenize(clip)) == math.ceil(round(clip.duration * 25) / 4)


def test_save_load_gives_identical_tokens(trained, data, tmp_path):
    _, heldout = data
    path = save_vqsign(trained.model, tmp_path / "vq.safetensors")
    loaded = load_vqsign(path, config=VQSIGN_TINY)
    for a, b in zip(trained.model.tokenize(heldout), loaded.tokenize(heldout)):
        np.testing.assert_array_equal(a, b)
    assert path.read_bytes()[8:9] == b"{"  # safetensors: a JSON header, then raw tensors (no pickle)
    assert not list(tmp_path.glob(".*part*"))  # atomic write leaves nothing behind


def test_checkpoint_of_another_configuration_is_a_clear_error(tmp_path):
    path = save_vqsign(VQSign(VQSIGN_TINY), tmp_path / "tiny.safetensors")
    with pytest.raises(SignLLMError, match=r"codebook_size=64.*codebook_size=512.*expected"):
        load_vqsign(path, config=VQSIGN_BASE)
    with pytest.raises(SignLLMError, match="objective='reconstruction' was expected"):
        load_vqsign(path, config=replace(VQSIGN_TINY, objective="reconstruction"))
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(SignLLMError, match="not a .safetensors file"):
        load_vqsign(tmp_path / "junk.safetensors")
    with pytest.raises(SignLLMError, match="does not exist"):
        load_vqsign(tmp_path / "missing.safetensors")


def test_resume_checkpoint_checked_and_weights_only(data, tmp_path):
    train, _ = data
    short = replace(VQSIGN_TINY_TRAIN, max_epochs=1, crops_per_epoch=32, batch_size=16)
    with quiet_lightning():
        train_vqsign(VQSIGN_TINY, short, train[:5], out_dir=tmp_path)
        last = tmp_path / "checkpoints" / "last.ckpt"
        torch.load(last, map_location="cpu", weights_only=True)  # loads without unpickling arbitrary objects
        check_checkpoint(last, VQSIGN_TINY, TRAIN_COMMAND)
        with pytest.raises(SignLLMError, match="codebook_size=64.*but codebook_size=512"):
            train_vqsign(VQSIGN_BASE, short, train[:5], ckpt_path=last)
        module, trainer = train_vqsign(VQSIGN_TINY, replace(short, max_epochs=2), train[:5], out_dir=tmp_path, ckpt_path=last)
    assert trainer.current_epoch == 2 and trainer.global_step == 4
    (tmp_path / "bad.ckpt").write_text("not a checkpoint")
    with pytest.raises(SignLLMError, match="not a loadable training checkpoint"):
        check_checkpoint(tmp_path / "bad.ckpt", VQSIGN_TINY, TRAIN_COMMAND)


@pytest.mark.parametrize("name, make, words", [
    ("holistic layout", lambda p: Pose(np.zeros((10, 75, 3)), None, 25, holistic_skeleton(face_points=0)), "sign50"),
    ("empty", lambda p: p[:0], "at least"),
    ("one frame", lambda p: p[:1], "at least"),
    ("NaN joint", lambda p: _with_nan(p), "NaN"),
])
def test_bad_poses_are_clear_errors(trained, data, name, make, words):
    _, heldout = data
    with pytest.raises(SignLLMError, match=words) as e:
        trained.model.tokenize(make(heldout[0]))
    assert len(str(e.value).splitlines()) == 1


def _with_nan(pose):
    bad = pose.replace()
    bad.data[3, SIGN50.index("RIGHT_HAND", "INDEX_FINGER_TIP")] = np.nan
    return bad


def test_missing_joints_are_masked_not_zero_positions(data):
    train, _ = data
    letter = next(p for p in train if not p.mask[:, SIGN50.slice("LEFT_HAND")].any())
    f = pose_features(letter)
    assert f[:, -21:].sum() == 0  # presence flags of the left hand
    nan_hidden = letter.replace()
    nan_hidden.data[:, SIGN50.slice("LEFT_HAND")] = np.nan  # values under confidence 0 are never read
    np.testing.assert_array_equal(pose_features(nan_hidden), f)


@pytest.mark.parametrize("objective", ["context", "reconstruction"])
@pytest.mark.parametrize("downsample", [2, 4, 8])
def test_option_grid_forward_backward(objective, downsample, data):
    train, _ = data
    config = replace(VQSIGN_TINY, objective=objective, downsample=downsample)
    model = VQSign(config).train()
    x, lengths = pad_features([pose_features(p) for p in train[:3]])
    out, loss = model(x, lengths)
    loss.total.backward()
    assert out.codes.shape == (3, math.ceil(x.shape[1] / downsample))
    assert ((out.codes >= 0) == out.mask).all()
    assert (loss.context > 0) == (objective == "context") and (loss.reconstruction > 0) == (objective == "reconstruction")
    assert model.encoder.embed.weight.grad.abs().sum() > 0  # gradients reach the encoder through the codebook


def test_config_validation():
    with pytest.raises(SignLLMError, match="power of 2"): VQSignConfig(downsample=3)
    with pytest.raises(SignLLMError, match="objective"): VQSignConfig(objective="mse")


def test_kmeans_baseline(data):
    train, heldout = data
    km = KMeansTokenizer.fit(train, k=32, iterations=10)
    tokens = km.tokenize(heldout[0])
    assert len(tokens) == math.ceil(heldout[0].n_frames / 4) and tokens.max() < 32
    np.testing.assert_array_equal(tokens, km.tokenize(heldout[0]))
    with pytest.raises(SignLLMError, match="at least k"):
        KMeansTokenizer.fit(train[:1], k=10_000)


def test_ddp_two_cpu_processes_one_short_epoch(tmp_path):
    "`--devices 2 --strategy ddp`: Lightning starts a second process (gloo) that re-runs the command."
    script = tmp_path / "train_tokenizer.py"
    script.write_text("import sys\nfrom signllm.tokenizer_cli import train_tokenizer_main\nsys.exit(train_tokenizer_main())\n")
    out = tmp_path / "run"
    args = ["--devices", "2", "--strategy", "ddp", "--data", "phoenix:train", "--val", "phoenix:dev",
            "--max-epochs", "1", "--crops-per-epoch", "32", "--batch-size", "8", "--out", str(out), "--no-progress"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=300, env=env,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "on 2 process(es) (DDPStrategy)" in r.stdout, r.stdout
    assert "trained 2 steps" in r.stdout  # 32 crops / batch 8 / 2 processes
    assert (out / "tokenizer.safetensors").exists() and (out / "checkpoints" / "last.ckpt").exists()


def test_scrubber_and_plots_work_from_the_module(trained, data):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from signllm.vqsign_training import plot_skeleton, plot_tokens, token_scrubber
    _, heldout = data
    pose = heldout[1]
    tokens = trained.model.tokenize(pose)
    widget = token_scrubber(pose, tokens, VQSIGN_TINY.downsample, "dev 2")
    slider = widget.children[0]
    assert slider.max == pose.n_frames - 1
    for frame in (5, pose.n_frames - 1): slider.value = frame  # redraws without error
    fig, (a, b) = plt.subplots(1, 2)
    plot_skeleton(a, pose.normalize(), 10, "frame 10")
    plot_tokens(b, tokens, VQSIGN_TINY.downsample, frame=10)
    assert len(a.lines) > 40  # body + both hands drawn
    plt.close("all")


def test_shipped_translator_tokenizer_still_loads():
    "The tokenizer part of the shipped translator (data/models) loads with load_vqsign and tokenizes real data."
    from signllm.core import data_path
    model = load_vqsign(data_path("models", "translator-phoenix-tiny.safetensors"), config=VQSIGN_TINY)
    pose = load_sources(["phoenix:dev"])[0]
    tokens = model.tokenize(pose)
    assert len(tokens) == math.ceil(pose.n_frames / VQSIGN_TINY.downsample) and tokens.max() < VQSIGN_TINY.codebook_size


def test_model_modules_do_not_import_lightning():
    "Inference needs vqsign and cra only; neither may pull in pytorch_lightning (training code lives in vqsign_training)."
    code = "import sys, signllm.vqsign, signllm.cra; sys.exit('pytorch_lightning' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
