"""Fingerspelling corpus and reader (nbs/11_fingerspelling, 11a_fingerspelling_appendix) and `signllm translate --model
fingerspelling` (nbs/07c): the split, determinism, the shipped reader on held-out words (.pose and a real video), bad
input, and a reproducible tiny training run."""

import numpy as np
import pytest
import torch

from conftest import call_main as run

from signllm.core import SHIPPED_MODELS, data_path
from signllm.pose import read_pose, write_pose
from signllm.fingerspelling import (ALPHABETS, HELD_OUT_DISTORTION, ReaderConfig, build_corpus, cer, lm_pairs,
                                    reader_words, reading_language, reading_score, spell_word)
from signllm.fingerspelling_cli import train_reader_main
from signllm.translate_cli import translate_main

SHIPPED = data_path(SHIPPED_MODELS["fingerspelling"])
needs_reader = pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped fingerspelling reader")
READ_LIMITS = {"ase": 0.3, "gsg": 0.3, "sgg": 0.3, "tsm": 0.35, "ise": 0.25}  # CER on the first 20 held-out words (measured 0.245/0.196/0.203/0.272/0.147); chapter 11 reports all 60


def test_split_is_by_word_and_the_lm_never_sees_a_test_word():
    words = reader_words(ReaderConfig())
    assert set(words) == set(ALPHABETS)
    for lang, (train, test) in words.items():
        assert len(test) >= 50 and len(train) >= 4 * len(test) - 1
        assert not set(train) & set(test), lang
    test_words = {w for _, test in words.values() for w in test}
    assert not test_words & {w for _, w in lm_pairs(words, ReaderConfig(lm_words=300))}


def test_corpus_is_deterministic_and_varied():
    a = build_corpus({"ase": ["world", "sign"]}, copies=2, seed=3)
    b = build_corpus({"ase": ["sign"]}, copies=2, seed=3)
    assert np.array_equal(a[2].pose.data, b[0].pose.data)  # an example does not depend on the other words
    assert not np.array_equal(a[2].pose.data, a[3].pose.data)  # copies differ
    assert a[0].pose.meta["units"] == list("WORLD") or [u.lower() for u in a[0].pose.meta["units"]] == list("world")


def test_cer():
    assert cer("world", "world") == 0 and cer("wrld", "world") == 0.2 and cer("", "abc") == 1 and cer("abcd", "abc") == 1 / 3


def held_out_pose(tmp_path, lang="ase", i=0):
    word = reader_words(ReaderConfig())[lang][1][i]
    pose = spell_word(word, lang, augment=HELD_OUT_DISTORTION, rng=np.random.default_rng(i))
    return word, write_pose(pose, tmp_path / f"{word}.pose")


@needs_reader
def test_translate_command_on_held_out_pose_files(tmp_path):
    for i in range(3):
        word, path = held_out_pose(tmp_path, "ase", i)
        code, out, err = run(translate_main, [path, "--model", "fingerspelling", "--sign-language", "ase"])
        assert code == 0 and not err, err
        assert out.strip().splitlines()[-1].strip().isalpha()  # the text is the last line: letters
    word, path = held_out_pose(tmp_path, "ase", 0)
    code, out, _ = run(translate_main, [path, "--model", "fingerspelling", "--verbose"])  # default alphabet: ase
    lines = out.strip().splitlines()  # input, characters, words, prompt, the note (one signer, chapter 11), the text
    assert code == 0 and len(lines) == 6 and "ase → en" in out and lines[-2].startswith("note: ")


@needs_reader
def test_shipped_reader_reads_held_out_words():
    "Held-out words of every alphabet, distorted beyond training: far below the nearest-word floor (CER 0.5-0.6)."
    from signllm.translate import load_translator
    reader, words = load_translator(data_path(SHIPPED_MODELS["fingerspelling"])), reader_words(ReaderConfig())
    for lang, limit in READ_LIMITS.items():
        examples = build_corpus({lang: words[lang][1][:20]}, augment=HELD_OUT_DISTORTION, seed=1)
        score = reading_score(reader.translate([e.pose for e in examples], reading_language(lang)), [e.word for e in examples])
        assert score.cer <= limit, (lang, score)


@needs_reader
def test_translate_fingerspelling_on_a_real_video():
    code, out, err = run(translate_main, [data_path("signer_video", "human_signer.mp4"), "--model", "fingerspelling"])
    assert code == 0, err
    assert out.strip().splitlines()[-1].strip()  # some letters: the video is not fingerspelling, so no claim what


@needs_reader
def test_bad_input_is_one_line(tmp_path):
    _, path = held_out_pose(tmp_path)
    bad = {"does not exist": [tmp_path / "missing.pose", "--model", "fingerspelling"],
           "unknown target language 'fs-": [path, "--model", "fingerspelling", "--sign-language", "bfi"],
           "disagree": [path, "--model", "fingerspelling", "--sign-language", "ase", "--lang", "fs-gsg"],
           "unknown target language 'fs-ase'": [path, "--sign-language", "ase"]}  # the PHOENIX translator reads no letters
    for message, argv in bad.items():
        code, out, err = run(translate_main, argv)
        assert code == 2 and err.startswith("signllm translate: error: ") and message in err, (message, err)
        assert len(err.strip().splitlines()) == 1


def test_tiny_training_run_is_reproducible(tmp_path):
    tiny = ["--languages", "ase", "--words", 20, "--copies", 1, "--lm-steps", 3, "--vq-epochs", 1, "--stage2-epochs", 1, "--no-eval"]
    weights = []
    for name in ("a", "b"):
        code, out, err = run(train_reader_main, tiny + ["--out", tmp_path / name])
        assert code == 0, err
        from safetensors.torch import load_file
        weights.append(load_file(tmp_path / name / "reader.safetensors"))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    code, _, err = run(train_reader_main, ["--languages", "xyz", "--out", tmp_path / "c"])
    assert code == 2 and len(err.strip().splitlines()) == 1
