"""tools/analysis_tools/get_flops.py prints what docs/flops.md shows."""


def test_prints_flops_params_and_rois(run_tool):
    printed = run_tool('analysis_tools/get_flops.py', 'configs/gc_r50_r16.py',
                       '--shape', '96', '--cfg-options',
                       'model.test_cfg.rpn.max_per_img=4').splitlines()
    i = printed.index('Input shape: (3, 96, 96)')
    assert printed[i - 1] == printed[i + 6] == '=' * 30
    assert printed[i + 1].startswith('Flops: ')
    assert printed[i + 1].endswith(' GFLOPs (multiply-adds)')
    assert printed[i + 2] == 'Params: 46.92 M'
    assert printed[i + 3] == 'RoIs: box head [4], mask head [4]'
    assert printed[i + 4].startswith("By module (G): {'backbone': ")
    assert printed[i + 5].startswith('By operator (G): {')
