"""Measuring the blocks: memory traffic (the same on every machine) and
the side-by-side timing the benchmark tools share."""
from .memory_traffic import (OpTraffic, TrafficCounter, block_traffic,
                             distinct_bytes)
from .timing import device_label, interleaved_times, sync

__all__ = [
    'OpTraffic', 'TrafficCounter', 'block_traffic', 'distinct_bytes',
    'device_label', 'interleaved_times', 'sync'
]
