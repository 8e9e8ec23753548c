"""The logic behind the analysis tools: Table 1 statistics and attention
maps, params/FLOPs (:mod:`.complexity`), the work_dir reader
(:mod:`.work_dir_results`) and the results table
(:mod:`.paper_comparison`).

Modules that build detectors or draw import mmdet/matplotlib and are
imported by name.
"""
from .pairwise_distance import avg_cosine_distance, avg_jsd

__all__ = ['avg_cosine_distance', 'avg_jsd']
