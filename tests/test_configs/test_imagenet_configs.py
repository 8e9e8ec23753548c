"""configs/imagenet/: the paper's two-stage schedule (section 5.2), the
placement each name promises, Table 4's #params for every row, and stage
2 loading the stage-1 checkpoint through the Runner (reduced-width models):
only the inserted blocks' keys may be missing, and the blocks start as the
identity (add fusion) or as x * 0.5 (scale fusion)."""
import json
import time
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS

import gcnet_plugin  # noqa: F401
from gcnet_plugin.compat import CheckpointMismatchError
from gcnet_plugin.compat.checkpoint_fit import inserted_block_prefixes

STAGE1 = 'configs/imagenet/resnet50_8xb64-120e_in1k.py'
STAGE2 = 'configs/imagenet/resnet50_8xb64-ft40e_in1k.py'
_C4B4 = dict(
    stages=(False, False, True, False),
    position='after_add',
    block_indices=(-2, ))
_C3_C5 = dict(stages=(False, True, True, True), position='after_conv3')
# Stage-2 config -> the plugins its name promises (None: no blocks).
PLUGINS = {
    STAGE2:
    None,
    'configs/imagenet/resnet50-nl-c4b4-afteradd_8xb64-ft40e_in1k.py':
    dict(cfg=dict(type='NonLocal', mode='embedded_gaussian'), **_C4B4),
    'configs/imagenet/resnet50-snl-c4b4-afteradd_8xb64-ft40e_in1k.py':
    dict(cfg=dict(type='SimplifiedNonLocal'), **_C4B4),
    'configs/imagenet/resnet50-gcb-r16-c4b4-afteradd_8xb64-ft40e_in1k.py':
    dict(cfg=dict(type='ContextBlock', ratio=1. / 16), **_C4B4),
    'configs/imagenet/resnet50-gcb-r16-c3-c5_8xb64-ft40e_in1k.py':
    dict(cfg=dict(type='ContextBlock', ratio=1. / 16), **_C3_C5),
    'configs/imagenet/resnet50-se-r16-c3-c5_8xb64-ft40e_in1k.py':
    dict(cfg=dict(type='SE', ratio=1. / 16), **_C3_C5),
    'configs/imagenet/resnet50-gcb-r16-c3-c5-avg-add_8xb64-ft40e_in1k.py':
    dict(
        cfg=dict(type='ContextBlock', ratio=1. / 16, pooling_type='avg'),
        **_C3_C5),
    'configs/imagenet/resnet50-gcb-r16-c3-c5-att-mul_8xb64-ft40e_in1k.py':
    dict(
        cfg=dict(
            type='ContextBlock', ratio=1. / 16,
            fusion_types=('channel_mul', )),
        **_C3_C5),
}


def test_every_config_is_stage_1_or_a_table_4_stage_2(repo_root):
    configs = {
        str(p.relative_to(repo_root))
        for p in (repo_root / 'configs/imagenet').glob('*.py')
    }
    assert configs == {STAGE1, *PLUGINS}


def test_stage_1_is_the_papers_schedule(load_config):
    cfg = load_config(STAGE1)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports.imports == ['gcnet_plugin']
    assert cfg.model.type == 'ImageClassifier'
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.depth, backbone.style) == \
        ('PluginResNet', 50, 'caffe')
    assert 'plugins' not in backbone
    assert cfg.model.head.num_classes == 1000
    # 8 GPUs x 64 images, lr scaled from batch 512
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.auto_scale_lr.base_batch_size == 512
    assert cfg.train_cfg.max_epochs == 120
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 5)
    assert warmup.convert_to_iter_based
    assert (cosine.type, cosine.begin, cosine.end, cosine.T_max) == \
        ('CosineAnnealingLR', 5, 120, 115)
    assert cfg.model.head.loss == dict(
        type='CrossEntropyLoss', loss_weight=1.0)  # no label smoothing


