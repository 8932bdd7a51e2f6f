"Translation metrics, the one DTW, pose and image scores, and the DTW retrieval baseline (nbs/03b_metrics)."
import itertools

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF

from signllm.data import read_phoenix
from signllm.core import SignLLMError, data_path
from signllm.metrics import (RetrievalBaseline, TranslationScores, bleu, check_pairs, chrf, dtw, dtw_distance,
                             dtw_joint_error, frame_costs, lcs_length, mean_pose, psnr, rouge_l, rouge_l_sentence,
                             scores_table, ssim_map, still_pose, translation_scores, wrist_speed)
from signllm.pose import SIGN50

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


def dtw_loop(C):
    "Textbook DTW (total cost, path length of the cheapest path)."
    n, m = C.shape
    D = np.full((n + 1, m + 1), np.inf); D[0, 0] = 0; L = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best = min([(D[i - 1, j - 1], L[i - 1, j - 1]), (D[i - 1, j], L[i - 1, j]), (D[i, j - 1], L[i, j - 1])], key=lambda o: o[0])
            D[i, j], L[i, j] = best[0] + C[i - 1, j - 1], best[1] + 1
    return D[n, m], L[n, m]


@pytest.fixture(scope="module")
def sentences():
    return [s.pose.data for s in read_phoenix(data_path("phoenix14t"), "train")]


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 3), (30, 41)])
def test_dtw_matches_the_textbook_recursion(shape):
    C = np.random.default_rng(sum(shape)).random(shape)  # synthetic cost matrix, only to test the algorithm
    result = dtw(C, path=True)
    total, length = dtw_loop(C)
    assert result.total == pytest.approx(total) and result.length == length
    assert result.cost == pytest.approx(total / length)
    path = result.path
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [shape[0] - 1, shape[1] - 1]
    assert (np.diff(path, axis=0) >= 0).all() and (np.diff(path, axis=0).sum(1) >= 1).all()  # monotonic steps
    assert C[path[:, 0], path[:, 1]].sum() == pytest.approx(total)


def test_dtw_distance_of_feature_vectors_is_euclidean_per_path_step():
    rng = np.random.default_rng(1)
    for n, m in [(1, 1), (1, 7), (9, 4), (15, 15), (30, 11)]:
        a, b = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))  # (n, F) arrays: one "joint" with F coordinates
        C = np.linalg.norm(a[:, None] - b[None], axis=-1)
        total, length = dtw_loop(C)
        assert frame_costs(a, b) == pytest.approx(C)
        assert dtw_distance(a, b) == pytest.approx(total / length)
        assert dtw_distance(a, b) == pytest.approx(dtw_distance(b, a))
    a = rng.normal(size=(20, 4))
    assert dtw_distance(a, np.repeat(a, 3, axis=0)) == pytest.approx(0.0, abs=1e-6)  # the same signing, slower
    with pytest.raises(SignLLMError, match="at least one frame"): dtw_distance(a, np.zeros((0, 4)))
    with pytest.raises(SignLLMError, match="equal features"): dtw_distance(a, np.zeros((3, 5)))


def test_dtw_on_real_signing(sentences):
    a, b = sentences[0], sentences[1]
    assert dtw_distance(a, a) == 0.0
    assert dtw_distance(np.repeat(a, 3, axis=0), a) == pytest.approx(0.0)  # slowed down, same signing
    assert dtw_distance(a, b) == pytest.approx(dtw_distance(b, a))
    assert dtw_distance(a, b) > 0.1 and dtw_distance(a[::-1], a) > 0.05
    assert frame_costs(a, b).shape == (len(a), len(b))
    with pytest.raises(SignLLMError, match="one skeleton"): dtw_distance(a, a[:, :21])
    with pytest.raises(SignLLMError, match="at least one frame"): dtw_distance(a[:0], a)


def test_pose_scores(sentences):
    ref = sentences[0]
    assert dtw_joint_error(ref, ref) == 0.0
    assert dtw_joint_error(ref + np.array([0.01, 0, 0], np.float32), ref) == pytest.approx(0.01, abs=1e-6)
    with pytest.raises(SignLLMError, match="50, 3"): dtw_joint_error(ref[:, :, :2], ref[:, :, :2])
    with pytest.raises(SignLLMError, match="NaN"): dtw_joint_error(np.full_like(ref, np.nan), ref)
    still = still_pose(mean_pose([still_pose(ref[0], 3)]), 10, fps=25)
    assert still.skeleton == SIGN50 and still.n_frames == 10 and wrist_speed(still) == 0.0
    assert np.allclose(still.data[0], ref[0])


def test_image_scores():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    assert ssim_map(image, image).shape == (64, 80)
    assert ssim_map(image, image).mean() == pytest.approx(1.0, abs=1e-4)
    dim = image // 2  # values up to 127: adding 5 never saturates
    assert psnr(dim, dim + 5) == pytest.approx(10 * np.log10(255 ** 2 / 25))
    where = np.zeros((64, 80), bool); where[:10] = True
    shifted = dim.copy(); shifted[10:] += 50  # differs only outside the region
    assert psnr(dim, shifted, where) == pytest.approx(10 * np.log10(255 ** 2 / 1e-10))


def test_retrieval_baseline_on_real_sentences():
    train = list(read_phoenix(data_path("phoenix14t"), "train"))
    dev = list(read_phoenix(data_path("phoenix14t"), "dev"))
    features = lambda pose: pose.normalize().data[..., :2].reshape(pose.n_frames, -1)  # (T, 100)
    baseline = RetrievalBaseline([s.pose for s in train], [s.text for s in train], features)
    assert baseline.translate([s.pose for s in train]) == [s.text for s in train]  # each finds itself
    out = baseline.translate(dev[0].pose)
    assert out in [s.text for s in train]
    distances = baseline.distances(dev[0].pose)
    assert distances.shape == (5,) and out == train[int(distances.argmin())].text
    with pytest.raises(SignLLMError, match="pair up"): RetrievalBaseline([train[0].pose], [], features)


def test_scores_table():
    table = scores_table({"perfect": translation_scores(REFERENCES, REFERENCES)})
    assert "BLEU-4" in table and "perfect" in table and "100.0" in table
