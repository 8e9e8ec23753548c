"""Measuring the blocks: memory traffic (the same on every machine), the
side-by-side timing and the memory measures the benchmark tools share.

The benchmarks themselves (:mod:`.block_benchmark`,
:mod:`.backbone_benchmark`, :mod:`.detector_step`,
:mod:`.detector_breakdown`) import mmcv's blocks or MMDetection's models
and are imported by name.
"""
from .autocast import amp_dtype, maybe_autocast
from .memory import peak_bytes, saved_bytes
from .memory_traffic import (OpTraffic, TrafficCounter, block_traffic,
                             distinct_bytes)
from .timing import (default_rounds, device_label, interleaved_times,
                     kernel_ms, sync)

__all__ = [
    'OpTraffic', 'TrafficCounter', 'amp_dtype', 'block_traffic',
    'default_rounds', 'device_label', 'distinct_bytes', 'interleaved_times',
    'kernel_ms', 'maybe_autocast', 'peak_bytes', 'saved_bytes', 'sync'
]
