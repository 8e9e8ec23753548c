_base_ = './cascade-mask-rcnn_x101-32x4d-syncbn-gcb-r4-c3-c5_fpn_1x_coco.py'

# Table 3(b): the same model on COCO test-dev2017. There are no public
# annotations: `tools/test.py` only writes the result files (results.bbox.json,
# results.segm.json under work_dirs/<this config>/) to zip and upload to the
# COCO evaluation server. Needs data/coco/test2017/ and
# data/coco/annotations/image_info_test-dev2017.json.
test_dataloader = dict(
    dataset=dict(
        ann_file='annotations/image_info_test-dev2017.json',
        data_prefix=dict(img='test2017/')))
test_evaluator = dict(
    format_only=True,
    ann_file='data/coco/annotations/image_info_test-dev2017.json',
    outfile_prefix='./work_dirs/{{fileBasenameNoExtension}}/results')
