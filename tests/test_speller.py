"""The learned speller (nbs/11b_speller, 11c_speller_appendix) and the generator's letter-reading groups (nbs/09b,
09d): letter tokens, one group replaced with the others kept bit for bit, the shipped speller on held-out words (back-
translation through the shipped reader), `signllm generate --engine model` on unseen ASL words, bad input, and a
reproducible tiny training run."""
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import call_main as run
from safetensors.torch import load_file

from signllm.core import SHIPPED_MODELS, SignLLMError, data_path
from signllm.generator import generate as lexicon_generate
from signllm.generator_cli import default_generator, load_generator, save_generator, with_group
from signllm.generator_model import SignGenerator, letter_tokens
from signllm.pose import read_pose
from signllm.speller import SpellerConfig, back_translation, speller_baselines, speller_words
from signllm.speller_cli import train_speller_main
from signllm.translate import load_translator

SPELL_LIMIT = 0.5  # back-translation CER of model-spelled held-out ASL words (the learned reader)


def test_spelled_groups_cover_words_of_known_letters_only():
    from signllm.generator_cli import model_covers, unknown_words
    assert model_covers("harbor", "ase") and unknown_words("harbor", "ase") == []  # never trained on, all letters known
    assert unknown_words("quiz café", "ase")[:1] == ["café"]  # é: a letter its training words never had (q, z: the rare-letter words)
    assert unknown_words("covid19", "ase") == ["covid19"]  # a digit inside a word is not silently dropped
    assert "a space between words" in unknown_words("snow today", "ase")  # trained on single words only
    assert not model_covers("snow today", "ase")
    from signllm.generator_model import GeneratorConfig
    assert GeneratorConfig(spelled="asl").spelled == ("ase",)  # one language, by any of its names


def test_generator_files_from_before_spelling_still_load(tmp_path):
    import json as json_
    from safetensors import safe_open
    from safetensors.torch import save_file
    path = save_generator(default_generator(), tmp_path / "new.safetensors")
    with safe_open(path, "pt") as f: metadata, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    config = json_.loads(metadata["config"]); del config["spelled"]  # as every file written before this field existed
    save_file(tensors, tmp_path / "old.safetensors", {**metadata, "config": json_.dumps(config)})
    assert load_generator(tmp_path / "old.safetensors").config.spelled == ()


def test_letter_tokens():
    assert letter_tokens("Rain, today!", "en") == [f"en:letter-{c}" for c in "rain_today"]
    assert letter_tokens("Işık", "tr") == ["tr:letter-ı", "tr:letter-ş", "tr:letter-ı", "tr:letter-k"]  # Turkish dotless i kept
    assert letter_tokens("", "en") == []


def test_with_group_keeps_the_other_groups_bit_for_bit(tmp_path):
    shipped = default_generator()
    donor = SignGenerator(replace(shipped.config, spelled=("ase",)))
    donor.add_language("ase", [lexicon_generate(w, "ase") for w in ("cat", "dog")], ["cat", "dog"], units="normalized")
    merged = load_generator(save_generator(with_group(shipped, donor, "ase"), tmp_path / "m.safetensors"))
    assert list(merged.groups) == ["gsg", "ase"] and merged.config.spelled == ("ase",)
    for name, tensor in shipped.groups["gsg"].state_dict().items():
        assert torch.equal(tensor, merged.groups["gsg"].state_dict()[name]), name
    for name, tensor in donor.groups["ase"].state_dict().items():
        assert torch.equal(tensor, merged.groups["ase"].state_dict()[name]), name
    for token in merged.words.tokens[4:]:  # every row comes from the model whose group reads it
        source = donor if token.startswith("en:") else shipped
        assert torch.equal(merged.word_embedding.weight[merged.words.index[token]], source.word_embedding.weight[source.words.index[token]])
    torch.manual_seed(0); a = shipped.sign("schauer im nordwesten", "gsg").pose.data
    torch.manual_seed(0); b = merged.sign("schauer im nordwesten", "gsg").pose.data
    assert np.array_equal(a, b)
    both = SignGenerator(replace(shipped.config, spelled=("ase", "sgg")))  # a base whose other group spells too
    both.add_language("sgg", [], ["kind"]); both.add_language("ase", [], ["cat"])
    assert with_group(both, donor, "ase").config.spelled == ("ase", "sgg")  # sgg keeps reading letters
    with pytest.raises(SignLLMError, match="same vocabulary rows"):  # gsg and sgg both read German words
        with_group(shipped, _german_words("sgg", shipped), "sgg")
    with pytest.raises(SignLLMError, match="different architectures"):
        other = SignGenerator(replace(shipped.config, dim=32, heads=4))
        other.add_language("ase", [], ["cat"])
        with_group(shipped, other, "ase")


