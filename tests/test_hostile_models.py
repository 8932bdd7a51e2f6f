"""Issue #29, budgets for MODEL FILES: a model file is untrusted (a classmate's, a download, a shared folder), and no
number in its metadata may decide an allocation or a loop before it is checked against `LIMITS`.

Tiny real models (translator, tokenizer, language model, generator) are built and saved here; hostile copies change
their metadata (huge or negative sizes, 17,576 languages, missing entries, unknown fields, invalid JSON) or their
tensors (weights that do not fit the configuration, word merges that double). Each is given to the real `signllm`
console script under an address-space limit and a timeout, and must be refused with exit code 2 and one line on
stderr naming the file and the problem — no traceback. The shipped models must still load and work."""
import contextlib
import itertools
import json
import os
import resource
import string
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from conftest import DATA, SIGNLLM, run_cli

# Address space, measured: `signllm translate` with the shipped translator (torch, the skels reader, the model) runs
# under a 0.75 GiB RLIMIT_AS and fails under 0.5 GiB (importing torch alone reserves most of that). 2 GiB leaves room
# for every normal run below, while the model files asked for 51.5 GB and 12 TB: before the fix they died
# here with a MemoryError traceback instead of swapping the class server.
ADDRESS_SPACE = 2 * 1024**3
TIMEOUT = 180  # seconds: a refusal takes a few (importing torch); max_frames=1e9 used to run with no end
SKELS = DATA / "phoenix14t" / "dev.skels"
ALL_CODES = ["".join(c) for c in itertools.product(string.ascii_lowercase, repeat=3)]  # 17,576 three-letter codes


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_limited(*args, cwd=None):
    "Run `signllm ARGS` with a bounded address space and a timeout; returns (CompletedProcess, seconds)."
    env = {**os.environ, "MPLBACKEND": "Agg"}
    started = time.monotonic()
    r = subprocess.run([str(SIGNLLM), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                       timeout=TIMEOUT, preexec_fn=_limit_memory)
    return r, time.monotonic() - started


def run_python(code, timeout=90):
    "Run Python `code` in a subprocess with the same address-space limit and a timeout; returns the CompletedProcess."
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limit_memory, cwd=DATA)  # not the clone's root: `-c` puts the cwd first on sys.path


@contextlib.contextmanager
def bounded_memory(extra=1024**3):
    "In this process: at most `extra` bytes of address space more than now, so a runaway allocation fails fast."
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as f:
        used = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (used + extra, hard))
    try: yield
    finally: resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def assert_refused(r, *words):
    "Exit code 2 and exactly one line on stderr, naming every word in `words`; no traceback."
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr[-2000:]
    for word in words: assert word.lower() in lines[0].lower(), (word, lines[0])
    return lines[0]


# ---------- tiny real models, and hostile copies of them ----------

@pytest.fixture(scope="module")
def models(tmp_path_factory):
    "Tiny untrained models of every kind the kit loads, saved by the kit's own save functions."
    from signllm.vqsign import VQSign, VQSignConfig
    from signllm.cra import CRAVocab, SignTokenizer
    from signllm.lm import TARGET_LANGUAGES, CharGPT, CharVocab, KitLM, LMConfig, save_kit_lm
    from signllm.translate import Translator, TranslatorConfig, save_translator
    from signllm.generator_model import GENERATOR_TINY, SignGenerator
    from signllm.generator_cli import save_generator
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    tokenizer = SignTokenizer(VQSign(VQSignConfig(codebook_size=16, dim=16, hidden=16)), CRAVocab(16, [(1, 2), (16, 3)]))
    chars = CharVocab("".join(t.prompt for t in TARGET_LANGUAGES.values()) + string.ascii_lowercase + " ")
    lm = KitLM(CharGPT(LMConfig(vocab_size=len(chars), dim=16, layers=1, heads=2)).eval(), chars)
    generator = SignGenerator(replace(GENERATOR_TINY, dim=16, heads=2, layers=1, feedforward=32, components=8, max_frames=40))
    generator.add_language("gsg", [], texts=["und nun die wettervorhersage"], units="skels")
    return {"tokenizer": tokenizer.save(folder / "tokenizer.safetensors"),
            "lm": save_kit_lm(lm, folder / "lm.safetensors"),
            "translator": save_translator(Translator(tokenizer, lm, TranslatorConfig(hidden=16, max_new_tokens=20)),
                                          folder / "translator.safetensors"),
            "generator": save_generator(generator.eval(), folder / "generator.safetensors")}


