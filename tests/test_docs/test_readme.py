"""README.md as user documentation: every path it names exists, and its
configs tables agree with ``configs/paper_index.yml``, docs/flops.md and
the params/FLOPs shipped in docs/.

The configs tables (one per dataset: COCO, ImageNet, Kinetics, as
``paper_report.py`` writes them) have one line per entry of the paper
index, in order::

    | table | row | [file.py](configs/gcnet/file.py) | box AP | mask AP
      | params (M) | FLOPs (G) | reproduced box / mask AP |

(top-1 / top-5 accuracy with two decimals for ImageNet and Kinetics).
"""
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

MAX_LINES = 250
SECTIONS = [
    'Two commands', 'Layout', 'Training and testing',
    'The blocks and how to place them', 'Configs', 'Analysis tools',
    'Current-PyTorch fixes', 'Citation'
]
# A path inside the repository, as prose or commands write it.
REPO_PATH = re.compile(
    r'(?<![\w./-])((?:configs|docs|gcnet_plugin|tests|tools)/[\w./-]*)')
MD_LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
TABLE_LINK = re.compile(r'^\[([^\]]+)\]\(([^)]+)\)$')


def _readme(repo_root: Path) -> str:
    return (repo_root / 'README.md').read_text()


def _index(repo_root: Path) -> List[dict]:
    with open(repo_root / 'configs' / 'paper_index.yml') as f:
        return yaml.safe_load(f)


def _cells(line: str) -> List[str]:
    return [c.strip() for c in line.strip().strip('|').split('|')]


def _configs_table(text: str) -> List[List[str]]:
    """Rows of the README's tables whose header starts with
    ``| table | row | config |``, in order, headers and separators
    excluded (one table per dataset of the index)."""
    lines = text.splitlines()
    starts = [
        i for i, line in enumerate(lines)
        if line.startswith('| table | row | config |')
    ]
    assert starts, 'README: no configs table'
    rows = []
    for start in starts:
        for line in lines[start + 2:]:
            if not line.startswith('|'):
                break
            rows.append(_cells(line))
    return rows


def _flops_doc(repo_root: Path) -> Dict[str, Tuple[float, float]]:
    """``{config file name: (params M, FLOPs G)}`` measured, from the
    table of docs/flops.md (cells ``ours / paper``)."""
    out = {}
    for line in (repo_root / 'docs' / 'flops.md').read_text().splitlines():
        cells = _cells(line) if line.startswith('| ') else []
        if len(cells) > 4 and cells[2].startswith('`'):
            out[cells[2].strip('`')] = (float(cells[3].split('/')[0]),
                                        float(cells[4].split('/')[0]))
    return out


def _same_model(config: str) -> str:
    """Table 3(b)'s test-dev configs evaluate the models of 3(a)."""
    return Path(config).name.replace('_coco-test-dev.py', '_coco.py')


def test_readme_is_short_and_in_order(repo_root):
    text = _readme(repo_root)
    assert len(text.splitlines()) <= MAX_LINES
    headings = re.findall(r'^## (.+)$', text, flags=re.M)
    assert headings == SECTIONS


@pytest.mark.parametrize('doc', ['README.md', 'docs'])
def test_markdown_links_exist(repo_root, doc):
    files = [repo_root / doc] if doc.endswith('.md') else sorted(
        (repo_root / doc).glob('**/*.md'))
    assert files
    missing = []
    for md in files:
        for target in MD_LINK.findall(md.read_text()):
            if re.match(r'[a-z]+://', target) or target.startswith('#'):
                continue
            path = target.split('#')[0]
            if not (md.parent / path).exists():
                missing.append(f'{md.relative_to(repo_root)}: {target}')
    assert not missing, missing


def test_readme_paths_exist(repo_root):
    """Paths in prose and commands, e.g. ``tools/test.py``."""
    found = set(REPO_PATH.findall(_readme(repo_root)))
    assert 'tools/dist_train.sh' in found  # the pattern does match paths
    missing = sorted(p for p in found if not (repo_root / p).exists())
    assert not missing, missing


def test_readme_layout_exists(repo_root):
    """The layout map: indented entries are under the entry above."""
    text = _readme(repo_root)
    block = text.split('## Layout', 1)[1].split('```')[1]
    entries, parent = [], ''
    for line in block.strip().splitlines():
        name = line.split()[0]
        if line.startswith(' '):
            name = parent + name
        elif name.endswith('/'):
            parent = name
        entries.append(name)
    assert 'gcnet_plugin/models/layers/' in entries
    missing = [e for e in entries if not (repo_root / e).exists()]
    assert not missing, missing


def test_configs_table_matches_paper_index(repo_root):
    from gcnet_plugin.analysis.paper_comparison import section_of
    rows = _configs_table(_readme(repo_root))
    index = _index(repo_root)
    assert len(rows) == len(index)
    for cells, entry in zip(rows, index):
        where = f"README row {cells[:2]} vs index {entry['row']!r}"
        table, row, link, first, second = cells[:5]
        assert (table, row) == (str(entry['table']), entry['row']), where
        text, target = TABLE_LINK.match(link).groups()
        assert target == entry['config'], where
        assert text == Path(entry['config']).name, where
        assert (repo_root / target).is_file(), where
        section = section_of(entry['table'])
        digits = section.decimals
        keys = [m.key for m in section.metrics]
        assert first == f"{entry['paper'][keys[0]]:.{digits}f}", where
        assert second == f"{entry['paper'][keys[1]]:.{digits}f}", where


