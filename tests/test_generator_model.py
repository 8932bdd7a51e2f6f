"The learned generator (chapters 09b model, 09c training, 09d files/engines/command): shipped checkpoint, MLSF, Prompt2LangGloss, I/O."
import contextlib
import io
import subprocess
import sys
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import DATA
from signllm import data
from signllm.data import read_phoenix, sign_language
from signllm.core import SignLLMError
from signllm.pose import SIGN50, Pose
from signllm.generator_model import GENERATOR_TINY, SignGenerator
from signllm.generator_training import GeneratorTrainConfig, fingerspelled_examples, phoenix_generation_examples, train_generator
from signllm.generator_cli import (default_generator, generate_auto, generate_with_model, load_generator, model_covers,
                                   parse_prompt, save_generator, train_generator_main, unknown_words)

warnings.filterwarnings("ignore", ".*does not have many workers.*")
CHECKPOINT = DATA / "models" / "generator-tiny.safetensors"


@pytest.fixture(scope="module")
def phoenix():
    return {split: list(read_phoenix(DATA / "phoenix14t", split)) for split in ("train", "test")}


def test_inference_modules_do_not_load_lightning():
    "`signllm generate --engine model` needs the model and its file, not the trainer."
    code = ("import sys; from signllm.generator_cli import generate_with_model; generate_with_model('snow', 'ase'); "
            "print('pytorch_lightning' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "False", (r.stdout, r.stderr)


def test_shipped_checkpoint_predicts_its_own_length(phoenix):
    model = default_generator()
    lengths = [model.sign(s.text, "gsg").pose.n_frames for s in phoenix["test"]]
    assert lengths == [151, 167, 151, 151, 83]  # as generated before the chapter split: same file, same output
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
    for other in (replace(GENERATOR_TINY, dim=128), replace(GENERATOR_TINY, mode="prompt2langgloss"), replace(GENERATOR_TINY, future=4)):
        with pytest.raises(SignLLMError, match="was asked for"): load_generator(path, config=other)
    assert load_generator(path, config=model.config).config == model.config
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"), metadata={"format": "signllm-vqsign"})
    with pytest.raises(SignLLMError, match="not a signllm generator"): load_generator(tmp_path / "other.safetensors")
    (tmp_path / "junk.safetensors").write_text("not a model")
    with pytest.raises(SignLLMError, match="not a (readable )?.safetensors|not a readable"): load_generator(tmp_path / "junk.safetensors")


def test_two_languages_in_one_model_lang_switches_output():
    "Register a second language with the model and train both groups on real data; --lang picks the group."
    dgs = phoenix_generation_examples("train")[:3]
    asl = fingerspelled_examples(["rain", "snow", "sun", "wind", "cold"])
    module = train_generator(GENERATOR_TINY, GeneratorTrainConfig(steps=30, batch_size=4, val_every=1000), dgs + asl)
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
    model = SignGenerator(GENERATOR_TINY)
    model.add_language("gsg", [e.pose for e in phoenix_generation_examples("train")], [e.text for e in phoenix_generation_examples("train")])
    before = model.word_embedding.weight.detach().clone()
    model.add_language("ase", [e.pose for e in fingerspelled_examples(["rain", "snow"])], ["rain", "snow"])
    assert "en:rain" in model.words and model.word_embedding.num_embeddings == len(model.words)
    assert torch.equal(model.word_embedding.weight[:len(before)], before)  # old rows kept
    with pytest.raises(SignLLMError, match="already has a group"): model.add_language("ase", [])


def test_prompt2langgloss_gloss_step_is_visible_and_editable():
    examples = phoenix_generation_examples("train")
    model = train_generator(replace(GENERATOR_TINY, mode="prompt2langgloss"), GeneratorTrainConfig(steps=30, val_every=1000), examples).model
    text, lang = parse_prompt('How do you sign "schauer im nordwesten" in DGS?')
    assert (text, lang) == ("schauer im nordwesten", "gsg")
    glosses = model.gloss_sequence(text, lang)
    assert glosses[0] == "<gsg>" and all(g in model.gloss_sets["gsg"] for g in glosses[1:])
    first = model.sign(text, lang).pose
    edited = model.sign(text, lang, glosses=["REGEN", "NORDWEST"]).pose
    assert first.meta["tokens"] == glosses and edited.meta["tokens"] == ["<gsg>", "REGEN", "NORDWEST"]
    assert not np.allclose(first.data[:10], edited.data[:10])
    with pytest.raises(SignLLMError, match="empty"): model.sign(text, lang, glosses="")


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


def test_the_language_is_parsed_once_at_the_edge(monkeypatch):
    "Given a SignLanguage, the engines pass it down: no name lookup on the way to the model or the lexicon."
    from signllm.generator import generate
    dgs, asl = sign_language("DGS"), sign_language("asl")
    generate("hello", "ase"); default_generator()  # the shipped lexicon and model, read once (their index files name languages)
    lookups = []
    real_key = data._key
    monkeypatch.setattr(data, "_key", lambda text: lookups.append(text) or real_key(text))
    assert generate_auto("schauer im nordwesten", dgs).meta["engine"] == "model"
    assert generate_auto("hochdruckeinfluss", dgs).meta["engine"] == "lexicon"
    assert model_covers("snow", asl) and unknown_words("snow rain", asl) == ["a space between words"]  # its ASL group spells single words
    assert generate("hello", asl).meta["signed_language"] == "ase"
    assert lookups == []


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
