"""The quickstart's loss-curve and AP-table tools on a work_dir."""
import json

import cv2


def test_loss_curve_and_ap_table(tmp_path, run_tool):
    work_dir = tmp_path / 'quickstart'
    train = work_dir / '20240101_000000'
    (train / 'vis_data').mkdir(parents=True)
    rows = [
        dict(lr=1e-3, loss=2.0 / i, loss_cls=1.0 / i, step=10 * i)
        for i in range(1, 21)
    ]
    rows.insert(5, {'coco/bbox_mAP': 0.1, 'step': 1})  # a validation
    (train / 'vis_data' / 'scalars.json').write_text(''.join(
        json.dumps(r) + '\n' for r in rows))
    test = work_dir / '20240102_000000'
    test.mkdir()
    (test / '20240102_000000.json').write_text(
        json.dumps({
            'coco/bbox_mAP': 0.612,
            'coco/segm_mAP': 0.55
        }))

    out = tmp_path / 'loss.png'
    printed = run_tool('analysis_tools/plot_loss_curve.py', work_dir, '--out',
                       out)
    assert '(20 points from' in printed
    assert 'last loss 0.1000 at iteration 200' in printed
    assert cv2.imread(str(out)).std() > 10

    printed = run_tool('analysis_tools/coco_ap_table.py', work_dir)
    lines = printed.splitlines()
    assert lines[2].split()[:2] == ['bbox', '0.612']
    assert lines[3].split()[:2] == ['segm', '0.550']
    assert lines[-1] == f'(from {test / "20240102_000000.json"})'
