"""Translator (nbs/07_lm, 07a_translate, 07b_translate_training, 07c_translate_appendix): frozen LM, projection,
decoding, two-stage training, saving, the two commands — what the notebooks do not show (batches, resume, bad input,
the CLI)."""
import contextlib
import os
import socket
import sys
from dataclasses import replace

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported anywhere: never a network call
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np
import pytest
import torch

from conftest import call_main as run

from signllm.core import SignLLMError, data_path
from signllm.training import quiet_lightning
from signllm.vqsign import VQSIGN_TINY, VQSign
from signllm.cra import CRAVocab, SignTokenizer, learn_merges
from signllm.lm import (CHAR_EOS, KitLM, LMConfig, LMTrainConfig, lm_texts, phoenix_translation_examples,
                        pretrain_lm, require_transformers, target_language)
from signllm.translate import (Translator, TranslatorConfig, beam_search, load_translator, save_translator,
                               tokenizer_fingerprint, translation_items)
from signllm.translate_training import Stage2Config, train_stage2
from signllm.translate_cli import train_translator_main, translate_main


@pytest.fixture(scope="module")
def examples():
    return phoenix_translation_examples("train")


@pytest.fixture(scope="module")
def kit_lm(examples):
    "A briefly pre-trained kit LM (not a good one: enough to exercise the code)."
    torch.manual_seed(0)
    model, vocab, losses = pretrain_lm(lm_texts(examples), LMConfig(dim=64, layers=1), LMTrainConfig(steps=40))
    assert losses[-1] < losses[0]
    return KitLM(model, vocab)


@pytest.fixture(scope="module")
def tokenizer(examples):
    "An untrained VQ-Sign with CRA words learned on the real training poses."
    torch.manual_seed(0)
    vqsign = VQSign(VQSIGN_TINY)
    chars = vqsign.tokenize([e.pose for e in examples])
    tokenizer = SignTokenizer(vqsign, CRAVocab(VQSIGN_TINY.codebook_size, learn_merges(chars, VQSIGN_TINY.codebook_size, 16)[0]))
    assert len(tokenizer.vocab.merges) > 3
    return tokenizer


@pytest.fixture(scope="module")
def translator(tokenizer, kit_lm):
    return Translator(tokenizer, kit_lm, TranslatorConfig(hidden=32))


@contextlib.contextmanager
def no_network(monkeypatch):
    "Any attempt to open a connection fails the test."
    def refuse(*args, **kwargs): raise AssertionError("network access attempted")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def test_lm_is_frozen_and_stays_in_eval_mode(kit_lm, translator):
    assert not any(p.requires_grad for p in kit_lm.parameters())
    translator.train()
    assert not kit_lm.training and not translator.vqsign.training
    assert all(p.requires_grad for p in translator.projection.parameters())
    translator.eval()


def test_inputs_count_only_the_text(translator, examples):
    words = translator.tokens(examples[1].pose).words
    text = examples[1].texts["gloss"]
    embeds, targets, mask = translator.inputs([(words, "gloss", text), (words[:3], "de", "ab")])
    assert embeds.shape[0] == 2 and mask[1].sum() < mask[0].sum()
    assert int((targets[0] >= 0).sum()) == len(text) + 1
    assert targets[0][targets[0] >= 0].tolist() == translator.lm.encode(text) + [CHAR_EOS]


def test_lm_bit_identical_after_stage2(translator, examples):
    items = translation_items(translator, examples)
    lm_before = {k: v.clone() for k, v in translator.lm.state_dict().items()}
    vq_before = {k: v.clone() for k, v in translator.vqsign.state_dict().items()}
    projection_before = {k: v.clone() for k, v in translator.projection.state_dict().items()}
    with quiet_lightning():
        module, trainer = train_stage2(translator, items, items[:1] + items[-1:], replace(Stage2Config(), epochs=2, steps_per_epoch=3,
                                                                            batch_size=4, val_every=1))
    for k, v in lm_before.items(): assert torch.equal(v, translator.lm.state_dict()[k]), k
    for k, v in vq_before.items(): assert torch.equal(v, translator.vqsign.state_dict()[k]), k
    assert not torch.equal(projection_before["mlp.0.weight"], translator.projection.mlp[0].weight)
    optimised = {id(p) for group in trainer.optimizers[0].param_groups for p in group["params"]}
    assert optimised == {id(p) for p in translator.projection.parameters()}
    assert len(module.history) == 6 and len(module.validation) == 2 and "val_bleu4_gloss" in module.validation[0]


def test_bad_input(translator, examples):
    words = translator.tokens(examples[0].pose).words
    with pytest.raises(SignLLMError, match="unknown target language 'fr'.*de \\(German\\)"): translator.generate(words, "fr")
    with pytest.raises(SignLLMError, match="unknown target language"): translator.translate(examples[0].pose, "en")
    with pytest.raises(SignLLMError, match="no sign tokens"): translator.generate([], "de")
    with pytest.raises(SignLLMError, match="another tokenizer"): translator.generate([len(translator.tokenizer) + 3], "de")
    with pytest.raises(SignLLMError, match="at most"): translator.generate(np.zeros(1000, int), "de")
    with pytest.raises(SignLLMError, match="beam must be at least 1"): beam_search(translator.lm, translator.prefix(words, "de"), beam=0)
    with pytest.raises(SignLLMError, match="unknown target language"): TranslatorConfig(languages=("de", "xx"))
    assert target_language("gloss").name == "DGS glosses"