def hostile(source, path, tensors=None, **edits):
    """A copy of the model file `source` with metadata entries replaced (a string), edited (a function of the parsed
    JSON, returning the new object) or removed (None); `tensors` edits the weights (a function of the dict)."""
    weights = load_file(str(source))
    with safe_open(str(source), "pt") as f: metadata = dict(f.metadata())
    for key, edit in edits.items():
        if edit is None: metadata.pop(key)
        elif callable(edit): metadata[key] = json.dumps(edit(json.loads(metadata[key])))
        else: metadata[key] = edit
    if tensors: weights = tensors(weights)
    save_file(weights, str(path), metadata=metadata)
    return path


def with_(**changes):
    "An edit: the parsed JSON object with some fields changed."
    return lambda stored: {**stored, **changes}


def lm_with(**changes):
    "An edit of a translator's 'lm' entry: its language-model configuration with some fields changed."
    return lambda stored: {**stored, "config": {**stored["config"], **changes}}


def doubling_merges(weights):
    "40 word merges, each joining the last word to itself: word 16 + m spells 2**(m+1) characters."
    return {**weights, "cra.merges": torch.tensor([(0, 0)] + [(16 + m, 16 + m) for m in range(39)])}


def unshaped_codebook(weights):
    return {**weights, "vq.codebook.embed": torch.zeros(16, 17)}


# ---------- translator files (`signllm translate --model`) ----------

TRANSLATOR_CASES = {  # name -> (edits, words the one line must contain)
    "vq dim 65536": (dict(vqsign_config=with_(dim=65536)), ["translator.safetensors", "dim", "65536"]),
    "vq hidden 1e7": (dict(vqsign_config=with_(hidden=1e7)), ["hidden", "outside the kit's limits"]),
    "vq negative dim": (dict(vqsign_config=with_(dim=-4)), ["dim", "-4"]),
    "vq codebook as a string": (dict(vqsign_config=with_(codebook_size="16")), ["codebook_size", "whole number"]),
    "lm dim 1e6": (dict(lm=lm_with(dim=1_000_000)), ["language-model", "dim", "1000000"]),
    "lm heads 0": (dict(lm=lm_with(heads=0)), ["heads"]),
    "lm of 64 layers x 8192 (each within limits, 51 billion weights)":
        (dict(lm=lm_with(dim=8192, layers=64, heads=8)), ["number of weights", "outside the kit's limits"]),
    "17,576 languages": (dict(translator_config=with_(languages=ALL_CODES)), ["translator.safetensors", "unknown target language"]),
    "a language listed 17,576 times": (dict(translator_config=with_(languages=["de"] * 17_576)), ["'de' is listed twice"]),
    "max_new_tokens 1e9": (dict(translator_config=with_(max_new_tokens=10**9)), ["max_new_tokens"]),
    "unknown field": (dict(translator_config=with_(evil=1)), ["evil", "does not know"]),
    "missing cra": (dict(cra=None), ["'cra'"]),
    "missing lm": (dict(lm=None), ["'lm'"]),
    "missing vqsign_config": (dict(vqsign_config=None), ["tokenizer configuration"]),
    "invalid JSON": (dict(translator_config="{languages: [de"), ["translator configuration", "not valid JSON"]),
    "invalid JSON in cra": (dict(cra="{"), ["'cra'", "not valid JSON"]),
    "lm is a list": (dict(lm="[1, 2]"), ["'lm'", "not an object"]),
    "cra n_chars 1e9": (dict(cra=json.dumps({"n_chars": 10**9})), ["n_chars", "outside the kit's limits"]),
    "codebook 32, weights for 16": (dict(vqsign_config=with_(codebook_size=32)), ["do not match", "codebook"]),
}


