"""Known answers for the section 3.2 statistics."""
import math

import pytest
import torch

from gcnet_plugin.analysis import avg_cosine_distance, avg_jsd


def _brute_cosine(vectors: torch.Tensor) -> float:
    """The paper's double sum, one pair at a time (zero vector: cos 0)."""
    rows = [r.double() for r in vectors]
    total = 0.0
    for a in rows:
        for b in rows:
            na, nb = float(a.norm()), float(b.norm())
            cos = 0.0 if na == 0 or nb == 0 else float(a @ b) / (na * nb)
            total += (1 - cos) / 2
    return total / len(rows)**2


def _brute_jsd(att: torch.Tensor) -> float:
    """The paper's JSD formula summed over i, j, k: an O(Np^3) loop."""
    p = att.double().tolist()
    n = len(p)
    total = 0.0
    for i in range(n):
        for j in range(n):
            d = 0.0
            for a, b in zip(p[i], p[j]):
                if a > 0:
                    d += a * math.log(2 * a / (a + b))
                if b > 0:
                    d += b * math.log(2 * b / (a + b))
            total += d / 2
    return total / n**2


def test_cosine_identical_vectors_is_zero():
    v = torch.tensor([[1., 2., 3.]]).repeat(5, 1) * torch.arange(
        1., 6.).unsqueeze(1)  # same direction, different lengths
    assert avg_cosine_distance(v) == pytest.approx(0, abs=1e-12)


def test_cosine_two_orthogonal_and_opposite():
    # pairs: 2 self (0) + 2 orthogonal (0.5 each) -> 1 / 4
    assert avg_cosine_distance(torch.eye(2)) == pytest.approx(0.25)
    # pairs: 2 self (0) + 2 opposite (1 each) -> 2 / 4
    opposite = torch.tensor([[1., 0.], [-1., 0.]])
    assert avg_cosine_distance(opposite) == pytest.approx(0.5)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_cosine_matches_brute_force(seed):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(9, 4, generator=g)
    assert avg_cosine_distance(v) == pytest.approx(_brute_cosine(v), abs=1e-9)


def test_cosine_zero_vectors():
    v = torch.tensor([[1., 0.], [2., 0.], [0., 0.]])
    # orthogonal: zero row has cos 0 with all three rows, itself included
    assert avg_cosine_distance(v) == pytest.approx(_brute_cosine(v))
    assert avg_cosine_distance(v) == pytest.approx(5 * 0.5 / 9)
    # exclude: only the two parallel rows remain
    assert avg_cosine_distance(v, zero_policy='exclude') == pytest.approx(0)
    assert math.isnan(
        avg_cosine_distance(torch.zeros(3, 2), zero_policy='exclude'))
    assert avg_cosine_distance(torch.zeros(3, 2)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match='zero_policy'):
        avg_cosine_distance(v, zero_policy='skip')


def test_jsd_identical_rows_is_zero():
    row = torch.rand(12).softmax(0)
    assert avg_jsd(
        row.repeat(12, 1), chunk_size=5) == pytest.approx(
            0, abs=1e-12)


def test_jsd_two_one_hot_rows():
    # disjoint supports: JSD = log 2 for the 2 off-diagonal pairs, 0 on the
    # diagonal -> average log(2) / 2
    assert avg_jsd(torch.eye(2)) == pytest.approx(math.log(2) / 2)
    assert avg_jsd(
        torch.eye(2), chunk_size=1) == pytest.approx(math.log(2) / 2)


@pytest.mark.parametrize('n,chunk', [(7, 1), (7, 3), (7, 64), (10, 4)])
def test_jsd_matches_brute_force(n, chunk):
    g = torch.Generator().manual_seed(n * 10 + chunk)
    att = (3 * torch.randn(n, n, generator=g)).softmax(-1)
    att[0] = 0  # a row with exact zeros: 0 * log 0 = 0
    att[0, :2] = 0.5
    expected = _brute_jsd(att)
    assert avg_jsd(
        att.double(), chunk_size=chunk) == pytest.approx(
            expected, rel=1e-9)
    assert avg_jsd(att, chunk_size=chunk) == pytest.approx(expected, abs=1e-5)


def test_jsd_query_subsampling():
    g = torch.Generator().manual_seed(0)
    att = (2 * torch.randn(16, 16, generator=g)).softmax(-1).double()
    exact = avg_jsd(att)
    # K >= Np is the exact value
    assert avg_jsd(att, max_queries=16) == pytest.approx(exact)
    # K rows: the mean over exactly the sampled rows against all rows
    rows = torch.randperm(16, generator=torch.Generator().manual_seed(3))[:5]
    per_row = [
        sum(_brute_jsd(att[[int(i), j]]) * 2 for j in range(16)) / 16
        for i in rows
    ]  # _brute_jsd of 2 rows = JSD(i, j) / 2
    est = avg_jsd(
        att, max_queries=5, generator=torch.Generator().manual_seed(3))
    assert est == pytest.approx(sum(per_row) / 5, rel=1e-9)
    assert est != pytest.approx(exact, rel=1e-6)


def test_jsd_progress_and_validation():
    calls = []
    avg_jsd(
        torch.eye(5), chunk_size=2, progress=lambda d, t: calls.append((d, t)))
    # 3 row blocks; blocks on/above the diagonal: 3 + 2 + 1
    assert calls[-1] == (6, 6) and len(calls) == 6
    with pytest.raises(ValueError, match='sum to 1'):
        avg_jsd(torch.ones(3, 3))
    with pytest.raises(ValueError, match='negative'):
        avg_jsd(torch.tensor([[1.5, -0.5], [0.5, 0.5]]))
