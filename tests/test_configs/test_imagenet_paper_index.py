"""configs/paper_index.yml: Table 4's rows (ImageNet) as the paper
prints them."""
import pytest

TABLE_4 = {
    '4a': ['baseline', '+1NL', '+1SNL', '+1GC', '+all GC'],
    '4b': ['baseline', 'avg+scale (SENet)', 'avg+add', 'att+scale', 'att+add']
}


@pytest.fixture
def rows(paper_index):
    return [e for e in paper_index if str(e['table']) in TABLE_4]


def test_table_4_rows_in_paper_order(rows, repo_root):
    for table, names in TABLE_4.items():
        assert [e['row'] for e in rows if e['table'] == table] == names
    for e in rows:
        assert set(e) == {'table', 'row', 'config', 'paper'}, e
        assert e['config'].startswith('configs/imagenet/')
        assert (repo_root / e['config']).is_file(), e['config']
        assert set(e['paper']) == {'top1', 'top5', 'params_M', 'flops_G'}
        assert 76 < e['paper']['top1'] < 78 and 93 < e['paper']['top5'] < 94
        assert 3.8 < e['paper']['flops_G'] < 4.2, e


def test_rows_sharing_a_config_share_the_paper_numbers(rows):
    """Baseline (4a = 4b) and "+all GC" = "att+add" (a transcription
    check); every other row has its own config."""
    by_config = {}
    for e in rows:
        by_config.setdefault(e['config'], []).append(e)
    shared = [[e['row'] for e in es] for es in by_config.values()
              if len(es) > 1]
    assert sorted(shared) == [['+all GC', 'att+add'], ['baseline', 'baseline']]
    for es in by_config.values():
        assert all(e['paper'] == es[0]['paper'] for e in es)
