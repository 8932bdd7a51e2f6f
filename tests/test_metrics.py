"Translation metrics and the DTW retrieval baseline (nbs/11_metrics)."
import itertools

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF

from signllm.data import read_phoenix
from signllm.metrics import (RetrievalBaseline, TranslationScores, bleu, check_pairs, chrf, dtw_distance, lcs_length,
                             rouge_l, rouge_l_sentence, scores_table, translation_scores)
from signllm.pose import SignLLMError, data_path

HYPOTHESES = ["und nun die wettervorhersage für morgen freitag .", "regen im norden", ""]
REFERENCES = ["und nun die wettervorhersage für morgen donnerstag .", "schnee im norden und osten", "wolken ."]


def test_bleu_is_sacrebleu_with_max_order():
    for n in (1, 2, 3, 4):
        expected = BLEU(max_ngram_order=n).corpus_score(HYPOTHESES, [REFERENCES]).score
        assert bleu(HYPOTHESES, REFERENCES, n) == pytest.approx(expected)
    assert chrf(HYPOTHESES, REFERENCES) == pytest.approx(CHRF().corpus_score(HYPOTHESES, [REFERENCES]).score)


def test_bleu1_by_hand():
    # 3 of 4 hypothesis words are in the reference; hypothesis 4 words, reference 5: brevity penalty exp(1 - 5/4)
    value = bleu(["regen im norden heute"], ["schnee im norden und regen"], 1)
    assert value == pytest.approx(100 * 0.75 * np.exp(1 - 5 / 4))


def test_perfect_and_disjoint():
    assert bleu(REFERENCES, REFERENCES) == pytest.approx(100)
    assert rouge_l(REFERENCES, REFERENCES) == pytest.approx(100)
    assert bleu(["a b c d"], ["e f g h"]) == 0.0
    scores = translation_scores(REFERENCES, REFERENCES)
    assert isinstance(scores, TranslationScores) and min(scores) == pytest.approx(100)


def test_lcs_matches_brute_force():
    rng = np.random.default_rng(0)
    def brute(a, b):
        best = 0
        for r in range(len(a) + 1):
            for sub in itertools.combinations(a, r):
                it = iter(b)
                if all(c in it for c in sub): best = max(best, r)
        return best
    for _ in range(200):
        a, b = list(rng.integers(0, 3, rng.integers(0, 8))), list(rng.integers(0, 3, rng.integers(0, 8)))
        assert lcs_length(a, b) == brute(a, b)


def test_rouge_l_by_hand():
    # "a b c" vs "a x b y": LCS 2, precision 2/3, recall 2/4, beta 1.2
    p, r = 2 / 3, 1 / 2
    assert rouge_l_sentence("a b c", "a x b y") == pytest.approx((1 + 1.44) * p * r / (r + 1.44 * p))
    assert rouge_l(["a b c", "z"], ["a x b y", "q"]) == pytest.approx(100 * rouge_l_sentence("a b c", "a x b y") / 2)
    assert rouge_l_sentence("", "a") == 0.0


def test_bad_pairs():
    with pytest.raises(SignLLMError, match="pair up"): bleu(["a"], ["a", "b"])
    with pytest.raises(SignLLMError, match="not a single string"): bleu("a b", "a b")
    with pytest.raises(SignLLMError, match="no sentences"): check_pairs([], [])
    with pytest.raises(SignLLMError, match="must be str"): rouge_l([1], ["a"])


def dtw_loops(a, b):
    n, m = len(a), len(b)
    D = np.full((n + 1, m + 1), np.inf); D[0, 0] = 0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            D[i, j] = np.linalg.norm(a[i - 1] - b[j - 1]) + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return D[n, m] / (n + m)


def test_dtw_matches_loops_and_warps_time():
    rng = np.random.default_rng(1)
    for n, m in [(1, 1), (1, 7), (9, 4), (15, 15), (30, 11)]:
        a, b = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
        assert dtw_distance(a, b) == pytest.approx(dtw_loops(a, b))
        assert dtw_distance(a, b) == pytest.approx(dtw_distance(b, a))
    a = rng.normal(size=(20, 4))
    assert dtw_distance(a, np.repeat(a, 3, axis=0)) == pytest.approx(0.0, abs=1e-6)  # the same signing, slower
    with pytest.raises(SignLLMError, match="non-empty"): dtw_distance(a, np.zeros((0, 4)))
    with pytest.raises(SignLLMError, match="equal features"): dtw_distance(a, np.zeros((3, 5)))


def test_retrieval_baseline_on_real_sentences():
    train = list(read_phoenix(data_path("phoenix14t"), "train"))
    dev = list(read_phoenix(data_path("phoenix14t"), "dev"))
    baseline = RetrievalBaseline([s.pose for s in train], [s.text for s in train])
    assert baseline.translate([s.pose for s in train]) == [s.text for s in train]  # each finds itself
    out = baseline.translate(dev[0].pose)
    assert out in [s.text for s in train]
    distances = baseline.distances(dev[0].pose)
    assert distances.shape == (5,) and out == train[int(distances.argmin())].text
    with pytest.raises(SignLLMError, match="pair up"): RetrievalBaseline([train[0].pose], [])


def test_scores_table():
    table = scores_table({"perfect": translation_scores(REFERENCES, REFERENCES)})
    assert "BLEU-4" in table and "perfect" in table and "100.0" in table