def _is_coco(entry: dict) -> bool:
    return str(entry['table'])[0] in '123'


def test_configs_table_params_flops(repo_root):
    """Measured params/FLOPs of the COCO rows: the same for rows of one
    model, equal to docs/flops.md's, params within 0.1 M of every #param
    the paper prints, FLOPs below every FLOPs value it prints
    (docs/flops.md says why)."""
    rows = _configs_table(_readme(repo_root))
    doc = _flops_doc(repo_root)
    seen: Dict[str, Tuple[str, str]] = {}
    for cells, entry in zip(rows, _index(repo_root)):
        if not _is_coco(entry):
            continue
        where = f"README row {cells[:2]}"
        params, flops = float(cells[5]), float(cells[6])
        assert cells[5] == f'{params:.1f}' and cells[6] == f'{flops:.1f}'
        model = _same_model(entry['config'])
        shown = (cells[5], cells[6])
        assert seen.setdefault(model, shown) == shown, where
        doc_params, doc_flops = doc[model]
        assert abs(params - doc_params) <= 0.05 + 1e-9, where
        assert flops == doc_flops, where
        paper = entry['paper']
        if 'params_M' in paper:
            assert abs(params - paper['params_M']) <= 0.1 + 1e-9, where
        if 'flops_G' in paper:
            assert flops < paper['flops_G'], where
    assert set(seen) == set(doc)


# Table 4 / Table 5: #params within this of the paper's (issues 11, 12).
PARAMS_TOLERANCE = {'4': 0.02, '5': 0.05}


def test_accuracy_tables_params_flops(repo_root):
    """ImageNet and Kinetics rows: params/FLOPs with two decimals, as
    measured in docs/complexity_224x224.json and
    docs/complexity_8x224x224.json, params within the issues' tolerance
    of the paper's."""
    from gcnet_plugin.analysis.paper_comparison import (SHIPPED_COMPLEXITY,
                                                        read_complexity)
    measured = read_complexity(
        [str(repo_root / path) for path in SHIPPED_COMPLEXITY[1:]])
    checked = 0
    for cells, entry in zip(
            _configs_table(_readme(repo_root)), _index(repo_root)):
        if _is_coco(entry):
            continue
        where = f"README row {cells[:2]}"
        ours = measured[entry['config']]
        assert cells[5] == f"{ours['params_M']:.2f}", where
        assert cells[6] == f"{ours['flops_G']:.2f}", where
        tolerance = PARAMS_TOLERANCE[str(entry['table'])[0]]
        assert abs(ours['params_M'] -
                   entry['paper']['params_M']) <= tolerance + 1e-9, where
        checked += 1
    assert checked == len([e for e in _index(repo_root) if not _is_coco(e)])


def test_configs_table_is_what_paper_report_writes(repo_root):
    """``paper_report.py`` writes the README's tables (no runs: an empty
    reproduced column) from the params/FLOPs shipped in docs/: each table
    stands in the README as written."""
    from gcnet_plugin.analysis.paper_comparison import (SHIPPED_COMPLEXITY,
                                                        build_report,
                                                        load_paper_index,
                                                        read_complexity,
                                                        section_tables)
    lines = _readme(repo_root).splitlines()
    complexity = read_complexity(
        [str(repo_root / path) for path in SHIPPED_COMPLEXITY])
    index = load_paper_index(str(repo_root / 'configs' / 'paper_index.yml'))
    tables = section_tables(build_report(index, [], complexity))
    assert [name for name, _ in tables][:1] == ['COCO']
    for name, table in tables:
        written = table.splitlines()
        # ImageNet's and Kinetics' headers are alike: find the first row
        start = lines.index(written[2]) - 2
        assert lines[start:start + len(written)] == written, name


def test_published_checkpoints_table(repo_root):
    """docs/configs.md lists every entry of configs/mmdet_checkpoints.yml:
    our config, MMDetection's box / mask AP and the weights' URL."""
    published = yaml.safe_load(
        (repo_root / 'configs' / 'mmdet_checkpoints.yml').read_text())
    lines = (repo_root / 'docs' / 'configs.md').read_text().splitlines()
    start = lines.index("| config | MMDetection's box / mask AP | weights |")
    end = lines.index('', start)
    rows = [_cells(line) for line in lines[start + 2:end]]
    assert len(rows) == len(published) == 15
    for cells, entry in zip(rows, published):
        assert TABLE_LINK.match(cells[0]).group(2) == '../' + entry['config']
        assert cells[1] == f"{entry['bbox_mAP']} / {entry['segm_mAP']}"
        assert TABLE_LINK.match(cells[2]).group(2) == entry['url']
