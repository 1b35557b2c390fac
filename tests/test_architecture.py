"""The house's layout checks itself: imports only go down, no module is shadowed, the core has no import circle.

Every import is read from the source (module level and inside functions alike), so a circle hidden inside a
function counts as a circle.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
from collections import defaultdict

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src" / "scalinglaws"

# Rooms from the bottom up; a room imports only from itself and the rooms below it (docs/architecture.md).
LAYERS = (
    ("_version", "errors"),
    ("records",),
    ("files", "render"),
    ("runs",),
    ("laws", "datasets"),
    ("fitting", "ingest"),
    ("plan", "curves", "decide", "store"),
    ("train",),
    ("plots", "demo"),
    ("report",),
    ("cli",),
    ("__main__",),
)
LEVEL = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}
CORE = ("runs", "laws", "fitting")  # rooms whose modules form no import circle among themselves


def _module(path: pathlib.Path) -> str:
    parts = ["scalinglaws", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in ROOT.rglob("*.py")}


def _imports(name: str) -> set[str]:
    """The scalinglaws modules (or packages) that module `name` imports, anywhere in its body."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "scalinglaws":
                continue
            for alias in node.names:  # `from . import laws` names a module; `from .x import f` names x
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "scalinglaws")
    return out


def _room(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


IMPORTS = {name: _imports(name) for name in MODULES}


def test_every_room_is_placed():
    rooms = {_room(m) for m in MODULES} - {None}
    assert rooms <= set(LEVEL), f"place these in LAYERS and docs/architecture.md: {sorted(rooms - set(LEVEL))}"


def test_imports_only_go_down():
    upward = []
    for name, targets in IMPORTS.items():
        room = _room(name)
        if room is None:
            continue
        for target in targets:
            other = _room(target)
            if other is not None and other != room and LEVEL[other] >= LEVEL[room]:
                upward.append(f"{name} imports {target}")
    assert not upward, "imports that do not go down:\n" + "\n".join(sorted(upward))


@pytest.mark.parametrize("room", ["laws", "fitting"])
def test_law_library_and_engine_import_no_higher_room(room):
    higher = ("curves", "plots", "decide", "cli", "plan", "report")
    bad = sorted(f"{m} imports {t}" for m, ts in IMPORTS.items() if _room(m) == room for t in ts
                 if _room(t) in higher)
    assert not bad, bad


def test_core_has_no_import_circle():
    graph = defaultdict(set)
    for name, targets in IMPORTS.items():
        if _room(name) not in CORE:
            continue
        for t in targets:
            # a package's __init__ re-exporting its own modules is not an edge back to them
            if _room(t) in CORE and not (MODULES[name].name == "__init__.py" and t.startswith(name + ".")):
                graph[name].add(t)
    circles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                circles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_no_module_is_shadowed_by_a_name_its_package_exports():
    """`import scalinglaws.decide.backtesting` is the module, and `scalinglaws.decide.backtest` the function."""
    shadowed = []
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        package = importlib.import_module(name)
        for child in MODULES:
            if child.rsplit(".", 1)[0] == name and MODULES[child].name != "__init__.py":
                short = child.rsplit(".", 1)[1]
                exported = set(getattr(package, "__all__", ())) | set(getattr(package, "_LAZY", {}))
                if short in exported:
                    shadowed.append(f"{name}.{short} is both a module and a name {name} exports")
    assert not shadowed, shadowed


def test_a_law_applies_its_own_transient_rule():
    """The engine asks the law which rows to keep; curve laws leave out the warm-up, point laws keep every row."""
    from scalinglaws.laws import get_law

    assert get_law("lr_annealing").transient == "warmup"
    assert get_law("chinchilla").transient == "none"


def test_a_law_with_fixed_parameters_keeps_its_transient_rule():
    from scalinglaws.decide import fix_params
    from scalinglaws.laws import get_law

    assert fix_params(get_law("lr_annealing"), {"C": 0.4}).transient == "warmup"


def test_a_name_the_package_lacks_gets_a_hint():
    import scalinglaws as sl

    with pytest.raises(AttributeError, match=r"did you mean fit\?"):
        sl.fitt  # noqa: B018
    with pytest.raises(AttributeError, match=r"sl\.Fit\.load\(path\)"):
        sl.load  # noqa: B018


def test_no_file_names_a_development_machines_paths():
    """Shared data is found relative to the repository (or SCALINGLAWS_SHARED_DATA), never by an absolute path."""
    import re

    repo = ROOT.parents[1]
    pattern = re.compile(r"(?<![\w.])/(?:work|root|home/\w+)/")
    found = []
    for folder in ("src", "benchmarks", "docs", "examples", "tools"):
        for path in (repo / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".sh", ".toml", ".ipynb") and path.is_file():
                for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                    if pattern.search(line):
                        found.append(f"{path.relative_to(repo)}:{n}: {line.strip()[:80]}")
    assert not found, "\n".join(found)
