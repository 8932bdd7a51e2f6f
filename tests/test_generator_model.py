"The learned generator (chapter 09b_generator_model): metric, shipped checkpoint quality, MLSF, Prompt2LangGloss, I/O."
import contextlib
import io
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import DATA
from signllm.data import read_phoenix
from signllm.pose import SIGN50, Pose, SignLLMError
from signllm.generator_model import (TINY, ProgressiveDecoder, SignGenerator, TrainConfig, baseline_outputs,
                                     default_generator, dtw_joint_error, fingerspelled_examples,
                                     generate_auto, generate_with_model, load_generator, mean_pose, model_covers,
                                     parse_prompt, phoenix_examples, save_generator, score_system, still_pose,
                                     train_generator, train_generator_main, unknown_words)

warnings.filterwarnings("ignore", ".*does not have many workers.*")
CHECKPOINT = DATA / "models" / "generator-tiny.safetensors"


@pytest.fixture(scope="module")
def phoenix():
    return {split: list(read_phoenix(DATA / "phoenix14t", split)) for split in ("train", "test")}


@pytest.fixture(scope="module")
def shipped_scores(phoenix):
    "Model and baselines on the 5 PHOENIX test sentences, with the shipped checkpoint."
    model = default_generator()
    test, refs = phoenix["test"], [s.pose for s in phoenix["test"]]
    rows = {"model": score_system("model", [model.sign(s.text, "gsg").pose for s in test], refs)}
    for name, outputs in baseline_outputs(test, phoenix["train"]).items(): rows[name] = score_system(name, outputs, refs)
    return rows


def test_metric_is_the_issue_definition(phoenix):
    "Mean training pose on the test sentences: 0.168, as measured with the original Progressive Transformers code."
    average = mean_pose([s.pose for s in phoenix["train"]])
    scores = [dtw_joint_error(still_pose(average, s.pose.n_frames), s.pose) for s in phoenix["test"]]
    assert np.mean(scores) == pytest.approx(0.168, abs=0.001)
    ref = phoenix["test"][0].pose
    assert dtw_joint_error(ref, ref) == 0.0
    # frame cost is the mean Euclidean distance over joints: shifting every joint by 0.01 in x costs exactly 0.01
    assert dtw_joint_error(ref.data + np.array([0.01, 0, 0], np.float32), ref.data) == pytest.approx(0.01, abs=1e-6)
    with pytest.raises(SignLLMError, match="50, 3"): dtw_joint_error(ref.data[:, :, :2], ref.data[:, :, :2])


def test_shipped_checkpoint_a_dtw_at_most_0175(shipped_scores):
    assert shipped_scores["model"].dtw.mean() <= 0.175, shipped_scores["model"].dtw


def test_shipped_checkpoint_b_moves_like_signing(shipped_scores):
    assert 0.5 <= shipped_scores["model"].speed.mean() <= 2.0, shipped_scores["model"].speed
    assert shipped_scores["mean pose"].speed.mean() == 0.0


def test_shipped_checkpoint_c_beats_nearest_sentence_retrieval(shipped_scores):
    assert shipped_scores["model"].dtw.mean() < shipped_scores["nearest sentence (text)"].dtw.mean()


def test_shipped_checkpoint_predicts_its_own_length(phoenix):
    model = default_generator()
    for s in phoenix["test"]:
        out = model.sign(s.text, "gsg")
        assert 25 <= out.pose.n_frames < model.config.max_frames  # stopped by its counter, not by the limit
        assert out.counter[-1] >= model.config.stop and (np.diff(out.counter) > 0).all()


def test_shipped_checkpoint_is_small_and_weights_only():
    assert CHECKPOINT.exists() and CHECKPOINT.stat().st_size < 5 * 2 ** 20
    assert CHECKPOINT.read_bytes()[:8] != b"PK\x03\x04"  # not a zip/pickle torch file
    model = load_generator(CHECKPOINT)
    assert set(model.languages) == {"gsg", "ase"}