@pytest.mark.parametrize("case", TRANSLATOR_CASES)
def test_hostile_translator_metadata_is_refused_in_one_line(case, models, tmp_path):
    edits, words = TRANSLATOR_CASES[case]
    path = hostile(models["translator"], tmp_path / "translator.safetensors", **edits)
    r, seconds = run_limited("translate", SKELS, "--index", 0, "--model", path)
    assert_refused(r, *words)


@pytest.mark.parametrize("tensors, words", [(doubling_merges, ["spelled out", "1e+07"]),
                                            (unshaped_codebook, ["do not match", "codebook.embed"])])
def test_hostile_translator_weights_are_refused_in_one_line(tensors, words, models, tmp_path):
    "Weights that do not fit the configuration, and merges whose spellings double, are refused before use."
    path = hostile(models["translator"], tmp_path / "translator.safetensors", tensors=tensors)
    r, _ = run_limited("translate", SKELS, "--index", 0, "--model", path)
    assert_refused(r, "translator.safetensors", *words)


def test_huge_beam_is_refused(models):
    "The issue's `translate --beam 100000` (a MemoryError traceback) is checked against LIMITS['beam']."
    r, _ = run_limited("translate", SKELS, "--index", 0, "--model", models["translator"], "--beam", 100_000)
    assert_refused(r, "--beam", "100000", "64")


def test_tiny_and_shipped_translators_still_translate(models):
    r, _ = run_limited("translate", SKELS, "--index", 0, "--model", models["translator"], "--beam", 2)
    assert r.returncode == 0, r.stderr[-2000:]
    r, _ = run_limited("translate", SKELS, "--index", 0, "--beam", 4)  # the shipped translator
    assert r.returncode == 0 and r.stdout.strip(), (r.stdout, r.stderr[-2000:])
    word = next((DATA / "fingerspelling" / "ase").glob("*.pose"))
    r, _ = run_limited("translate", word, "--model", "fingerspelling", "--sign-language", "ase")  # the shipped reader
    assert r.returncode == 0 and r.stdout.strip(), r.stderr[-2000:]


# ---------- tokenizer files (`signllm train translator --tokenizer`) ----------

def test_hostile_tokenizer_is_refused_before_training(models, tmp_path):
    "A hostile --tokenizer is refused in one line before the language model is pre-trained, and --out stays unmade."
    path = hostile(models["tokenizer"], tmp_path / "tokenizer.safetensors", vqsign_config=with_(dim=65536))
    out = tmp_path / "run"
    r, seconds = run_limited("train", "translator", "--tokenizer", path, "--out", out, "--no-progress")
    assert_refused(r, "tokenizer.safetensors", "dim", "65536")
    assert not out.exists()
    path = hostile(models["tokenizer"], tmp_path / "doubling.safetensors", tensors=doubling_merges)
    r, _ = run_limited("train", "translator", "--tokenizer", path, "--out", out, "--no-progress")
    assert_refused(r, "doubling.safetensors", "spelled out")


