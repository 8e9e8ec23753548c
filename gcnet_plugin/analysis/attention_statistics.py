"""Table 1 of GCNet: per-image statistics of a block and their average.

For one image and one block (section 3.2 of the paper):

* ``input``: average cosine distance between the block inputs ``x_i``;
* ``output``: the same for ``z_i - x_i`` (the output before fusion);
* ``att``: the same for the attention rows ``w_i`` (non-local only);
* ``jsd_att``: average Jensen-Shannon divergence between the attention
  rows (Gaussian and Embedded Gaussian only, where rows sum to 1).

Positions are the feature cells that overlap the image (padding cut off,
see :func:`~gcnet_plugin.analysis.feature_geometry.valid_feature_size`);
an attention row keeps all its keys, padding included, since that is the
distribution the block used. A table row is the mean of the per-image
values over the images.

Shape shorthand: ``C`` channels, ``(H, W)`` feature size, ``Np = H * W``,
``(h, w)`` valid size, ``Nv = h * w``.
"""
import json
import math
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .csv_rows import write_rows_csv
from .pairwise_distance import avg_cosine_distance, avg_jsd

MEASURES = ('input', 'output', 'att', 'jsd_att')
HEADERS = ('input', 'output', 'att', 'JSD-att')
JSD_MODES = ('gaussian', 'embedded_gaussian')

# Table 1 of the paper, COCO rows (Mask R-CNN, R50, 1 NL before the last
# block of c4), for reference next to measured values.
PAPER_TABLE1_COCO = {
    'gaussian': dict(input=0.397, output=0.062, att=0.177, jsd_att=0.065),
    'embedded_gaussian':
    dict(input=0.402, output=0.012, att=0.020, jsd_att=0.011),
    'dot_product': dict(input=0.405, output=0.020, att=0.015),
    'concatenation': dict(input=0.393, output=0.003, att=0.004),
}


def _positions(feat: Tensor, valid: Tuple[int, int]) -> Tensor:
    """``[C, H, W] -> [Nv, C]``, one row per valid position."""
    c = feat.shape[0]
    # [C, h, w] -> [C, h * w] -> [h * w, C]
    return feat[:, :valid[0], :valid[1]].reshape(c, -1).t()


def _valid_rows(attention: Tensor, feat_w: int, valid: Tuple[int,
                                                             int]) -> Tensor:
    """``[Np, Np] -> [Nv, Np]``: rows of the valid query positions."""
    ys = torch.arange(valid[0]).unsqueeze(1)  # [h, 1]
    xs = torch.arange(valid[1]).unsqueeze(0)  # [1, w]
    index = (ys * feat_w + xs).reshape(-1)  # [h * w]
    return attention[index.to(attention.device)]


def image_statistics(inputs: Tensor,
                     outputs: Tensor,
                     attention: Optional[Tensor],
                     valid: Optional[Tuple[int, int]] = None,
                     with_jsd: bool = False,
                     **jsd_kwargs) -> Dict[str, float]:
    """Statistics of one block on one image.

    Args:
        inputs (Tensor): Block input ``x``.
        outputs (Tensor): Block output ``z``.
        attention (Tensor, optional): Non-local attention, or None for
            blocks without query-specific attention.
        valid (tuple[int, int], optional): Valid feature size ``(h, w)``;
            default the whole map.
        with_jsd (bool): Also compute ``jsd_att``. Default: False.
        **jsd_kwargs: Passed to :func:`avg_jsd` (``chunk_size``,
            ``max_queries``, ``generator``, ``progress``).

    Returns:
        dict[str, float]: ``input``, ``output`` and, with attention,
        ``att`` (and ``jsd_att``).

    Shape:
        inputs, outputs: ``[C, H, W]``; attention: ``[Np, Np]``.
    """
    feat_h, feat_w = inputs.shape[-2:]
    valid = (feat_h, feat_w) if valid is None else tuple(valid)
    stats = {
        'input':
        avg_cosine_distance(_positions(inputs, valid)),
        'output':
        avg_cosine_distance(
            _positions(outputs.float() - inputs.float(), valid)),
    }
    if attention is not None:
        rows = _valid_rows(attention, feat_w, valid)  # [Nv, Np]
        stats['att'] = avg_cosine_distance(rows)
        if with_jsd:
            stats['jsd_att'] = avg_jsd(rows, **jsd_kwargs)
    return stats


class Table1:
    """Accumulates per-image statistics into one row per block.

    Args:
        model_name (str): Shown in the first column (e.g. the config name).
    """

    def __init__(self, model_name: str = '') -> None:
        self.model_name = model_name
        self._rows: 'OrderedDict[str, dict]' = OrderedDict()

    def add(self, block: str, kind: str, stats: Dict[str, float],
            num_positions: int) -> None:
        """Add one image's statistics of ``block`` (kind e.g. the NL mode)."""
        row = self._rows.setdefault(
            block, dict(kind=kind, sums={}, counts={}, positions=[]))
        row['positions'].append(num_positions)
        for key, value in stats.items():
            if math.isnan(value):
                continue
            row['sums'][key] = row['sums'].get(key, 0.0) + value
            row['counts'][key] = row['counts'].get(key, 0) + 1

    def rows(self) -> List[dict]:
        """One dict per block: model, block, kind, images, mean positions
        and the mean of each measure (None where not measured)."""
        out = []
        for block, row in self._rows.items():
            means = {
                key: (row['sums'][key] /
                      row['counts'][key] if row['counts'].get(key) else None)
                for key in MEASURES
            }
            out.append(
                dict(
                    model=self.model_name,
                    block=block,
                    kind=row['kind'],
                    images=len(row['positions']),
                    positions=sum(row['positions']) / len(row['positions']),
                    **means))
        return out

    def format(self, digits: int = 3, with_paper: bool = True) -> str:
        """Text table in the layout of Table 1."""
        cols = ['block', 'kind', 'images', 'Np'] + list(HEADERS)
        lines = []
        for row in self.rows():
            cells = [
                row['block'], row['kind'],
                str(row['images']), f'{row["positions"]:.0f}'
            ]
            cells += [_fmt(row[k], digits) for k in MEASURES]
            lines.append(cells)
            paper = PAPER_TABLE1_COCO.get(row['kind'])
            if with_paper and paper is not None:
                lines.append(['  paper (COCO)', row['kind'], '', ''] +
                             [_fmt(paper.get(k), digits) for k in MEASURES])
        widths = [
            max(len(c), *(len(line[i]) for line in lines)) if lines else len(c)
            for i, c in enumerate(cols)
        ]
        title = 'cosine distance: input / output / att; JSD-att in nats'
        if self.model_name:
            title = f'{self.model_name}\n{title}'
        out = [title, '  '.join(c.ljust(w) for c, w in zip(cols, widths))]
        out += [
            '  '.join(c.ljust(w) for c, w in zip(line, widths))
            for line in lines
        ]
        return '\n'.join(out)

    def write_csv(self, path: str) -> None:
        keys = ['model', 'block', 'kind', 'images', 'positions', *MEASURES]
        write_rows_csv(path, self.rows(), keys)

    def write_json(self, path: str, extra: Optional[dict] = None) -> None:
        data = dict(rows=self.rows(), measures=list(MEASURES))
        data.update(extra or {})
        with open(path, 'w') as f:
            json.dump(data, f, indent=2)


def _fmt(value: Optional[float], digits: int) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def jsd_applies(kind: str, modes: Sequence[str] = JSD_MODES) -> bool:
    """JSD is defined for the non-local modes whose rows sum to 1."""
    return kind in modes