def test_save_load_and_other_tokenizer(translator, tokenizer, examples, tmp_path):
    path = save_translator(translator, tmp_path / "t.safetensors")
    loaded = load_translator(path)
    pose = examples[2].pose
    assert loaded.translate(pose, "gloss") == translator.translate(pose, "gloss")
    assert tokenizer_fingerprint(loaded.tokenizer) == tokenizer_fingerprint(tokenizer)
    assert load_translator(path, tokenizer=tokenizer).translate(pose) == translator.translate(pose)
    other = SignTokenizer(tokenizer.vqsign, CRAVocab(tokenizer.vocab.n_chars, tokenizer.vocab.merges[:3]))
    with pytest.raises(SignLLMError, match="another tokenizer"): load_translator(path, tokenizer=other)
    tokenizer.save(tmp_path / "tok.safetensors")
    with pytest.raises(SignLLMError, match="sign tokenizer, not a translator"): load_translator(tmp_path / "tok.safetensors")
    (tmp_path / "junk.safetensors").write_text("junk")
    with pytest.raises(SignLLMError, match="not a .*safetensors file"): load_translator(tmp_path / "junk.safetensors")


def test_stage2_resume_refuses_another_tokenizer(translator, tokenizer, examples, tmp_path):
    items = translation_items(translator, examples, ["gloss"])
    config = replace(Stage2Config(), epochs=1, steps_per_epoch=2, batch_size=2)
    with quiet_lightning(): train_stage2(translator, items, config=config, out_dir=tmp_path)
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    assert ckpt.exists()
    state = torch.load(ckpt, weights_only=True)["state_dict"]
    assert state and all(k.startswith("translator.projection.") for k in state)  # the frozen parts are not copied
    other = Translator(SignTokenizer(tokenizer.vqsign, CRAVocab(tokenizer.vocab.n_chars)), translator.lm,
                       translator.config)
    with pytest.raises(SignLLMError, match="another tokenizer"):
        train_stage2(other, translation_items(other, examples, ["gloss"]), config=replace(config, epochs=2),
                     out_dir=tmp_path, ckpt_path=ckpt)
    with quiet_lightning():
        module, trainer = train_stage2(translator, items, config=replace(config, epochs=2), out_dir=tmp_path, ckpt_path=ckpt)
    assert trainer.current_epoch == 2 and len(module.history) == 2  # resumed: only the second epoch ran


def test_translate_command(translator, tmp_path):
    model = save_translator(translator, tmp_path / "translator.safetensors")
    skels = data_path("phoenix14t", "dev.skels")
    code, out, err = run(translate_main, [skels, "--index", 1, "--model", model, "--verbose", "--lang", "gloss"])
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("input: dev.skels") and "sign characters" in lines[1] and "sign words" in lines[2]
    assert len(lines) == 5  # input, characters, words, prompt, then the translation
    code, out, err = run(translate_main, [skels, "--model", tmp_path, "--beam", 2])  # a training folder works too
    assert code == 0 and out.strip() and not err
    bad = {"unknown target language 'fr'": [skels, "--model", model, "--lang", "fr"],
           "has no sentence 9": [skels, "--model", model, "--index", 9],
           "unsupported input": [data_path("phoenix14t", "dev.text"), "--model", model],
           "does not exist": [tmp_path / "missing.mp4", "--model", model],
           "--beam must be at least 1": [skels, "--model", model, "--beam", 0],
           "not a .safetensors file": [skels, "--model", skels]}
    for message, argv in bad.items():
        code, out, err = run(translate_main, argv)
        assert code == 2 and err.startswith("signllm translate: error: ") and message in err, (message, err)
        assert len(err.strip().splitlines()) == 1


def test_translate_video_without_signer(translator, tmp_path):
    from conftest import write_clip
    video = write_clip(tmp_path / "wall.mp4", np.full((10, 96, 128, 3), 180, np.uint8), fps=10)  # synthetic: a grey wall, nobody signing
    code, out, err = run(translate_main, [video, "--model", save_translator(translator, tmp_path / "t.safetensors")])
    assert code == 2 and "no signer found in wall.mp4" in err


@pytest.mark.skipif(not data_path("models", "translator-phoenix-tiny.safetensors").exists(), reason="no shipped translator")
def test_shipped_translator_on_the_signer_video():
    code, out, err = run(translate_main, [data_path("signer_video", "human_signer.mp4"), "--verbose"])
    assert code == 0, err
    *tokens, text = out.strip().splitlines()
    assert "sign words" in "\n".join(tokens) and text.strip()
    code, out, err = run(translate_main, [data_path("phoenix14t", "train.skels"), "--index", 3])
    assert code == 0 and out.strip() == phoenix_translation_examples("train")[3].texts["de"]  # it fits its training sentences


