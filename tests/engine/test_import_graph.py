"""The engine's import graph: the import-linter contracts hold, and no module imports itself back.

`lint-imports` checks the contracts of pyproject.toml (the engine never imports the studio, Textual,
Rich, pydantic or Typer; frameworks only at the edge; no cycle). The grimp test below looks at every
module, package ``__init__`` modules included, and names the whole circle when it finds one.
"""

from __future__ import annotations

import ast
import itertools
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# `cadence.__getattr__` loads the diagram module on first use, so `import cadence` stays light.
LAZY_ON_PURPOSE = "from . import diagram"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Each import circle among the modules of ``package``, as ``[a, b, ..., a]`` (Tarjan's SCCs,
    then the shortest way round from the first module of each)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(f"{package}."))
    inside = set(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def edges(module: str) -> list[str]:
        return sorted(graph.find_modules_directly_imported_by(module) & inside)

    def visit(root: str) -> None:
        # Iterative Tarjan: the graph is small, but a recursion limit must never hide a cycle.
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges(child))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    cycles = []
    for component in sorted(components):
        first, members = component[0], set(component)
        best: list[str] | None = None
        for nxt in edges(first):
            if nxt not in members:
                continue
            chain = graph.find_shortest_chain(importer=nxt, imported=first)
            if chain is not None and (best is None or len(chain) < len(best)):
                best = list(chain)
        assert best is not None
        cycles.append([first, *best])
    return cycles


def _describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    steps = []
    for importer, imported in itertools.pairwise(cycle):
        lines = graph.get_import_details(importer=importer, imported=imported)
        where = f" (l.{lines[0]['line_number']}: {lines[0]['line_contents']})" if lines else ""
        steps.append(f"  {importer} -> {imported}{where}")
    return "\n".join(steps)


def test_lint_imports_contracts_are_kept() -> None:
    """`lint-imports` (the contracts in pyproject.toml) passes on the repository."""
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_engine_has_no_import_cycle() -> None:
    """No module of `cadence` (package modules included) imports itself back, directly or not."""
    graph = grimp.build_graph("cadence", cache_dir=None)
    cycles = import_cycles(graph, "cadence")
    assert cycles == [], "import cycles in the engine:\n" + "\n".join(_describe(graph, c) for c in cycles)


def _function_level_engine_imports(package_dir: Path) -> set[tuple[str, int]]:
    """(file, line) of each import of an engine module made inside a function of ``package_dir``."""
    found = set()
    for path in sorted(package_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").startswith("cadence")
                ):
                    found.add((path.relative_to(package_dir.parent).as_posix(), node.lineno))
                elif isinstance(node, ast.Import) and any(a.name.startswith("cadence") for a in node.names):
                    found.add((path.relative_to(package_dir.parent).as_posix(), node.lineno))
    return found


def test_engine_imports_its_own_modules_at_the_top() -> None:
    """No function-level import of an engine module (the smell that hides a cycle), except the
    diagram module that `import cadence` loads on first use."""
    found = _function_level_engine_imports(ROOT / "engine" / "cadence")
    lines = {(f, n): (ROOT / "engine" / f).read_text().splitlines()[n - 1].strip() for f, n in found}
    assert {k: v for k, v in lines.items() if v != LAZY_ON_PURPOSE} == {}


def _make_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_cycle_finder_names_the_whole_circle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The finder reports a circle through a package's ``__init__`` as every module on the way round."""
    _make_package(
        tmp_path / "circlepkg",
        {
            "__init__.py": "from .a import A\n",
            "a.py": "from . import b\nA = 1\n",
            "b.py": "import circlepkg\n",
            "c.py": "from . import a\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("circlepkg", cache_dir=None)
    assert import_cycles(graph, "circlepkg") == [["circlepkg", "circlepkg.a", "circlepkg.b", "circlepkg"]]


@pytest.mark.parametrize(
    ("wrong_import", "expected"),
    [
        (
            "import cadence_studio",
            ["cadence is not allowed to import cadence_studio", "cadence.score -> cadence_studio"],
        ),
        ("from .note import Note", ["No cycles are allowed in cadence.", ".score -> .note"]),
    ],
    ids=["engine-imports-studio", "engine-cycle"],
)
def test_a_wrong_import_breaks_the_contracts(tmp_path: Path, wrong_import: str, expected: list[str]) -> None:
    """A copy of the engine with one wrong import in `cadence.score` fails `lint-imports`, naming
    both modules."""
    shutil.copytree(
        ROOT / "engine" / "cadence", tmp_path / "cadence", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    score = tmp_path / "cadence" / "score.py"
    text = score.read_text()
    anchor = "from .merge import merge_snapshots\n"
    assert anchor in text
    score.write_text(text.replace(anchor, f"{anchor}{wrong_import}  # wrong on purpose\n"))
    done = _lint_imports(tmp_path)  # lint-imports puts its working folder first on sys.path
    assert done.returncode == 1, done.stdout + done.stderr
    for line in expected:
        assert line in done.stdout
