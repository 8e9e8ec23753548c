"""Average pairwise distances of section 3.2 (Table 1) of GCNet.

Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation Networks
and Beyond", 2019. For vectors ``v_1 .. v_Np`` (one per position) the paper
averages a distance over all ``Np ** 2`` ordered pairs, the ``i == j``
pairs included::

    avg_dist = 1 / Np^2 * sum_i sum_j dist(v_i, v_j)

Two distances are used:

* cosine distance ``(1 - cos(v_i, v_j)) / 2``, for the block input
  ``x_i``, the block output before fusion ``z_i - x_i`` and the attention
  row ``w_i``;
* Jensen-Shannon divergence (natural log, so in ``[0, log 2]``) between
  attention rows that are probability distributions (Gaussian and
  Embedded Gaussian).

Shape shorthand: ``Np`` positions (vectors, attention rows), ``Nk`` keys
per attention row (usually ``Np``), ``D`` vector length, ``K`` query rows
kept by subsampling, ``B`` rows per chunk.

Cosine has a closed form: with unit vectors ``u_i = v_i / |v_i|``,
``sum_ij cos(v_i, v_j) = |sum_i u_i| ** 2``, so the average is
``(1 - |sum_i u_i| ** 2 / Np ** 2) / 2`` in ``O(Np * D)``.

Jensen-Shannon has none: ``JSD(p, q) = H((p + q) / 2) - (H(p) + H(q)) / 2``
needs the entropy of every mixture, ``Np ** 3 / 2`` work for all pairs
(it is symmetric). It runs over blocks of ``B x B`` row pairs, so memory is
``O(B * B * Np)``, never ``Np ** 3``. For large ``Np`` the average can be
estimated from ``K`` random query rows against all ``Np`` rows
(``K * Np ** 2`` work); that estimate is unbiased but not exact.
"""
import math
from typing import Callable, Optional

import torch
from torch import Tensor

ProgressFn = Callable[[int, int], None]


def avg_cosine_distance(vectors: Tensor,
                        zero_policy: str = 'orthogonal',
                        eps: float = 1e-12) -> float:
    """Average cosine distance over all ``Np ** 2`` pairs of vectors.

    A zero vector has no direction, so its cosine is undefined. Two ways to
    treat it, chosen by ``zero_policy``:

    * ``'orthogonal'`` (default): a zero vector has cosine 0 with every
      vector, itself included (distance 0.5), which is what
      :func:`torch.nn.functional.cosine_similarity` returns. The average
      stays over ``Np ** 2`` pairs.
    * ``'exclude'``: zero vectors are left out and the average runs over the
      ``M ** 2`` pairs of the ``M`` non-zero vectors; ``nan`` when ``M`` is
      0.

    Args:
        vectors (Tensor): One vector per row.
        zero_policy (str): ``'orthogonal'`` or ``'exclude'``.
            Default: ``'orthogonal'``.
        eps (float): A vector whose L2 norm is ``<= eps`` counts as zero.
            Default: 1e-12.

    Returns:
        float: The average distance, in ``[0, 1]``.

    Shape:
        vectors: ``[Np, D]``.
    """
    if zero_policy not in ('orthogonal', 'exclude'):
        raise ValueError(f'zero_policy must be "orthogonal" or "exclude", '
                         f'got {zero_policy!r}')
    if vectors.dim() != 2:
        raise ValueError(f'expected [Np, D] vectors, got shape '
                         f'{tuple(vectors.shape)}')
    num = vectors.shape[0]
    if num == 0:
        raise ValueError('avg_cosine_distance needs at least one vector')
    v = vectors.detach().to(torch.float64)
    norms = v.norm(dim=1)  # [Np]
    nonzero = norms > eps
    if zero_policy == 'exclude':
        v, norms, num = v[nonzero], norms[nonzero], int(nonzero.sum())
        if num == 0:
            return math.nan
    # zero rows become zero unit vectors: cosine 0 with everything
    units = v / norms.clamp_min(eps).unsqueeze(1)  # [Np, D]
    units[norms <= eps] = 0
    total_cos = units.sum(dim=0).square().sum()  # sum_ij cos(v_i, v_j)
    # rounding can leave |sum u|^2 a hair above Np^2 for identical vectors
    return float(((1 - total_cos / num**2) / 2).clamp(0, 1))


