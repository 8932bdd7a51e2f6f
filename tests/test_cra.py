"CRA (nbs/05_cra, 05a_tokenizer_appendix): lossless deterministic word tokens, VOLT, embeddings, the saved tokenizer and `signllm train tokenizer`."
import contextlib
import io
from dataclasses import replace

import numpy as np
import pytest
import torch

from signllm.core import SignLLMError
from signllm.vqsign import VQSIGN_TINY, VQSign, load_sources, save_vqsign
from signllm.cra import (CRAVocab, SignTokenizer, apply_merge, check_lossless, learn_merges, random_chars, random_vocab,
                         sinkhorn, volt, word_embeddings)
from signllm.tokenizer_cli import train_tokenizer_main


def test_lossless_and_deterministic_property():
    "Property test (seeded; hypothesis is not a dependency): decode(encode(x)) == x and encode is a function."
    rng = np.random.default_rng(1234)
    for case in range(2000):
        n_chars = int(rng.integers(1, 80))
        vocab = random_vocab(rng, n_chars, int(rng.integers(0, 200)))
        chars = random_chars(rng, n_chars, max_len=int(rng.integers(1, 200)))
        check_lossless(vocab, chars)


def test_lossless_with_merges_learned_from_runs():
    rng = np.random.default_rng(7)
    corpus = [random_chars(rng, 16, 120) for _ in range(40)]
    merges, counts = learn_merges(corpus, 16, max_merges=300)
    assert all(a >= b for a, b in zip(counts, counts[1:]))  # a merge never creates a pair more frequent than itself
    vocab = CRAVocab(16, merges)
    for chars in corpus + [random_chars(rng, 16, 200) for _ in range(200)]:
        check_lossless(vocab, chars)
        check_lossless(vocab.truncate(len(merges) // 2), chars)


def test_check_lossless_can_fail():
    "A broken encoder (drops the last token) is caught by the property check."
    class Broken(CRAVocab):
        def encode(self, chars): return CRAVocab.encode(self, chars)[:-1]
    with pytest.raises(AssertionError, match="not lossless"):
        check_lossless(Broken(4, ((0, 1),)), np.array([0, 1, 2, 3]))


def test_bpe_details():
    assert apply_merge([1, 1, 1, 1, 1], (1, 1), 7) == [7, 7, 1]
    merges, counts = learn_merges([[0, 1, 2, 0, 1, 2, 0, 1]], 3)
    assert merges[0] == (0, 1) and counts[0] == 3  # the most frequent pair first
    assert learn_merges([[2, 1, 0, 2, 1, 0]], 3)[0][0] == (1, 0)  # tie between (2, 1) and (1, 0): the smaller pair
    assert learn_merges([[0, 1], [2, 3]], 4)[0] == []  # nothing occurs twice
    vocab = CRAVocab(3, [(0, 1), (3, 2)])
    assert vocab.spellings()[4] == (0, 1, 2)
    assert vocab.encode([0, 1, 2, 0, 1]).tolist() == [4, 3]


def test_learn_merges_ties_are_deterministic():
    corpus = [[3, 4, 1, 2], [1, 2, 3, 4]]  # (1, 2) and (3, 4) both occur twice
    assert learn_merges(corpus, 5)[0][0] == (1, 2)
    assert learn_merges(corpus[::-1], 5)[0] == learn_merges(corpus, 5)[0]


def test_bad_ids_and_vocab():
    vocab = CRAVocab(4, [(0, 1)])
    with pytest.raises(SignLLMError, match="outside"): vocab.encode([0, 9])
    with pytest.raises(SignLLMError, match="outside"): vocab.decode([5])
    with pytest.raises(SignLLMError, match="does not exist yet"): CRAVocab(4, [(0, 4)])


def test_sinkhorn_marginals():
    rng = np.random.default_rng(0)
    a, b = rng.random(5), rng.random(7)
    a, b = a / a.sum(), b / b.sum()
    plan = sinkhorn(a, b, rng.random((5, 7)), reg=0.5, iterations=500)
    np.testing.assert_allclose(plan.sum(1), a, atol=1e-6)
    np.testing.assert_allclose(plan.sum(0), b, atol=1e-6)


def test_volt_on_a_corpus_with_known_words():
    "Synthetic integer sequences (not sign language): made of 3 'words'; VOLT's OT entropy follows the exact one."
    rng = np.random.default_rng(0)
    words = [[0, 1, 2], [3, 3, 3, 3], [4, 5]]
    corpus = [[c for w in rng.integers(0, 3, 30) for c in words[w]] for _ in range(20)]
    merges, _ = learn_merges(corpus, 6, max_merges=40)
    result = volt(corpus, CRAVocab(6, merges), step=1)
    assert np.all(np.diff(result.exact_entropy[:6]) < 0)  # the first merges help
    assert abs(result.entropy[-1] - result.exact_entropy[-1]) < 0.05  # with all candidates the OT plan is exact
    assert result.entropy[-1] < result.entropy[0] - 1
    assert 1 <= result.best <= len(merges) and np.nanargmax(result.muv) == result.best  # the highest MUV wins
    assert np.isnan(result.muv[:2]).all()  # VOLT's sequence starts at one step: no MUV for 0 and 1 merges
    spelled = CRAVocab(6, merges).spellings()
    assert {(0, 1, 2), (3, 3, 3, 3), (4, 5)} <= set(spelled)  # the candidates contain the three words


def test_word_embeddings_from_codebook():
    codebook = torch.nn.functional.normalize(torch.randn(8, 16), dim=-1)
    vocab = CRAVocab(8, [(1, 2), (2, 1), (8, 3)])
    e = word_embeddings(vocab, codebook)
    assert e.shape == (11, 16)
    torch.testing.assert_close(e[:8], codebook)
    assert not torch.allclose(e[8], e[9])  # order matters
    with pytest.raises(SignLLMError, match="codebook has 9"):
        word_embeddings(vocab, torch.randn(9, 16))


@pytest.fixture(scope="module")
def heldout():
    return load_sources(["phoenix:dev"])


def test_tokenizer_save_load_identical(heldout, tmp_path):
    torch.manual_seed(0)
    vq = VQSign(VQSIGN_TINY).eval()
    chars = vq.tokenize(heldout)
    merges, _ = learn_merges(chars, VQSIGN_TINY.codebook_size)
    tokenizer = SignTokenizer(vq, CRAVocab(VQSIGN_TINY.codebook_size, merges))
    path = tokenizer.save(tmp_path / "tok.safetensors")
    loaded = SignTokenizer.load(path)
    assert loaded.vocab == tokenizer.vocab
    for a, b in zip(tokenizer.words(heldout), loaded.words(heldout)): np.testing.assert_array_equal(a, b)
    for w, c in zip(loaded.words(heldout), chars): np.testing.assert_array_equal(loaded.vocab.decode(w), c)
    torch.testing.assert_close(loaded.embeddings(), tokenizer.embeddings())
    with pytest.raises(SignLLMError, match="codebook_size=64, but codebook_size=32"):
        SignTokenizer.load(path, config=replace(VQSIGN_TINY, codebook_size=32))
    save_vqsign(vq, tmp_path / "vq.safetensors")
    with pytest.raises(SignLLMError, match="not a signllm tokenizer"):
        SignTokenizer.load(tmp_path / "vq.safetensors")
    with pytest.raises(SignLLMError, match="characters but VQ-Sign has"):
        SignTokenizer(vq, CRAVocab(10))


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = train_tokenizer_main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, words", [
    (["--data", "phoenix:training"], "neither a shipped source"),
    (["--max-epochs", "0"], "--max-epochs must be at least 1"),
    (["--resume"], "no checkpoint"),
    (["--data", "nowhere.skels"], "nowhere.skels"),
])
def test_cli_bad_input_is_one_line_exit_2(argv, words, tmp_path):
    code, out, err = _run(argv + ["--out", tmp_path / "run", "--no-progress"])
    assert code == 2
    assert err.startswith("signllm train tokenizer: error: ") and words in err and len(err.strip().splitlines()) == 1


