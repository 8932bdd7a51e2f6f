"MMD (nbs/06_mmd): unbiased multi-kernel estimator against a direct reference, its properties, the permutation test."
import itertools

import numpy as np
import pytest
import torch

from signllm.mmd import KERNEL_SCALES, gaussian_kernel, median_bandwidth, mmd2, permutation_test, principal_components
from signllm.core import SignLLMError


def mmd2_reference(x, y, scales=KERNEL_SCALES):
    "Direct O(n²) implementation with explicit loops: median heuristic over the pooled sample, mean of the kernels."
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    pooled = np.concatenate([x, y])
    d2 = [((a - b) ** 2).sum() for (i, a), (j, b) in itertools.product(enumerate(pooled), repeat=2) if i != j]
    h = np.median(d2)
    k = lambda a, b: np.mean([np.exp(-((a - b) ** 2).sum() / (s * h)) for s in scales])
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a, b) for a in x for b in y) / (m * n)
    return xx + yy - 2 * xy


@pytest.mark.parametrize("m,n,dim,shift", [(7, 9, 3, 0.0), (12, 5, 4, 1.5), (20, 20, 2, 0.3), (2, 3, 6, 5.0)])
def test_matches_direct_reference(m, n, dim, shift):
    rng = np.random.default_rng(m * 100 + n)
    x, y = rng.normal(size=(m, dim)), rng.normal(size=(n, dim)) + shift
    assert float(mmd2(x, y)) == pytest.approx(mmd2_reference(x, y), abs=1e-10)
    for scales in ((1.0,), (0.5, 8.0)):  # other kernel sets too
        assert float(mmd2(x, y, scales=scales)) == pytest.approx(mmd2_reference(x, y, scales), abs=1e-10)


def test_same_distribution_is_near_zero_and_unbiased():
    rng = np.random.default_rng(0)
    big = float(mmd2(rng.normal(size=(400, 5)), rng.normal(size=(400, 5))))
    assert abs(big) < 0.005
    # unbiased: over many small samples the estimates average to 0 (a biased V-statistic would stay clearly positive)
    small = np.array([float(mmd2(rng.normal(size=(10, 3)), rng.normal(size=(10, 3)))) for _ in range(300)])
    assert abs(small.mean()) < 3 * small.std() / np.sqrt(len(small))
    assert (small < 0).any()  # the unbiased estimate dips below 0, as it must


def test_shifted_is_clearly_positive_and_grows():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 4)), rng.normal(size=(200, 4))
    values = [float(mmd2(x, y + s)) for s in (0.0, 0.5, 1.0, 2.0)]
    assert values[1] > 0.05 and values == sorted(values)
    assert values[1] > 20 * abs(values[0])


def test_symmetric():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(45, 3)) * 2
    assert float(mmd2(x, y)) == pytest.approx(float(mmd2(y, x)), abs=1e-12)


def test_median_bandwidth_and_kernel():
    x, y = torch.tensor([[0.0], [1.0]]), torch.tensor([[3.0]])
    # squared distances between distinct pooled points: 1, 9, 4 (each twice) -> median 4
    assert float(median_bandwidth(x, y)) == 4.0
    same = torch.ones(4, 2)
    assert float(median_bandwidth(same[:2], same[2:])) > 0  # all points equal: no division by zero
    assert torch.allclose(gaussian_kernel(torch.zeros(3), 2.0), torch.ones(3))


def test_differentiable_loss_pulls_samples_together():
    torch.manual_seed(0)
    target = torch.randn(100, 2) + torch.tensor([3.0, -1.0])
    shift = torch.zeros(2, requires_grad=True)
    source = torch.randn(100, 2)
    optimizer = torch.optim.Adam([shift], lr=0.1)
    first = mmd2(source + shift, target).item()
    for _ in range(100):
        loss = mmd2(source + shift, target)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
    assert mmd2(source + shift, target).item() < 0.1 * first
    assert torch.allclose(shift.detach(), torch.tensor([3.0, -1.0]), atol=0.5)


def test_permutation_test():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(60, 3)), rng.normal(size=(60, 3))
    same = permutation_test(x, y, permutations=200, seed=0)
    shifted = permutation_test(x, y + 1.0, permutations=200, seed=0)
    assert same.p_value > 0.05
    assert shifted.p_value == pytest.approx(1 / 201)  # the smallest p-value 200 shuffles can give
    assert same.null.shape == (200,)
    assert same.mmd2 == pytest.approx(float(mmd2(x, y)), abs=1e-12)
    assert permutation_test(x, y, permutations=50, seed=1).p_value == permutation_test(x, y, permutations=50, seed=1).p_value


def test_bad_input():
    with pytest.raises(SignLLMError, match="equal dim"): mmd2(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(SignLLMError, match="at least 2"): mmd2(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(SignLLMError, match="equal dim"): mmd2(np.zeros(5), np.zeros(5))


def test_principal_components_follow_the_widest_direction():
    rng = np.random.default_rng(4)
    points = rng.normal(size=(300, 3)) * [0.1, 5.0, 1.0]
    pc = principal_components(points)
    assert pc.shape == (300, 2)
    assert abs(np.corrcoef(pc[:, 0], points[:, 1])[0, 1]) > 0.99
