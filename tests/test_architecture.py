"""The import contract, checked on the source (an AST walk of every module in the package).

Layers, top to bottom (imports may only point down or stay inside one package):

    cli, __main__  >  commands  >  batch, report  >  capabilities (calibrate > msi > tmb > callable)
      >  footprint  >  panels  >  io  >  data model (variants, regions, intervals, contigs,
      annotation)  >  infrastructure (errors, output, provenance, resources, _lazy, _version, ext)

Also: nothing imports ``commands``/``cli`` but the CLI; no module imports another top-level
package's ``_private`` names; every compiled kernel is loaded by the one module that owns it;
module-level imports form no cycle; no function outside ``ext/`` is longer than 80 lines.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "tmbcalc"

LAYERS: list[set[str]] = [
    {"cli", "__main__", "__init__"},
    {"commands"},
    {"batch", "report"},
    {"calibrate"},
    {"msi"},
    {"tmb"},
    {"callable"},
    {"footprint", "genome_build"},
    {"panels"},
    {"io"},
    {"variants", "regions", "intervals", "contigs", "annotation", "harmonized"},
    {"errors", "checks", "output", "provenance", "resources", "_lazy", "_version", "ext"},
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}

KERNEL_OWNERS = {
    "_vcfscan": "tmbcalc.io.vcf",
    "_depth": "tmbcalc.callable.engine",
    "_report": "tmbcalc.tmb.writers",
    "_msiprofile": "tmbcalc.msi.profile",
    "_msiscan": "tmbcalc.msi.scan",
}
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(node: ast.ImportFrom, mod: str, is_pkg: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids.update(id(n) for n in ast.walk(node))
    return ids


def imports(mod: str, path: Path) -> Iterator[tuple[str, list[str], bool, int]]:
    """(imported module, imported names, at module level?, line) for every import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_nodes(tree)
    top_level = {id(n) for n in tree.body}
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            target = _resolve(node, mod, is_pkg)
            names = [a.name for a in node.names]
            # "from . import x" imports the submodule x
            yield from ((f"{target}.{n}" if f"{target}.{n}" in MODULES else target, [n], id(node) in top_level,
                         node.lineno) for n in names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], id(node) in top_level, node.lineno


MODULES = modules()


def top(mod: str) -> str:
    """The top-level unit of a module: ``tmbcalc.tmb.rules`` -> ``tmb``."""
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def violations_of_layers(mod: str, target: str, line: int) -> list[str]:
    if not target.startswith("tmbcalc"):
        return []
    src, dst = top(mod), top(target)
    if src == dst:
        return []
    if dst in ("commands", "cli") and src not in ("cli", "__main__"):
        return [f"{mod}:{line} imports {target}: only the CLI may import commands/cli"]
    if dst not in RANK or src not in RANK:
        return [f"{mod}:{line} imports {target}: unit '{dst if dst not in RANK else src}' has no layer in "
                f"tests/test_architecture.py"]
    if RANK[dst] < RANK[src]:
        return [f"{mod}:{line} imports {target}: points up (layer {src} -> {dst})"]
    return []


def all_violations(mods: dict[str, Path]) -> list[str]:
    found: list[str] = []
    for mod, path in mods.items():
        for target, names, _level, line in imports(mod, path):
            found += violations_of_layers(mod, target, line)
            if target.startswith("tmbcalc") and top(target) != top(mod):
                private = [n for n in names if n.startswith("_") and not n.startswith("__")
                           and f"{target}.{n}" not in MODULES]
                if private and not (top(target) == "ext" and top(mod) == "ext"):
                    found.append(f"{mod}:{line} imports private {', '.join(private)} from {target}")
    return found


def kernel_loads(mod: str, path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "load_kernel":
            if node.args and isinstance(node.args[0], ast.Constant):
                yield node.args[0].value, node.lineno
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("ext"):
            for a in node.names:
                if a.name in KERNEL_OWNERS:
                    yield a.name, node.lineno


def module_level_cycles(mods: dict[str, Path]) -> list[list[str]]:
    graph = {m: sorted({t for t, _n, level, _l in imports(m, p) if level and t in mods and t != m})
             for m, p in mods.items()}
    cycles, state, stack = [], {}, []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in graph[m]:
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m)
    return cycles