def test_train_translator_command(tmp_path):
    out = tmp_path / "run"
    short = ["--out", out, "--no-progress", "--lm-steps", 5, "--stage1-epochs", 1, "--stage2-epochs", 1,
             "--pose-data", "--languages", "gloss"]
    code, stdout, err = run(train_translator_main, short)
    assert code == 0, err
    for name in ("lm.safetensors", "stage1.safetensors", "translator.safetensors", "report.json"):
        assert (out / name).exists(), name
    assert (out / "stage2" / "checkpoints" / "last.ckpt").exists()
    code, _, err = run(train_translator_main, short)
    assert code == 2 and "already holds a training run" in err
    code, stdout, err = run(train_translator_main, short[:8] + [2] + short[9:] + ["--resume"])
    assert code == 0, err
    assert load_translator(out / "translator.safetensors").config.languages == ("gloss",)
    for message, argv in {"unknown target language": ["--out", tmp_path / "x", "--languages", "fr"],
                          "nothing to resume": ["--out", tmp_path / "y", "--resume"],
                          "--lm-steps must be at least 1": ["--out", tmp_path / "z", "--lm-steps", 0],
                          "not a Hugging Face model folder": ["--out", tmp_path / "w", "--lm", tmp_path]}.items():
        code, _, err = run(train_translator_main, argv)
        assert code == 2 and message in err and err.startswith("signllm train translator: error: "), (message, err)


def test_missing_transformers_is_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers now raises ImportError
    with pytest.raises(SignLLMError, match="pip install transformers"): require_transformers()


def test_hugging_face_adapter_round_trip(tokenizer, examples, tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from signllm.lm import HFCausalLM, make_tiny_hf_lm
    with no_network(monkeypatch):
        folder = make_tiny_hf_lm(tmp_path / "tiny-gpt2", [t for _, t in lm_texts(examples)], dim=16, layers=2)
        lm = HFCausalLM(folder)
        assert lm.decode(lm.encode("regen und schnee")) == "regen und schnee"
        translator = Translator(tokenizer, lm, TranslatorConfig(languages=("de",), hidden=16, max_new_tokens=20))
        before = {k: v.clone() for k, v in lm.state_dict().items()}
        items = translation_items(translator, examples[:2])
        with quiet_lightning():
            module, _ = train_stage2(translator, items, config=replace(Stage2Config(), epochs=1, steps_per_epoch=2, batch_size=2))
        assert all(torch.equal(v, lm.state_dict()[k]) for k, v in before.items())
        text = translator.translate(examples[0].pose, "de", beam=2)
        assert isinstance(text, str)
        path = save_translator(translator, tmp_path / "hf.safetensors")
        reloaded = load_translator(path)
        assert isinstance(reloaded.lm, HFCausalLM) and reloaded.translate(examples[0].pose, "de", beam=2) == text
        moved = tmp_path / "moved"
        folder.rename(moved)
        with pytest.raises(SignLLMError, match="pass its folder with --lm"): load_translator(path)
        assert load_translator(path, lm=moved).translate(examples[0].pose, "de", beam=2) == text


def test_cached_decoding_equals_full_recomputation(kit_lm):
    torch.manual_seed(1)
    embeds = torch.randn(3, 12, kit_lm.dim)
    full = kit_lm.logits(embeds)  # (3, 12, V)
    logits, cache = kit_lm.next_logits(embeds[:, :8])
    assert torch.allclose(logits, full[:, 7], atol=1e-5)
    for t in range(8, 12):
        logits, cache = kit_lm.next_logits(embeds[:, t:t + 1], cache)
        assert torch.allclose(logits, full[:, t], atol=1e-5)
    kept = kit_lm.reorder_cache(cache, torch.tensor([2, 2]))
    assert torch.allclose(kit_lm.next_logits(embeds[:2, :1], kept)[0][0], kit_lm.logits(torch.cat([embeds[2], embeds[0, :1]])[None])[0, -1], atol=1e-5)


def test_stage2_uses_every_item_when_an_epoch_holds_fewer():
    "Regression (issue #16): an epoch of 320 items used to draw only the first 320 of a larger corpus, every epoch."
    from signllm.translate_training import Stage2Config, stage2_loader
    items = [(None, "x", str(i)) for i in range(1000)]
    loader = stage2_loader(items, Stage2Config(steps_per_epoch=10, batch_size=32, seed=3))
    epochs = [[t for batch in loader for _, _, t in batch] for _ in range(8)]
    assert all(len(e) == 320 and len(set(e)) == 320 for e in epochs)  # an epoch: 320 distinct items
    assert len({t for e in epochs for t in e}) > 900 and epochs[0] != epochs[1]  # a new subset each epoch
    again = stage2_loader(items, Stage2Config(steps_per_epoch=10, batch_size=32, seed=3))
    assert [t for batch in again for _, _, t in batch] == epochs[0]  # seeded
    few = stage2_loader(items[:5], Stage2Config(steps_per_epoch=10, batch_size=10))
    assert sorted(t for batch in few for _, _, t in batch) == sorted([str(i) for i in range(5)] * 20)  # small: cycles