def _check_distributions(rows: Tensor, atol: float) -> None:
    if rows.dim() != 2:
        raise ValueError(f'expected [Nq, Nk] attention rows, got shape '
                         f'{tuple(rows.shape)}')
    if bool((rows < 0).any()):
        raise ValueError('attention rows have negative entries; JSD needs '
                         'probability distributions (gaussian or '
                         'embedded_gaussian non-local blocks)')
    sums = rows.sum(dim=1, dtype=torch.float64)  # [Np]
    worst = float((sums - 1).abs().max())
    if worst > atol:
        raise ValueError(f'attention rows must sum to 1 for JSD; the worst '
                         f'row is off by {worst:.3g}')


def _entropy(rows: Tensor) -> Tensor:
    """Entropy of each row in nats, summed in float64. ``[..., Np] ->
    [...]``."""
    return -torch.xlogy(rows, rows).sum(dim=-1, dtype=torch.float64)


def _pair_jsd(p: Tensor, q: Tensor, h_p: Tensor, h_q: Tensor) -> Tensor:
    """JSD of every row of ``p`` against every row of ``q``.

    Shape:
        p: ``[B, Np]``, q: ``[B2, Np]``, h_p: ``[B]``, h_q: ``[B2]``,
        returns ``[B, B2]`` float64.
    """
    mix = p.unsqueeze(1) + q.unsqueeze(0)  # [B, B2, Np]
    mix.mul_(0.5)
    h_mix = -mix.xlogy_(mix).sum(dim=-1, dtype=torch.float64)  # [B, B2]
    jsd = h_mix - (h_p.unsqueeze(1) + h_q.unsqueeze(0)) / 2
    # JSD >= 0; only rounding can push identical rows below it
    return jsd.clamp_min(0)


def avg_jsd(attention: Tensor,
            chunk_size: int = 32,
            max_queries: Optional[int] = None,
            generator: Optional[torch.Generator] = None,
            progress: Optional[ProgressFn] = None,
            atol: float = 1e-3) -> float:
    """Average Jensen-Shannon divergence over all pairs of attention rows.

    Row ``i`` is the attention of query ``i`` over the ``Nk`` keys, a
    probability distribution. The result is the paper's
    ``1 / Np^2 * sum_i sum_j JSD(w_i, w_j)`` over the ``Np`` rows, in nats
    (``log 2`` at most). Usually ``Nk == Np``; passing only some query rows
    (e.g. the positions inside the image, not the padding) gives the
    average over those rows.

    With ``max_queries=K < Np`` the sum over ``i`` runs over ``K`` query
    rows drawn without replacement (seeded by ``generator``) while ``j``
    still covers all ``Np`` rows: an unbiased estimate, not the exact value.

    Elementwise work runs in the dtype of ``attention`` (pass float64 for the
    last digits); every sum is accumulated in float64.

    Args:
        attention (Tensor): Attention rows, each summing to 1.
        chunk_size (int): Rows per block ``B``; peak memory is about
            ``B * B * Np`` elements. Default: 32.
        max_queries (int, optional): Number ``K`` of query rows to sample;
            ``None`` (or ``K >= Np``) computes the exact average.
            Default: None.
        generator (torch.Generator, optional): Seeds the query sample.
            Default: None.
        progress (Callable[[int, int], None], optional): Called as
            ``progress(done, total)`` after each block. Default: None.
        atol (float): Tolerance on the row sums. Default: 1e-3.

    Returns:
        float: The average JSD.

    Shape:
        attention: ``[Np, Nk]`` (row = query, column = key).
    """
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
    att = attention.detach()
    if not att.is_floating_point():
        att = att.float()
    _check_distributions(att, atol)
    num = att.shape[0]
    entropy = _entropy(att)  # [Np]
    exact = max_queries is None or max_queries >= num
    if exact:
        queries = torch.arange(num, device=att.device)
    else:
        if max_queries < 1:
            raise ValueError(f'max_queries must be >= 1, got {max_queries}')
        perm = torch.randperm(num, generator=generator)
        queries = perm[:max_queries].to(att.device)

    starts_q = list(range(0, len(queries), chunk_size))
    starts_k = list(range(0, num, chunk_size))
    if exact:  # symmetric: blocks on and above the diagonal only
        jobs = [(a, b) for a in starts_q for b in starts_k if b >= a]
    else:
        jobs = [(a, b) for a in starts_q for b in starts_k]
    total = torch.zeros((), dtype=torch.float64, device=att.device)
    for done, (q0, k0) in enumerate(jobs, start=1):
        rows_q = queries[q0:q0 + chunk_size]
        block = _pair_jsd(att[rows_q], att[k0:k0 + chunk_size],
                          entropy[rows_q], entropy[k0:k0 + chunk_size])
        weight = 2 if exact and k0 != q0 else 1
        total += weight * block.sum()
        if progress is not None:
            progress(done, len(jobs))
    return float(total / (len(queries) * num))