def test_imports_point_down_and_leave_private_names_alone():
    assert all_violations(MODULES) == []


def test_each_kernel_is_loaded_only_by_its_owner():
    bad = [f"{mod}:{line} loads {k} (owner: {KERNEL_OWNERS.get(k)})"
           for mod, path in MODULES.items() if not mod.startswith("tmbcalc.ext")
           for k, line in kernel_loads(mod, path) if KERNEL_OWNERS.get(k) != mod]
    assert bad == []


def test_no_import_cycles_at_module_level():
    assert module_level_cycles(MODULES) == []


def test_no_function_longer_than_80_lines():
    long = []
    for mod, path in MODULES.items():
        if mod.startswith("tmbcalc.ext"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{mod}.{node.name}: {n} lines")
    assert long == []


# -- the checks themselves can fail: each is shown a deliberately wrong module ---------------------
@pytest.mark.parametrize("source, expected", [
    ("from ..commands import tmb\n", "only the CLI may import commands/cli"),
    ("from ..batch import run_batch\n", "points up"),
    ("from ..tmb.compute import _warm_up\n", "imports private _warm_up"),
])
def test_layer_check_catches_a_wrong_import(tmp_path, source, expected):
    fake = PKG / "io" / "_architecture_probe.py"      # never written: parsed from tmp_path instead
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    found = []
    for target, names, _lvl, line in imports("tmbcalc.io._architecture_probe", probe):
        found += violations_of_layers("tmbcalc.io._architecture_probe", target, line)
        if target.startswith("tmbcalc") and any(n.startswith("_") for n in names):
            found += [f"imports private {n}" for n in names if n.startswith("_")]
    assert fake.exists() is False
    assert any(expected in v for v in found), found


def test_kernel_check_catches_a_foreign_loader(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from ..ext import load_kernel\nk = load_kernel('_depth')\n")
    assert [k for k, _ in kernel_loads("tmbcalc.tmb.sources", probe)] == ["_depth"]


def test_cycle_check_catches_a_cycle(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from tmbcalc.b import x\n")
    b.write_text("from tmbcalc.a import y\n")
    cycles = module_level_cycles({"tmbcalc.a": a, "tmbcalc.b": b})
    assert cycles and set(cycles[0]) == {"tmbcalc.a", "tmbcalc.b"}


def exported_names_shadowed_by_submodules(pkg_root: Path) -> list[str]:
    """``package.name`` pairs where a package exports ``name`` (``__all__``) and also has a submodule
    or subpackage ``name``: importing the submodule rebinds the package attribute to the module,
    so ``from package import name`` then returns a module instead of the exported object."""
    out = []
    for init in sorted(pkg_root.rglob("__init__.py")):
        tree = ast.parse(init.read_text())
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("__all__", "_LAZY")
                                                    for t in node.targets):
                if isinstance(node.value, (ast.List, ast.Tuple)):
                    names |= {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
                elif isinstance(node.value, ast.Dict):
                    names |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
        subs = {p.stem for p in init.parent.glob("*.py")} | {p.parent.name for p in init.parent.glob("*/__init__.py")}
        out += [f"{init.parent.name}.{n}" for n in sorted(names & subs)]
    return out


def test_no_exported_name_is_also_a_submodule():
    assert exported_names_shadowed_by_submodules(PKG) == []


def test_shadowing_check_catches_a_clash(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('_LAZY = {"harmonize": "apply"}\n__all__ = list(_LAZY)\n')
    (pkg / "apply.py").write_text("def harmonize(): pass\n")
    (pkg / "harmonize.py").write_text("")
    assert exported_names_shadowed_by_submodules(tmp_path) == ["pkg.harmonize"]
