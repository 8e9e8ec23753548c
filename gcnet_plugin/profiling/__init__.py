"""Measurements of the blocks that do not depend on the machine."""
from .memory_traffic import (OpTraffic, TrafficCounter, block_traffic,
                             distinct_bytes)

__all__ = ['OpTraffic', 'TrafficCounter', 'block_traffic', 'distinct_bytes']
