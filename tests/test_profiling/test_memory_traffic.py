"""Memory traffic: the counter itself, then the blocks' map passes."""
import pytest
import torch
from mmcv.cnn import ContextBlock as MMCVContextBlock

from gcnet_plugin.models.layers import SE, ContextBlock, SimplifiedNonLocal
from gcnet_plugin.profiling import (TrafficCounter, block_traffic,
                                    distinct_bytes)

# c4 of Mask R-CNN at 800x1333, batch 2; meta tensors, so no compute.
C4 = (2, 1024, 50, 84)
MAP_BYTES = distinct_bytes(torch.empty(C4, device='meta'))


def test_counts_reads_writes_and_skips_views():
    x = torch.randn(4, 8)
    y = torch.randn(4, 8)
    with TrafficCounter() as traffic:
        z = x.view(8, 4).t().reshape(4, 8)  # views only: no traffic
        z = z + y
    assert [op.name for op in traffic.ops] == ['add']
    assert traffic.read == 2 * 4 * 8 * 4
    assert traffic.written == 4 * 8 * 4
    assert traffic.total == 3 * 128


def test_a_transposed_copy_costs_a_read_and_a_write():
    x = torch.randn(2, 16, 32)
    with TrafficCounter() as traffic:
        x.transpose(1, 2).contiguous()
    assert traffic.total == 2 * x.numel() * 4


def test_broadcast_input_counts_its_distinct_elements():
    x = torch.randn(1, 16, 1).expand(8, 16, 32)
    assert distinct_bytes(x) == 16 * 4
    assert distinct_bytes(torch.randn(8, 16)) == 8 * 16 * 4


def test_backward_ops_are_counted():
    x = torch.randn(64, requires_grad=True)
    with TrafficCounter() as traffic:
        (x * x).sum().backward()
    names = [op.name for op in traffic.ops]
    assert names.count('mul') >= 2  # forward x * x and its backward


@pytest.mark.parametrize('channels_last', [False, True])
def test_gc_block_reads_and_writes_the_map_nine_times(channels_last):
    """Forward: W_k x, the pooling and the add read x once each, the add
    writes once; backward: the add's grad sum, dL/dalpha and dL/dW_k read
    x or g once each, one fused GEMM reads g and writes dL/dx: 9 passes,
    no copy, transpose or separate gradient sum of the map."""
    traffic = block_traffic(
        ContextBlock(C4[1]), C4, channels_last=channels_last)
    large = traffic.large_ops(MAP_BYTES // 2)
    assert {op.name for op in large} <= {'bmm', 'baddbmm', 'add', 'sum'}
    assert sum(op.read for op in large) == pytest.approx(
        7 * MAP_BYTES, rel=0.01)
    assert sum(op.written for op in large) == pytest.approx(
        2 * MAP_BYTES, rel=0.01)
    assert traffic.total / MAP_BYTES < 9.1


@pytest.mark.parametrize('channels_last', [False, True])
def test_gc_block_moves_under_two_thirds_of_mmcvs_bytes(channels_last):
    ours = block_traffic(ContextBlock(C4[1]), C4, channels_last=channels_last)
    mmcv = block_traffic(
        MMCVContextBlock(C4[1], ratio=1 / 16), C4, channels_last=channels_last)
    assert ours.total < 0.65 * mmcv.total


def test_se_block_reads_and_writes_the_map_nine_times():
    """mean, x * s (read, write); backward g * s (read, write), the
    per-channel dot of g and x (two reads) and g + dL/dmean / P (read,
    write): no product map, no separate gradient sum."""
    traffic = block_traffic(SE(C4[1]), C4)
    assert traffic.total / MAP_BYTES < 9.1
    assert 'sum' not in {op.name for op in traffic.large_ops(MAP_BYTES // 2)}


@pytest.mark.parametrize('pooling', ['att', 'avg'])
@pytest.mark.parametrize('fusion', [('channel_add', ), ('channel_mul', ),
                                    ('channel_add', 'channel_mul')])
@pytest.mark.parametrize('channels_last', [False, True])
def test_every_variant_moves_fewer_bytes_than_mmcv(pooling, fusion,
                                                   channels_last):
    ours = block_traffic(
        ContextBlock(C4[1], 1 / 16, pooling, fusion),
        C4,
        channels_last=channels_last)
    mmcv = block_traffic(
        MMCVContextBlock(C4[1], 1 / 16, pooling, fusion),
        C4,
        channels_last=channels_last)
    # at least one map pass fewer
    assert ours.total <= mmcv.total - MAP_BYTES


def test_snl_block_has_the_gc_pooling_traffic():
    snl = block_traffic(SimplifiedNonLocal(C4[1]), C4)
    large = snl.large_ops(MAP_BYTES // 2)
    assert [op.name for op in large
            if op.written >= MAP_BYTES // 2] == ['add', 'baddbmm']


def test_block_traffic_leaves_the_block_on_its_device():
    block = SE(64)
    block_traffic(block, (2, 64, 8, 8))
    assert all(p.device.type == 'cpu' for p in block.parameters())


@pytest.mark.parametrize(
    'mode', ['gaussian', 'embedded_gaussian', 'dot_product', 'concat'])
def test_non_local_runs_on_meta_tensors(mode):
    """Autocast queries must not fail on devices without autocast."""
    from gcnet_plugin.models.layers import NonLocal
    shape = (2, 64, 6, 10)
    traffic = block_traffic(NonLocal(64, mode=mode), shape)
    # P x P attention (60 x 60) at most a few times, never [N, 2C', P, P]
    assert traffic.total < 200 * distinct_bytes(
        torch.empty(shape, device='meta'))


def test_input_without_grad_skips_the_input_gradient():
    shape = (2, 64, 16, 16)
    with_grad = block_traffic(ContextBlock(64), shape)
    without = block_traffic(ContextBlock(64), shape, input_grad=False)
    names = [op.name for op in without.ops]
    assert 'baddbmm' not in names  # dL/dx is never formed
    assert without.total < with_grad.total - distinct_bytes(torch.empty(shape))


def test_frozen_block_skips_the_weight_gradient():
    """A frozen W_k: dL/dW_k's read of the map is not made."""
    shape = (2, 64, 32, 32)
    map_bytes = distinct_bytes(torch.empty(shape))
    block = ContextBlock(64)
    full = block_traffic(block, shape)
    block.conv_mask.requires_grad_(False)
    frozen = block_traffic(block, shape)
    assert full.total - frozen.total >= map_bytes
    half = map_bytes // 2
    assert len(frozen.large_ops(half)) == len(full.large_ops(half)) - 1
