"""Per-image Table 1 statistics and their accumulation."""
import csv
import json
import math

import pytest
import torch

from gcnet_plugin.analysis import avg_cosine_distance, avg_jsd
from gcnet_plugin.analysis.attention_statistics import (Table1,
                                                        image_statistics,
                                                        jsd_applies)


def _crafted():
    """[C=2, H=2, W=3] map whose valid 2x2 part is uniform: positions in
    column 2 (padding) differ."""
    x = torch.zeros(2, 2, 3)
    x[0, :, :2] = 1.0  # valid: all (1, 0)
    x[1, :, 2] = -1.0  # padding: (0, -1)
    z = x + torch.tensor([3.0, 4.0]).view(2, 1, 1)  # z - x constant
    att = torch.zeros(6, 6)
    att[:, 0] = 0.5
    att[:, 1] = 0.5  # every query row the same ...
    att[2] = torch.eye(6)[2]  # ... except the padding queries 2 and 5
    att[5] = torch.eye(6)[5]
    return x, z, att


def test_image_statistics_valid_region():
    x, z, att = _crafted()
    stats = image_statistics(x, z, att, valid=(2, 2), with_jsd=True)
    assert stats == pytest.approx(
        dict(input=0.0, output=0.0, att=0.0, jsd_att=0.0), abs=1e-12)


def test_image_statistics_whole_map():
    x, z, att = _crafted()
    stats = image_statistics(x, z, att, with_jsd=True)
    vectors = x.reshape(2, -1).t()  # [6, 2] in row-major position order
    assert stats['input'] == pytest.approx(avg_cosine_distance(vectors))
    assert stats['input'] > 0.1
    assert stats['output'] == pytest.approx(0, abs=1e-12)
    assert stats['att'] == pytest.approx(avg_cosine_distance(att))
    assert stats['jsd_att'] == pytest.approx(avg_jsd(att))
    assert stats['jsd_att'] > 0.1


def test_image_statistics_row_selection():
    # query rows of valid cells (0, 0), (0, 1), (1, 0), (1, 1) in a 2x3
    # map are rows 0, 1, 3, 4 of the attention
    x, z, _ = _crafted()
    att = torch.eye(6)
    stats = image_statistics(x, z, att, valid=(2, 2), with_jsd=True)
    # 4 one-hot rows: 12 of 16 ordered pairs differ (log 2 each)
    assert stats['jsd_att'] == pytest.approx(12 / 16 * math.log(2))
    assert stats['att'] == pytest.approx(12 / 16 * 0.5)
    no_att = image_statistics(x, z, None)
    assert set(no_att) == {'input', 'output'}


def test_table1_means_and_outputs(tmp_path):
    table = Table1('nl-model')
    table.add('layer3.4.nl', 'embedded_gaussian',
              dict(input=0.4, output=0.02, att=0.01, jsd_att=0.02), 100)
    table.add('layer3.4.nl', 'embedded_gaussian',
              dict(input=0.2, output=0.04, att=0.03, jsd_att=0.04), 50)
    table.add('layer4.gc', 'context (att)',
              dict(input=0.3, output=float('nan')), 10)
    rows = table.rows()
    assert rows[0]['input'] == pytest.approx(0.3)
    assert rows[0]['jsd_att'] == pytest.approx(0.03)
    assert rows[0]['images'] == 2 and rows[0]['positions'] == 75
    assert rows[1]['output'] is None and rows[1]['att'] is None

    text = table.format()
    lines = text.splitlines()
    assert 'JSD-att' in lines[2]
    assert lines[3].split()[-4:] == ['0.300', '0.030', '0.020', '0.030']
    assert 'paper (COCO)' in lines[4] and '0.402' in lines[4]
    assert lines[5].split()[-4:] == ['0.300', '-', '-', '-']

    table.write_csv(tmp_path / 't.csv')
    with open(tmp_path / 't.csv') as f:
        read = list(csv.DictReader(f))
    assert float(read[0]['att']) == pytest.approx(0.02)
    assert read[1]['att'] == ''
    table.write_json(tmp_path / 't.json', extra=dict(num_images=2))
    data = json.loads((tmp_path / 't.json').read_text())
    assert data['num_images'] == 2 and data['rows'][1]['att'] is None


def test_jsd_applies():
    assert jsd_applies('gaussian') and jsd_applies('embedded_gaussian')
    assert not jsd_applies('dot_product') and not jsd_applies('concat')
