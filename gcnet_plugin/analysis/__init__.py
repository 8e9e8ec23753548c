"""Tools for the paper's evidence: Table 1 statistics, attention maps and
the results-versus-paper report."""
from .pairwise_distance import avg_cosine_distance, avg_jsd

__all__ = ['avg_cosine_distance', 'avg_jsd']
