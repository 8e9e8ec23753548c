"""Every tool is a thin command line: it imports the package, never
another tool, never edits the module search path and runs no other
program; every name it imports from the package exists (checked without
running the tool)."""
import ast
import importlib

FORBIDDEN_MODULES = {'runpy', 'subprocess', 'importlib'}


def _imports(tree: ast.AST):
    """``(module, names)`` of every import statement."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield node.module or '', [a.name for a in node.names]


def _calls_out(node: ast.AST) -> bool:
    """The module search path of ``sys``, ``os.system`` or ``os.popen``."""
    return (isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in {('sys', 'path'),
                                               ('os', 'system'),
                                               ('os', 'popen')})


def test_tools_import_only_the_package(repo_root):
    tools = sorted((repo_root / 'tools').rglob('*.py'))
    tool_names = {p.stem for p in tools}
    assert {'get_flops', 'paper_report', 'train'} <= tool_names
    problems = []
    for path in tools:
        where = path.relative_to(repo_root)
        tree = ast.parse(path.read_text(), filename=str(path))
        for module, names in _imports(tree):
            top = module.split('.')[0]
            if top in tool_names or top in FORBIDDEN_MODULES:
                problems.append(f'{where} imports {module}')
            elif top == 'gcnet_plugin':
                imported = importlib.import_module(module)
                problems += [
                    f'{where}: no {module}.{name}' for name in names
                    if not hasattr(imported, name)
                ]
        problems += [
            f'{where}:{node.lineno}: {node.value.id}.{node.attr}'
            for node in ast.walk(tree) if _calls_out(node)
        ]
    assert not problems
