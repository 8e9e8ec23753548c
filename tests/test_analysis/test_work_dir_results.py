"""The work_dir reader against what MMEngine itself writes, then edge
cases (resumed trainings, renamed configs, broken files) on fake ones."""
import json
import os.path as osp

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from gcnet_plugin.analysis import work_dir_results as wdr
from gcnet_plugin.analysis.work_dir_results import find_runs, read_run


class _Model(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return {'loss': out.pow(2).mean()}
        return list(out)


class _Metric(BaseMetric):
    """COCO-like keys; bbox AP 0.1 at the first evaluation, 0.2 at the
    second, ...; a copypaste string as mmdet's CocoMetric writes."""
    default_prefix = 'coco'

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def process(self, data_batch, data_samples) -> None:
        self.results.append(len(data_samples))

    def compute_metrics(self, results) -> dict:
        self.calls += 1
        return {
            'bbox_mAP': 0.1 * self.calls,
            'segm_mAP': 0.05 * self.calls,
            'bbox_mAP_copypaste': f'{0.1 * self.calls:.3f} 0.500'
        }


def _loader() -> dict:
    data = [dict(inputs=torch.full((2, ), float(i))) for i in range(4)]
    return dict(
        dataset=data,
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=2,
        num_workers=0)


@pytest.fixture(scope='module')
def mmengine_run(tmp_path_factory):
    """Two epochs with a validation after each, then a test: what
    tools/train.py and tools/test.py leave, written by MMEngine."""
    work_dir = tmp_path_factory.mktemp('runs') / 'toy_1x_coco'
    runner = Runner(
        model=_Model(),
        work_dir=str(work_dir),
        train_dataloader=_loader(),
        val_dataloader=_loader(),
        test_dataloader=_loader(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
        val_cfg=dict(),
        test_cfg=dict(),
        val_evaluator=[_Metric()],
        test_evaluator=[_Metric()],
        default_hooks=dict(checkpoint=None),
        default_scope='mmengine')
    runner.train()
    runner.test()
    return work_dir


def test_reads_what_mmengine_writes(mmengine_run):
    (ts_dir, ) = wdr.launches(str(mmengine_run))
    stamp = osp.basename(ts_dir)
    # the test dump: one JSON object, not JSON lines
    dump = osp.join(ts_dir, f'{stamp}.json')
    assert wdr.find_test_metrics(str(mmengine_run)) == dump
    test = wdr.read_test_metrics(dump)
    assert test['coco/bbox_mAP'] == pytest.approx(0.1)
    assert test['coco/bbox_mAP_copypaste'] == '0.100 0.500'
    assert wdr.metrics_of(test) == {
        'coco/bbox_mAP': pytest.approx(0.1),
        'coco/segm_mAP': pytest.approx(0.05)
    }
    # scalars.json: JSON lines, a training line and a validation per epoch
    scalars = wdr.find_train_scalars(str(mmengine_run))
    assert scalars == osp.join(ts_dir, 'vis_data', 'scalars.json')
    rows = wdr.read_scalars(scalars)
    assert [r['step'] for r in wdr.train_points(rows)] == [2, 4]  # iterations
    vals = wdr.val_points(rows)
    assert [epoch for epoch, _ in vals] == [1, 2]
    assert vals[1][1]['coco/bbox_mAP'] == pytest.approx(0.2)

    run = read_run(str(mmengine_run))
    assert run.name == 'toy_1x_coco'  # the runner dumped <ts>.py, no name
    assert run.source == f'test {stamp}'
    assert run.metric('bbox_mAP') == pytest.approx(0.1)
    assert [epoch for epoch, _ in run.curve] == [1, 2]


def _write_lines(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))


def _val(epoch: int, box: float) -> dict:
    return {'coco/bbox_mAP': box, 'coco/segm_mAP': box / 2, 'step': epoch}


def test_resumed_training_merges_launches(tmp_path):
    run = tmp_path / 'base_1x_coco'
    (tmp_path / 'base_1x_coco').mkdir()
    (run / 'base_1x_coco.py').write_text('model = dict()\n')
    loss = {'loss': 1.0, 'lr': 0.02, 'step': 50}
    _write_lines(run / '20240101_000000/vis_data/scalars.json',
                 [loss, _val(1, 0.30), _val(2, 0.35)])
    _write_lines(run / '20240102_000000/vis_data/scalars.json',
                 [_val(2, 0.352), _val(3, 0.37)])
    res = read_run(str(run))
    assert res.source == 'val epoch 3' and res.metric('bbox_mAP') == 0.37
    # epoch 2 from the later launch
    assert [(e, m['coco/bbox_mAP']) for e, m in res.curve] == [(1, 0.30),
                                                               (2, 0.352),
                                                               (3, 0.37)]
    # the newest launch with losses is the first one
    assert wdr.find_train_scalars(str(run)).endswith(
        osp.join('20240101_000000', 'vis_data', 'scalars.json'))
    with pytest.raises(FileNotFoundError, match='tools/test.py'):
        wdr.find_test_metrics(str(run))


def test_run_name_follows_the_config_dump(tmp_path):
    run = tmp_path / 'custom' / 'my_dir'
    (run / '20240103_000000').mkdir(parents=True)
    (run / 'gc_1x_coco.py').write_text('model = dict()\n')
    (run / '20240103_000000' / '20240103_000000.json').write_text(
        json.dumps({
            'coco/bbox_mAP': 0.396,
            'time': 0.3
        }))
    (tmp_path / 'empty' / '20240104_000000').mkdir(parents=True)
    runs = find_runs(str(tmp_path))
    assert [(r.name, r.source)
            for r in runs] == [('gc_1x_coco', 'test 20240103_000000'),
                               ('empty', '')]
    assert runs[1].metrics == {} and runs[1].curve == []


def test_broken_files_are_named(tmp_path):
    lines = tmp_path / 'scalars.json'
    lines.write_text('{"loss": 1.0, "step": 1}\n{"loss": \n')
    with pytest.raises(ValueError, match='scalars.json:2: not JSON'):
        wdr.read_scalars(str(lines))
    dump = tmp_path / '20240101_000000.json'
    dump.write_text('{"coco/bbox_mAP": 0.1}\n{"coco/bbox_mAP": 0.2}\n')
    with pytest.raises(ValueError, match='not one JSON object'):
        wdr.read_test_metrics(str(dump))
    with pytest.raises(FileNotFoundError, match='work_dirs folder'):
        find_runs(str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='tools/train.py'):
        wdr.find_train_scalars(str(tmp_path / 'nowhere'))