def test_every_imagenet_config_trains_bn(load_config):
    """MMDetection's ResNet (PluginResNet's parent) keeps BN in eval mode
    by default; trained that way from scratch, a classifier stays at
    chance. Every ImageNet config's backbone must put BN in train mode."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    from torch import nn
    for path in [STAGE1, *PLUGINS]:
        assert load_config(path).model.backbone.norm_eval is False, path
    cfg = load_config(STAGE1).model.backbone
    cfg.update(depth=18, base_channels=8)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        backbone = MODELS.build(cfg)
    backbone.train()  # mmdet's ResNet.train returns None
    bns = [m for m in backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(m.training for m in bns)


@pytest.mark.parametrize('path', list(PLUGINS), ids=lambda p: Path(p).stem)
def test_stage_2_fine_tunes_the_stage_1_model(path, load_config):
    cfg, stage1 = load_config(path), load_config(STAGE1)
    assert cfg.load_from == (f'work_dirs/{Path(STAGE1).stem}/'
                             f'epoch_{stage1.train_cfg.max_epochs}.pth')
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_cfg.max_epochs == 40
    assert [dict(s) for s in cfg.param_scheduler] == [
        dict(
            type='CosineAnnealingLR', T_max=40, by_epoch=True, begin=0, end=40)
    ]
    assert dict(type='CheckpointFitHook', allow_missing_blocks=True) in \
        cfg.custom_hooks
    # all else is stage 1's, the backbone gains only the plugins
    plugins = cfg.model.backbone.pop('plugins', None)
    assert cfg.model == stage1.model
    assert plugins == (None if PLUGINS[path] is None else [PLUGINS[path]])
    for key in ('train_dataloader', 'val_dataloader', 'auto_scale_lr'):
        assert cfg[key] == stage1[key], key


def _params_M(cfg) -> float:
    init_default_scope(cfg.get('default_scope'))
    with torch.device('meta'):  # shapes only: no memory, no init
        model = MODELS.build(cfg.model)
    return sum(p.numel() for p in model.parameters()) / 1e6


def test_params_match_table_4(paper_index, load_config, repo_root):
    """#params within 0.02 M of Table 4 for every row, as shipped in
    docs/complexity_224x224.json (the models are built on the meta
    device: about 0.1 s each on a 2-core CPU)."""
    rows = [e for e in paper_index if str(e['table']).startswith('4')]
    assert len(rows) == 10
    start = time.perf_counter()
    measured = {path: _params_M(load_config(path)) for path in PLUGINS}
    assert time.perf_counter() - start < 30
    shipped = json.loads(
        (repo_root / 'docs/complexity_224x224.json').read_text())
    for e in rows:
        got, paper = measured[e['config']], e['paper']['params_M']
        assert abs(got - paper) <= 0.02, (e['row'], got, paper)
        assert shipped[e['config']]['params_M'] == round(got, 3)
    assert round(measured[STAGE2], 3) == 25.557


SMALL = {
    'model.backbone.base_channels': 8,
    'model.backbone.stem_channels': 8,
    'model.head.in_channels': 256,
    'model.head.num_classes': 10,
}
# rows whose blocks fuse by channel scaling: sigmoid(0) * x at the start
SCALE_FUSION = ('-se-', '-att-mul_')


def small(cfg, work_dir: Path):
    cfg.merge_from_dict(SMALL)
    cfg.work_dir = str(work_dir)
    return cfg


@pytest.fixture(scope='module')
def stage1_checkpoint(tmp_path_factory, load_config):
    """A trained-looking stage-1 model (Kaiming convs, random BN affine
    and statistics), saved as mmengine saves it."""
    cfg = small(load_config(STAGE1), tmp_path_factory.mktemp('stage1'))
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    torch.manual_seed(0)
    model.init_weights()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.)
                m.bias.uniform_(-0.1, 0.1)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = Path(cfg.work_dir) / 'epoch_120.pth'
    torch.save(dict(meta=dict(epoch=120), state_dict=model.state_dict()), path)
    return str(path), model.eval()


def stage2_runner(path: str, load_config, tmp_path: Path) -> Runner:
    """The stage-2 Runner with its weights initialised, as ``train()``
    does before it loads ``load_from``."""
    runner = Runner.from_cfg(small(load_config(path), tmp_path))
    runner.model.init_weights()
    return runner


@pytest.mark.parametrize('path', list(PLUGINS), ids=lambda p: Path(p).stem)
def test_stage_2_loads_stage_1_and_starts_from_it(path, load_config, tmp_path,
                                                  stage1_checkpoint):
    ckpt, stage1 = stage1_checkpoint
    runner = stage2_runner(path, load_config, tmp_path)
    runner.load_checkpoint(ckpt)  # runs the config's CheckpointFitHook
    model = runner.model.eval()
    blocks = inserted_block_prefixes(model)
    plugin = PLUGINS[path]
    assert len(blocks) == (0 if plugin is None else
                           1 if 'block_indices' in plugin else 13)
    stage1_keys = set(stage1.state_dict())
    for key in model.state_dict():
        inserted = any(key.startswith(b + '.') for b in blocks)
        assert (key not in stage1_keys) == inserted, key
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for name in blocks:
            block = model.get_submodule(name)
            c = block.in_channels
            feat = torch.randn(2, c, 4, 4)
            scale = 0.5 if any(s in path for s in SCALE_FUSION) else 1.
            torch.testing.assert_close(block(feat), feat * scale)
        if not any(s in path for s in SCALE_FUSION):
            torch.testing.assert_close(
                model(x, mode='tensor'), stage1(x, mode='tensor'))


@pytest.mark.parametrize('change,named', [
    ('extra', 'head.fc2.weight'),
    ('missing', 'backbone.layer1.0.conv1.weight'),
    ('shape', 'head.fc.weight'),
])
def test_any_other_key_stops_stage_2_naming_it(change, named, load_config,
                                               tmp_path, stage1_checkpoint):
    ckpt, _ = stage1_checkpoint
    state = torch.load(ckpt)['state_dict']
    if change == 'extra':
        state[named] = torch.zeros(3)
    elif change == 'missing':
        del state[named]
    else:
        state[named] = torch.zeros(11, 256)
    bad = tmp_path / 'bad.pth'
    torch.save(dict(state_dict=state), bad)
    runner = stage2_runner(
        'configs/imagenet/resnet50-gcb-r16-c3-c5_8xb64-ft40e_in1k.py',
        load_config, tmp_path)
    with pytest.raises(CheckpointMismatchError) as info:
        runner.load_checkpoint(str(bad))
    message = str(info.value)
    assert named in message
    assert 'context_block' not in message  # the allowed keys are not named
    assert 'Only the keys of the 13 blocks this config inserts' in message
