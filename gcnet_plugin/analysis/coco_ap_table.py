"""COCO's AP columns of a test run as a fixed-width text table."""
from typing import Dict, Sequence

TYPES = ('bbox', 'segm')
# (column header, metric suffix after "coco/<type>_")
COLUMNS = (('mAP', 'mAP'), ('AP50', 'mAP_50'), ('AP75', 'mAP_75'),
           ('APs', 'mAP_s'), ('APm', 'mAP_m'), ('APl', 'mAP_l'))


def format_ap_table(metrics: Dict[str, float],
                    types: Sequence[str] = TYPES) -> str:
    """A row per metric type found in ``metrics``, COCO's AP columns.

    Args:
        metrics (dict): MMDetection's ``CocoMetric`` results, e.g.
            ``{"coco/bbox_mAP": 0.37, "coco/bbox_mAP_50": 0.59, ...}``
            (in ``[0, 1]``, printed with 3 decimals; missing: ``nan``).
        types (Sequence[str]): Row order. Default: ``('bbox', 'segm')``.
    """
    header = 'type  ' + ''.join(f'{name:>7}' for name, _ in COLUMNS)
    lines = [header, '-' * len(header)]
    for t in types:
        if f'coco/{t}_mAP' not in metrics:
            continue
        cells = ''.join(f'{metrics.get(f"coco/{t}_{key}", float("nan")):7.3f}'
                        for _, key in COLUMNS)
        lines.append(f'{t:<6}{cells}')
    return '\n'.join(lines)
