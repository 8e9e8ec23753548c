"""Run a detector's test images through its backbone and fill Table 1.

For each image of the config's test dataloader (one image per batch, so
that no image is padded to another's size) and each recorded block:
:func:`~gcnet_plugin.analysis.attention_statistics.image_statistics` over
the feature cells that see the image, added to a
:class:`~gcnet_plugin.analysis.attention_statistics.Table1`. The exact JSD
costs ``Np ** 3 / 2`` per image; ``max_queries=K`` estimates it from
``K`` random query rows (``K * Np ** 2``), see docs/benchmarks.md.
``tools/analysis_tools/attention_stats.py`` runs it.
"""
import copy
from typing import Callable, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.utils import ProgressBar

from .attention_recorder import AttentionRecorder, block_kind
from .attention_statistics import Table1, image_statistics, jsd_applies
from .feature_geometry import valid_feature_size

# exact JSD on the CPU above this many positions: say that it is slow
SLOW_CPU_POSITIONS = 1500


def table1_loader(cfg: Config) -> torch.utils.data.DataLoader:
    """The config's test dataloader, one image per batch, no workers.

    Raises:
        DataCheckError: The data root, annotation file or image folder is
            missing (the error names it).
    """
    from gcnet_plugin.data.checks import check_data_cfg
    check_data_cfg(Config(dict(test_dataloader=cfg.test_dataloader)))
    loader_cfg = copy.deepcopy(cfg.test_dataloader)
    loader_cfg.update(batch_size=1, num_workers=0, persistent_workers=False)
    return Runner.build_dataloader(loader_cfg)


def block_label(block: torch.nn.Module) -> str:
    """The NL mode, or ``context (<pooling>)``: Table 1's "kind"."""
    if block_kind(block) == 'nonlocal':
        return block.mode
    return f'context ({block.pooling_type})'


def _jsd_progress(done: int, total: int) -> None:
    # inner progress for the long exact JSD of one image
    print(
        f'\r  JSD blocks {done}/{total}',
        end='\n' if done == total else '',
        flush=True)


@torch.no_grad()
def collect_table1(model: torch.nn.Module,
                   loader: torch.utils.data.DataLoader,
                   table: Table1,
                   kinds: Sequence[str] = ('nonlocal', ),
                   blocks: Optional[Sequence[str]] = None,
                   num_images: Optional[int] = None,
                   max_queries: Optional[int] = None,
                   chunk_size: int = 32,
                   seed: int = 0,
                   include_padding: bool = False,
                   log: Callable[[str], None] = print) -> int:
    """Add every image's statistics of the chosen blocks to ``table``.

    Args:
        model (nn.Module): Detector in eval mode.
        loader (DataLoader): E.g. :func:`table1_loader`.
        table (Table1): Receives one entry per image and block.
        kinds (Sequence[str]): Block kinds (``'nonlocal'``,
            ``'context'``; context blocks get input/output only).
        blocks (Sequence[str], optional): Module names; default all of
            ``kinds``.
        num_images (int, optional): First N images; default all.
        max_queries (int, optional): Estimate JSD from this many random
            query rows per image; default exact.
        chunk_size (int): Rows per JSD block. Default: 32.
        seed (int): For the query sampling. Default: 0.
        include_padding (bool): Also use the cells that only see padding.
            Default: False.
        log (Callable): Notes for the user. Default: ``print``.

    Returns:
        int: The number of images used.

    Raises:
        ValueError: The model has no block of ``kinds``, or a non-local
            block is not 2-D or sub-samples its keys.
    """
    recorder = AttentionRecorder(model, names=blocks, kinds=kinds)
    if not recorder.blocks:
        raise ValueError(f'no {"/".join(kinds)} block in the model; '
                         f'try kinds=("nonlocal", "context")')
    for name, block in recorder.blocks.items():
        # Table 1's measures compare each query's attention map with the
        # others over one 2-D grid of positions
        if getattr(block, 'dimension', 2) != 2 or getattr(
                block, 'sub_sample', False):
            raise ValueError(
                f'{name}: Table 1 statistics need a 2-D block without '
                f'sub_sample (its attention over all positions), got '
                f'dimension={block.dimension}, sub_sample={block.sub_sample}')
    total = len(loader.dataset)
    if num_images is not None:
        total = min(total, num_images)
    generator = torch.Generator().manual_seed(seed)
    bar = ProgressBar(total)
    seen = 0
    warned = False
    for batch in loader:
        if seen >= total:
            break
        data = model.data_preprocessor(batch, False)
        with recorder:
            model.extract_feat(data['inputs'])
        for n, sample in enumerate(data['data_samples']):
            meta = sample.metainfo
            for name, rec in recorder.records.items():
                block = recorder.blocks[name]
                feat_size = tuple(rec.inputs.shape[-2:])
                valid = feat_size if include_padding else valid_feature_size(
                    feat_size, meta['batch_input_shape'], meta['img_shape'])
                is_nl = block_kind(block) == 'nonlocal'
                with_jsd = is_nl and jsd_applies(block.mode)
                num = valid[0] * valid[1]
                slow = (
                    with_jsd and max_queries is None
                    and num > SLOW_CPU_POSITIONS
                    and rec.inputs.device.type == 'cpu')
                if slow and not warned:
                    log(f'\nnote: exact JSD over {num} positions on the '
                        f'CPU takes a while; --max-queries K estimates it')
                    warned = True
                stats = image_statistics(
                    rec.inputs[n],
                    rec.outputs[n],
                    rec.attention[n] if is_nl else None,
                    valid=valid,
                    with_jsd=with_jsd,
                    chunk_size=chunk_size,
                    max_queries=max_queries,
                    generator=generator,
                    progress=_jsd_progress if slow else None)
                table.add(name, block_label(block), stats, num)
            seen += 1
            bar.update()
    print()
    return seen