def test_hostile_tokenizer_and_lm_files_in_the_library(models, tmp_path):
    "The loaders raise the same one-line SignLLMError when called from Python."
    from signllm.core import SignLLMError
    from signllm.cra import SignTokenizer
    from signllm.lm import load_kit_lm
    cases = [(SignTokenizer.load, models["tokenizer"], dict(cra=None), "'cra'"),
             (SignTokenizer.load, models["tokenizer"], dict(vqsign_config=with_(hidden=-1)), "hidden"),
             (load_kit_lm, models["lm"], dict(lm=lm_with(dim=1_000_000)), "1000000"),
             (load_kit_lm, models["lm"], dict(lm=lm_with(vocab_size=10**9)), "vocab_size"),
             (load_kit_lm, models["lm"], dict(lm=lambda s: {**s, "chars": "ab"}), "characters"),
             (load_kit_lm, models["lm"], dict(lm="not json"), "not valid JSON"),
             (load_kit_lm, models["lm"], dict(lm=lm_with(layers=2)), "do not match")]
    for load, source, edits, word in cases:
        path = hostile(source, tmp_path / "hostile.safetensors", **edits)
        with bounded_memory(), pytest.raises(SignLLMError, match=word) as e: load(path)  # a regression fails, not swaps
        assert "hostile.safetensors" in str(e.value) and "\n" not in str(e.value)
    assert SignTokenizer.load(models["tokenizer"]).vocab.merges == ((1, 2), (16, 3))
    assert load_kit_lm(models["lm"]).model.config.dim == 16


# ---------- generator and speller files (`signllm generate --engine model --checkpoint`, `train speller`) ----------

GENERATOR_CASES = {
    "dim 65536": (dict(config=with_(dim=65536)), ["generator.safetensors", "dim", "65536"]),
    "feedforward 1e7": (dict(config=with_(feedforward=1e7)), ["feedforward"]),
    "negative layers": (dict(config=with_(layers=-1)), ["layers", "-1"]),
    "heads 0": (dict(config=with_(heads=0)), ["heads"]),
    "max_frames 1e9": (dict(config=with_(max_frames=10**9, stop=2.0)), ["max_frames", "108000"]),
    "an hour and a half of frames": (dict(config=with_(max_frames=100_000, fps=1.0)), ["max_frames / fps", "3600"]),
    "17,576 languages": (dict(languages=json.dumps({c: "de" for c in ALL_CODES})), ["17576 sign languages"]),
    "missing languages": (dict(languages=None), ["'languages'"]),
    "missing config": (dict(config=None), ["generator configuration"]),
    "unknown field": (dict(config=with_(evil=1)), ["evil", "does not know"]),
    "invalid JSON in words": (dict(words="[\"<pad>\", "), ["'words'", "not valid JSON"]),
    "words are an object": (dict(words="{}"), ["'words'", "not a list"]),
    "200,000 words": (dict(words=json.dumps(["<pad>", "<unk>", "<bos>", "<eos>"] + [f"de:w{i}" for i in range(200_000)])),
                      ["number of words", "100000"]),
    "more words than weights": (dict(words=json.dumps(["<pad>", "<unk>", "<bos>", "<eos>", "de:a", "de:b", "de:c", "de:d",
                                                       "de:e", "de:f", "de:g", "de:h", "de:i"])), ["do not match"]),
}


@pytest.mark.parametrize("case", GENERATOR_CASES)
def test_hostile_generator_metadata_is_refused_in_one_line(case, models, tmp_path):
    edits, words = GENERATOR_CASES[case]
    path = hostile(models["generator"], tmp_path / "generator.safetensors", **edits)
    out = tmp_path / "out.pose"
    r, seconds = run_limited("generate", "und nun", "--lang", "gsg", "--engine", "model", "--checkpoint", path, "-o", out)
    assert_refused(r, *words)
    assert not out.exists()


def test_hostile_speller_inputs_are_refused_before_training(models, tmp_path):
    "`signllm train speller` reads its --base generator and --reader translator first: hostile ones stop it at once."
    base = hostile(models["generator"], tmp_path / "base.safetensors", languages=json.dumps({c: "en" for c in ALL_CODES}))
    r, _ = run_limited("train", "speller", "--base", base, "--out", tmp_path / "run", "--no-eval")
    assert_refused(r, "base.safetensors", "17576 sign languages")
    reader = hostile(DATA / "models" / "reader-fingerspelling.safetensors", tmp_path / "reader.safetensors",
                     lm=lm_with(dim=1_000_000))
    r, _ = run_limited("train", "speller", "--reader", reader, "--out", tmp_path / "run")
    assert_refused(r, "reader.safetensors", "dim", "1000000")
    assert not (tmp_path / "run").exists()


