"""configs/mmdet_checkpoints.yml matches MMDetection's own metafile."""
import os.path as osp
import re

import mmdet
import yaml

METAFILE = osp.join(
    osp.dirname(mmdet.__file__), '.mim', 'configs', 'gcnet', 'metafile.yml')


def _published() -> dict:
    with open(METAFILE) as f:
        models = yaml.safe_load(f)['Models']
    published = {}
    for model in models:
        metrics = {}
        for result in model['Results']:
            metrics.update(result['Metrics'])
        published[osp.basename(model['Config'])] = dict(
            url=model['Weights'],
            bbox_mAP=metrics['box AP'],
            segm_mAP=metrics['mask AP'])
    return published


def test_list_matches_mmdetection_3_3(repo_root):
    assert mmdet.__version__ == '3.3.0'
    with open(repo_root / 'configs' / 'mmdet_checkpoints.yml') as f:
        entries = yaml.safe_load(f)
    published = _published()
    # Every SyncBN model MMDetection publishes (ours are all SyncBN), once.
    syncbn = sorted(name for name in published if '-syncbn' in name)
    assert sorted(e['mmdet_config'] for e in entries) == syncbn
    assert len({e['config'] for e in entries}) == len(entries) == 15
    for entry in entries:
        assert (repo_root / entry['config']).is_file(), entry['config']
        ref = published[entry['mmdet_config']]
        assert entry['url'] == ref['url']
        assert entry['bbox_mAP'] == ref['bbox_mAP']
        assert entry['segm_mAP'] == ref['segm_mAP']
        assert entry['url'].startswith('https://download.openmmlab.com/')
        # Same model name, up to MMDetection's order of the block tokens.
        ours = re.sub(r'-r(\d+)-gcb-', r'-gcb-r\1-', entry['mmdet_config'])
        if entry['config'] == 'configs/gc_r50_r16.py':  # the headline
            assert ours == 'mask-rcnn_r50-syncbn-gcb-r16-c3-c5_fpn_1x_coco.py'
        else:
            assert osp.basename(entry['config']) == ours