def test_round_trip_gives_identical_output_and_other_configs_are_refused(tmp_path):
    model = default_generator()
    path = save_generator(model, tmp_path / "copy.safetensors", model.info)
    back = load_generator(path)
    for text, lang in [("schauer im nordwesten", "gsg"), ("snow", "ase")]:
        assert np.array_equal(back.sign(text, lang).pose.data, model.sign(text, lang).pose.data)
    for other in (replace(TINY, dim=128), replace(TINY, mode="prompt2langgloss"), replace(TINY, future=4)):
        with pytest.raises(SignLLMError, match="was asked for"): load_generator(path, config=other)
    assert load_generator(path, config=model.config).config == model.config
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"), metadata={"format": "signllm-vqsign"})
    with pytest.raises(SignLLMError, match="not a signllm generator"): load_generator(tmp_path / "other.safetensors")
    (tmp_path / "junk.safetensors").write_text("not a model")
    with pytest.raises(SignLLMError, match="not a readable"): load_generator(tmp_path / "junk.safetensors")


def test_two_languages_in_one_model_lang_switches_output():
    "Register a second language with the model and train both groups on real data; --lang picks the group."
    dgs = phoenix_examples("train")[:3]
    asl = fingerspelled_examples(["rain", "snow", "sun", "wind", "cold"])
    module = train_generator(TINY, TrainConfig(steps=30, batch_size=4, val_every=1000), dgs + asl)
    model = module.model
    assert list(model.groups) == ["gsg", "ase"] and model.languages == {"gsg": "de", "ase": "en"}
    a, b = model.sign("snow", "ase").pose, model.sign("snow", "gsg").pose
    assert a.meta["signed_language"] == "ase" and b.meta["signed_language"] == "gsg"
    assert not np.allclose(a.data[:10], b.data[:10])
    # each group speaks its own units: shoulder widths (≈1 between the shoulders) vs the .skels units (≈0.33)
    width = lambda p: float(np.linalg.norm(p.data[:, 2] - p.data[:, 5], axis=-1).mean())
    assert 0.7 < width(a) < 1.3 and 0.25 < width(b) < 0.45
    assert (a.confidence[:, SIGN50.slice("LEFT_HAND")] == 0).all()  # the ASL alphabet clips have no left hand
    with pytest.raises(SignLLMError, match="it knows: gsg .*, ase"): model.sign("ciao", "ise")


def test_adding_a_language_grows_the_shared_vocabulary():
    model = SignGenerator(TINY)
    model.add_language("gsg", [e.pose for e in phoenix_examples("train")], [e.text for e in phoenix_examples("train")])
    before = model.word_embedding.weight.detach().clone()
    model.add_language("ase", [e.pose for e in fingerspelled_examples(["rain", "snow"])], ["rain", "snow"])
    assert "en:rain" in model.words and model.word_embedding.num_embeddings == len(model.words)
    assert torch.equal(model.word_embedding.weight[:len(before)], before)  # old rows kept
    with pytest.raises(SignLLMError, match="already has a group"): model.add_language("ase", [])


def test_prompt2langgloss_gloss_step_is_visible_and_editable():
    examples = phoenix_examples("train")
    model = train_generator(replace(TINY, mode="prompt2langgloss"), TrainConfig(steps=30, val_every=1000), examples).model
    text, lang = parse_prompt('How do you sign "schauer im nordwesten" in DGS?')
    assert (text, lang) == ("schauer im nordwesten", "gsg")
    glosses = model.gloss_sequence(text, lang)
    assert glosses[0] == "<gsg>" and all(g in model.gloss_sets["gsg"] for g in glosses[1:])
    first = model.sign(text, lang).pose
    edited = model.sign(text, lang, glosses=["REGEN", "NORDWEST"]).pose
    assert first.meta["tokens"] == glosses and edited.meta["tokens"] == ["<gsg>", "REGEN", "NORDWEST"]
    assert not np.allclose(first.data[:10], edited.data[:10])
    with pytest.raises(SignLLMError, match="empty"): model.sign(text, lang, glosses="")