def test_tiny_and_shipped_generators_still_generate(models, tmp_path):
    r, _ = run_limited("generate", "und nun", "--lang", "gsg", "--engine", "model", "--checkpoint", models["generator"],
                       "-o", tmp_path / "tiny.pose")
    assert r.returncode == 0 and (tmp_path / "tiny.pose").exists(), r.stderr[-2000:]
    r, _ = run_limited("generate", "und nun", "--lang", "gsg", "--engine", "model", "-o", tmp_path / "shipped.pose")
    assert r.returncode == 0 and "model engine" in r.stdout, r.stderr[-2000:]


# ---------- wall-clock guards: a model that never says stop ----------
# (in a subprocess with a timeout: without the guard these loops run for many minutes)

def test_a_generator_that_never_stops_is_stopped_by_the_clock(models, tmp_path):
    "max_frames within the limits (an hour at 25 fps) and a stop the counter cannot reach: LIMITS['run_seconds'] ends it."
    path = hostile(models["generator"], tmp_path / "endless.safetensors", config=with_(max_frames=90_000, stop=2.0))
    r = run_python(f"""
        import time
        from signllm.core import LIMITS, SignLLMError
        from signllm.generator_cli import load_generator
        model = load_generator({str(path)!r})
        LIMITS["run_seconds"] = (0.0, 0.5, "seconds")  # 120 s in real use; half a second keeps the test short
        started = time.monotonic()
        try: model.sign("und nun", "gsg")
        except SignLLMError as e: print(round(time.monotonic() - started, 1), e)
        """)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    seconds, message = r.stdout.split(" ", 1)
    assert "time spent generating" in message and "outside the kit's limits (0–0.5 seconds)" in message, message
    assert float(seconds) < 10


def test_beam_search_is_stopped_by_the_clock(models):
    "A language model that never writes <eos>, 4000 tokens of beam 8: LIMITS['run_seconds'] ends the decoding."
    r = run_python(f"""
        import time
        from signllm.core import LIMITS, SignLLMError
        from signllm.translate import beam_search, load_translator
        translator = load_translator({str(models["translator"])!r})
        translator.lm.eos_id = -1  # never produced
        prefix = translator.prefix([0, 1, 2], "de")
        try: beam_search(translator.lm, prefix, beam=100_000)
        except SignLLMError as e: print(e)
        LIMITS["run_seconds"] = (0.0, 0.2, "seconds")
        started = time.monotonic()
        try: beam_search(translator.lm, prefix, beam=8, max_new_tokens=4000)
        except SignLLMError as e: print(round(time.monotonic() - started, 1), e)
        """)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    width, clock = r.stdout.strip().splitlines()
    assert "the beam width is 100000, outside the kit's limits (1–64 hypotheses)" in width, width
    seconds, message = clock.split(" ", 1)
    assert "time spent decoding" in message and "outside the kit's limits (0–0.2 seconds)" in message, message
    assert float(seconds) < 10


def test_a_model_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    from signllm.core import LIMITS
    big = tmp_path / "huge.safetensors"
    with open(big, "wb") as f: f.truncate(LIMITS["file_bytes"][1] + 1)  # sparse: no disk used, but past the limit
    result = run_cli("translate", str(DATA / "signer_video" / "human_signer.pose"), "--model", str(big), timeout=120)
    err = result.stderr.strip()
    assert result.returncode == 2 and len(err.splitlines()) == 1 and "Traceback" not in err and "size" in err, err