def test_cli_trains_resumes_and_refuses_to_overwrite(tmp_path, heldout):
    run = tmp_path / "run"
    common = ["--data", "phoenix:train", "--val", "phoenix:dev", "--crops-per-epoch", "32", "--batch-size", "16",
              "--out", run, "--no-progress"]
    code, out, err = _run(common + ["--max-epochs", "1"])
    assert code == 0, err
    assert "trained 2 steps, 1 epochs" in out and "context-prediction accuracy" in out and f"wrote {run}" in out
    code, out, err = _run(common + ["--max-epochs", "2", "--resume"])
    assert code == 0, err
    assert "trained 4 steps, 2 epochs" in out  # continued, not restarted
    code, out, err = _run(common + ["--max-epochs", "1"])
    assert code == 2 and "--resume" in err
    tokenizer = SignTokenizer.load(run / "tokenizer.safetensors", config=VQSIGN_TINY)
    assert len(tokenizer.words(heldout[0])) <= len(tokenizer.characters(heldout[0]))
    assert (run / "logs" / "version_0" / "metrics.csv").exists() and (run / "logs" / "version_1").exists()


def test_cli_help():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e:
        train_tokenizer_main(["--help"])
    assert e.value.code == 0
    text = out.getvalue()
    assert "signllm train tokenizer" in text and "--devices" in text and "--resume" in text and "examples:" in text


def test_characters_and_words_plot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from signllm.cra import plot_characters_and_words
    vocab = CRAVocab(4, [(0, 0), (1, 2)])
    chars = np.array([0, 0, 1, 2, 3])
    fig, ax = plt.subplots()
    plot_characters_and_words(ax, chars, vocab.encode(chars), vocab)
    assert len(ax.patches) == len(chars) + len(vocab.encode(chars))
    plt.close("all")
