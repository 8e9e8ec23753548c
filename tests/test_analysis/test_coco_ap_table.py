"""COCO AP table: a row per metric type, missing columns as nan."""
from gcnet_plugin.analysis.coco_ap_table import format_ap_table


def test_rows_per_type_in_column_order():
    metrics = {
        'coco/bbox_mAP': 0.612,
        'coco/bbox_mAP_50': 0.9,
        'coco/segm_mAP': 0.55,
        'coco/segm_mAP_l': 0.7,
        'coco/bbox_mAP_copypaste': '0.612 0.900',
    }
    table = format_ap_table(metrics).splitlines()
    assert table[0].split() == [
        'type', 'mAP', 'AP50', 'AP75', 'APs', 'APm', 'APl'
    ]
    assert set(table[1]) == {'-'}
    assert table[2].split() == [
        'bbox', '0.612', '0.900', 'nan', 'nan', 'nan', 'nan'
    ]
    assert table[3].split() == [
        'segm', '0.550', 'nan', 'nan', 'nan', 'nan', '0.700'
    ]
    assert len(format_ap_table({'coco/segm_mAP': 0.5}).splitlines()) == 3
