"""Fingerspelling corpus and reader (nbs/11_fingerspelling, 11a_fingerspelling_appendix) and `signllm translate --model
fingerspelling` (nbs/07c): the split, determinism, the shipped reader on held-out words (.pose and a real video), bad
input, and a reproducible tiny training run."""

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import SIGNLLM, call_main as run

from signllm.core import SHIPPED_MODELS, data_path
from signllm.pose import read_pose, write_pose
from signllm.training import torch_threads
from signllm.fingerspelling import (ALPHABETS, HELD_OUT_DISTORTION, ReaderConfig, build_corpus, cer, lm_pairs,
                                    pretrain_reading_lm, reader_words, reading_language, reading_score, spell_word)
from signllm.fingerspelling_cli import train_reader_main
from signllm.translate_cli import translate_main

SHIPPED = data_path(SHIPPED_MODELS["fingerspelling"])
needs_reader = pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped fingerspelling reader")
READ_LIMITS = {"ase": 0.3, "gsg": 0.33, "sgg": 0.25, "tsm": 0.42, "ise": 0.27}  # CER on the first 20 held-out words (measured 0.213/0.246/0.150/0.335/0.179); chapter 11 reports all 60


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
        weights.append(load_file(tmp_path / name / "reader.safetensors"))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    config = ReaderConfig(languages=("ase",), words=20, copies=1, lm_steps=3)
    with torch_threads(1): lm, _ = pretrain_reading_lm(lm_pairs(reader_words(config), config), config)
    code, out, err = run(train_reader_main, tiny + ["--mmd-weight", 0.1, "--out", tmp_path / "mmd"])  # LM first, then VQ-Sign
    assert code == 0, err
    weights.append(load_file(tmp_path / "mmd" / "reader.safetensors"))
    for name, tensor in lm.model.state_dict().items():  # the LM of the second process is the one trained here, and both paths'
        assert torch.equal(weights[0][f"lm.{name}"], tensor) and torch.equal(weights[2][f"lm.{name}"], tensor), name
    code, _, err = run(train_reader_main, ["--languages", "xyz", "--out", tmp_path / "c"])
    assert code == 2 and len(err.strip().splitlines()) == 1


def _children(pid: int) -> list[int]:
    "Processes whose parent is `pid` (Linux /proc)."
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try: text = status.read_text()
        except OSError: continue
        if f"\nPPid:\t{pid}\n" in text: found.append(int(status.parent.name))
    return found


def _cmdline(pid: int) -> str:
    try: return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError: return ""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_ctrl_c_while_the_lm_trains_beside_stops_both_processes(tmp_path):
    "The LM trains in a second process: Ctrl-C (SIGINT to the whole foreground group) ends both, one line, no model file."
    out = tmp_path / "run"
    argv = [SIGNLLM, "train", "reader", "--languages", "ase", "--words", 20, "--copies", 1, "--lm-steps", 10**6,
            "--vq-epochs", 10**4, "--no-eval", "--out", out]
    def as_a_terminal_starts_it():  # Ctrl-C neither ignored nor blocked, whatever earlier tests left in this process
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); signal.signal(signal.SIGINT, signal.SIG_DFL)
    here = Path("/proc/self/status").read_text()
    proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=as_a_terminal_starts_it)
    try:
        deadline = time.time() + 180
        while not any("spawn_main" in _cmdline(c) for c in _children(proc.pid)):  # wait for the LM's process
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "the second process never started"
            time.sleep(0.5)
        time.sleep(1)  # the second process may still be starting: Ctrl-C must work from here on
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try: _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:  # say what this process's signal state was, to find what an earlier test left
            pytest.fail("no exit 120 s after Ctrl-C; pytest's " + " ".join(l for l in here.splitlines() if l.startswith("Sig")))
    finally:  # a failing test must not leave a training running
        if proc.poll() is None: os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["signllm train reader: interrupted; nothing was written"], err
    assert not (out / "reader.safetensors").exists() and not (out / "reader.json").exists()
    for _ in range(40):  # the helper processes leave with the command
        try: os.killpg(proc.pid, 0)
        except ProcessLookupError: break
        time.sleep(0.25)
    else: pytest.fail("a process of the command is still running after Ctrl-C")