def test_decoder_step_cache_matches_the_full_forward():
    decoder = ProgressiveDecoder(TINY).eval()
    g = torch.Generator().manual_seed(0)
    frames, counters = torch.randn(2, 9, TINY.components, generator=g), torch.rand(2, 9, generator=g)  # arithmetic check only
    memory, mask = torch.randn(2, 4, TINY.dim, generator=g), torch.tensor([[True] * 4, [True, True, False, False]])
    with torch.no_grad():
        full, full_counter = decoder(frames, counters, memory, mask)
        cache = [None] * TINY.layers
        for t in range(9):
            step, counter = decoder.step(frames[:, t], counters[:, t], t, memory, mask, cache)
            assert torch.allclose(step, full[:, t], atol=1e-5) and torch.allclose(counter, full_counter[:, t], atol=1e-5)


def test_engine_functions_for_the_cli():
    pose = generate_with_model("schauer im nordwesten", "gsg")
    assert isinstance(pose, Pose) and pose.skeleton == SIGN50 and pose.meta["engine"] == "model" and pose.meta["units"] == "skels"
    assert generate_with_model("schauer im nordwesten", "gsg", normalize=True).meta["units"] == "normalized"
    assert model_covers("schauer im nordwesten", "gsg") and model_covers("snow", "ase")
    assert not model_covers("hochdruckeinfluss", "gsg") and not model_covers("ciao", "ise")
    assert unknown_words("schauer über hochdruckeinfluss", "gsg") == ["ueber", "hochdruckeinfluss"]
    # words never seen in training: auto falls back to the lexicon, with a warning that names them
    auto = generate_auto("schauer über hochdruckeinfluss", "gsg")
    assert auto.meta["engine"] == "lexicon" and "hochdruckeinfluss" in auto.meta["warning"]
    assert generate_auto("snow", "ase").meta["engine"] == "model"
    assert "no sgg group" in generate_auto("Kinder essen Pizza", "sgg").meta["warning"]
    # an unknown language for the model engine lists the languages the checkpoint knows
    with pytest.raises(SignLLMError, match=r"it knows: gsg \(German Sign Language\), ase \(American Sign Language\)"):
        generate_with_model("ciao", "ise")
    with pytest.raises(SignLLMError, match="no sign language given"): generate_with_model("regen")
    assert generate_with_model('How do you sign "schauer im nordwesten" in DGS?').meta["signed_language"] == "gsg"


def test_train_command_resumes_and_reports_mistakes(tmp_path):
    out = tmp_path / "run"
    assert train_generator_main(["--out", str(out), "--steps", "10", "--val-every", "5", "--no-progress"]) == 0
    assert (out / "generator.safetensors").exists() and (out / "checkpoints" / "last.ckpt").exists()
    assert train_generator_main(["--out", str(out), "--steps", "15", "--val-every", "5", "--no-progress", "--resume"]) == 0
    model = load_generator(out / "generator.safetensors")
    assert model.info["steps"] == 15 and [s for s, _ in model.info["val_curve"]] == [5, 10, 15]
    assert (out / "val_dtw.png").exists()
    csv = next((out / "logs").glob("version_*/metrics.csv")).read_text()
    assert "val_dtw" in csv
    for argv, message in [(["--out", str(out)], "already holds a training run"),
                          (["--out", str(tmp_path / "x"), "--lang", "ise"], "no training data for ise"),
                          (["--out", str(tmp_path / "y"), "--steps", "0"], "--steps must be at least 1"),
                          (["--out", str(tmp_path / "z"), "--resume"], "no checkpoint")]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err): assert train_generator_main(argv) == 2
        assert message in err.getvalue() and err.getvalue().count("\n") == 1
