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


def test_prints_a_classifier_without_rois(run_tool):
    printed = run_tool('analysis_tools/get_flops.py',
                       'configs/imagenet/resnet50_8xb64-ft40e_in1k.py',
                       '--shape', '64', '--no-bn').splitlines()
    i = printed.index('Input shape: (3, 64, 64)')
    assert printed[i + 1].startswith('Flops: 0.')  # two decimals below 100
    assert printed[i + 2] == 'Params: 25.56 M'
    # convs scale with the positions: 3.856 G at 224 x (64 / 224)^2
    assert printed[i + 3] == ("By module (G): {'backbone': 0.315, "
                              "'neck': 0.0, 'head': 0.002}")
    assert "'batch_norm'" not in printed[i + 4]
    assert printed[i + 5] == '=' * 30