def _german_words(code, like):
    "A donor whose group `code` reads German words, as the shipped DGS group does."
    donor = SignGenerator(like.config)
    donor.add_language(code, [], ["und morgen regnet es"])  # words the DGS group knows too
    return donor


@pytest.fixture(scope="module")
def held_out():
    train, test = speller_words(SpellerConfig())
    return train, test[:20]


def test_shipped_speller_spells_held_out_words(held_out):
    "The shipped generator's ASL group spells words it never saw; the shipped reader reads them back ."
    train, words = held_out
    generator = default_generator()
    assert "ase" in generator.config.spelled
    reader = load_translator(data_path(SHIPPED_MODELS["fingerspelling"]))
    speller = back_translation([generator.sign(w, "ase").pose for w in words], words, reader)
    baselines = {name: back_translation(poses, words, reader) for name, poses in speller_baselines(train, words).items()}
    assert speller["cer"] <= SPELL_LIMIT, speller
    assert speller["cer"] < baselines["mean pose"]["cer"] and speller["cer"] < baselines["nearest training word"]["cer"], (speller, baselines)
    assert baselines["lexicon composition"]["cer"] <= speller["cer"] + 0.1  # the ceiling it imitates


def test_generate_model_engine_spells_an_unseen_word(cli, tmp_path, held_out):
    word = held_out[1][0]
    r = cli("generate", word, "--lang", "ase", "--engine", "model", "-o", tmp_path / "w.pose", "--verbose")
    assert r.returncode == 0 and "model engine" in r.stdout and f"en:letter-{word[0]}" in r.stdout, (r.stdout, r.stderr)
    pose = read_pose(tmp_path / "w.pose")
    assert 10 < pose.n_frames < 300 and pose.data.shape[1:] == (50, 3)


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    p2lg = SignGenerator(replace(default_generator().config, mode="prompt2langgloss"))
    p2lg.add_language("gsg", [], ["regen"], ["REGEN"])
    p2lg = save_generator(p2lg, tmp_path / "p2lg.safetensors")  # another architecture: refused before training
    out = tmp_path / "out"
    for argv, words in [(["--steps", 0], "--steps"), (["--words", 5], "--words"), (["--word-dropout", 1.5], "--word-dropout"),
                        (["--lr", 0], "--lr"), (["--base", junk], "junk.safetensors"), (["--base", p2lg], "tiny preset in mlsf mode"),
                        (["--reader", tmp_path / "missing.safetensors"], "missing")]:
        code, _, err = run(train_speller_main, argv + ["--out", out])
        assert code == 2 and err.startswith("signllm train speller: error: ") and words in err, (argv, err)
        assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_tiny_training_run_is_reproducible_and_keeps_dgs(tmp_path):
    tiny = ["--words", 20, "--steps", 15, "--batch-size", 4]
    for name in ("a", "b"):
        code, out, err = run(train_speller_main, tiny + ["--out", tmp_path / name])
        assert code == 0, err
    a, b = (load_file(tmp_path / n / "speller.safetensors") for n in ("a", "b"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    report = json.loads((tmp_path / "a" / "speller.json").read_text())
    assert set(report["held_out"]) == {"speller", "mean pose", "nearest training word", "lexicon composition"}
    assert "lexicon composition" in out and "nearest training word" in out  # the report's rows
    merged, shipped = load_generator(tmp_path / "a" / "generator.safetensors"), default_generator()
    assert all(torch.equal(t, merged.groups["gsg"].state_dict()[k]) for k, t in shipped.groups["gsg"].state_dict().items())
    assert merged.info["ase group"]["config"]["steps"] == 15
