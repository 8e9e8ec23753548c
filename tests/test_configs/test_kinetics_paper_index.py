"""configs/paper_index.yml: Table 5's rows (Kinetics) as the paper prints
them, one config each."""
ROWS = ['baseline', '+5 NL', '+5 SNL', '+5 GC', '+all GC']


def test_table_5_rows_in_paper_order(paper_index, repo_root):
    rows = [e for e in paper_index if str(e['table']) == '5']
    assert [e['row'] for e in rows] == ROWS
    for e in rows:
        assert set(e) == {'table', 'row', 'config', 'paper'}, e
        assert e['config'].startswith('configs/kinetics/')
        assert (repo_root / e['config']).is_file(), e['config']
        assert set(e['paper']) == {'top1', 'top5', 'params_M', 'flops_G'}
        assert 74 < e['paper']['top1'] < 77 and 91 < e['paper']['top5'] < 93
        assert 32 <= e['paper']['params_M'] < 43, e
        assert 39 < e['paper']['flops_G'] < 60, e
    configs = {
        str(p.relative_to(repo_root))
        for p in (repo_root / 'configs/kinetics').glob('*.py')
    }
    assert sorted(e['config'] for e in rows) == sorted(configs)
