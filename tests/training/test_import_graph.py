"""The import graph of keypoint_trainer, built with ``ast``: no cycles, no private names across packages.

Every import statement counts, at module level or inside a function (a lazy import still makes
the two modules depend on each other), and so does ``importlib.import_module("...")`` with a
constant name. A private name (``_x``) may only be imported from a module of the same package
(directory): what another package needs must be public.
"""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "src" / "Training" / "keypoint_trainer"
ROOT = "keypoint_trainer"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def build_graph() -> tuple[dict[str, set[str]], list[str]]:
    """-> ({module: modules it imports}, ["importer: private import"...])."""
    files = {module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    private: list[str] = []

    def target(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[tuple[str, str | None]] = []  # (module, imported name)
            if isinstance(node, ast.Import):
                names = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(mod, is_pkg, node.level, node.module)
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    names.append((sub, None) if sub in files else (base, a.name))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "import_module" and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                names = [(node.args[0].value, None)]
            for name, attr in names:
                if not name.startswith(ROOT):
                    continue
                t = target(name)
                if t is None or t == mod:
                    continue
                graph[mod].add(t)
                own_pkg = mod if is_pkg else mod.rpartition(".")[0]
                t_pkg = t if files[t].name == "__init__.py" else t.rpartition(".")[0]
                if attr and attr.startswith("_") and not attr.startswith("__") and t_pkg != own_pkg:
                    private.append(f"{mod}: from {t} import {attr}")
    return graph, private


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_lazy_imports():
    graph, _ = build_graph()
    assert f"{ROOT}.cli" in graph and graph[f"{ROOT}.cli"], "the CLI imports something"
    assert len(graph) > 50


def test_no_import_cycles():
    graph, _ = build_graph()
    assert cycles(graph) == []


def test_no_private_names_across_packages():
    _, private = build_graph()
    assert private == []


def test_families_share_only_common_pieces():
    """A family (experiments/<family>/) never imports another family; what two families need lives
    in core, codecs, models, metrics, data or engine, none of which imports a family."""
    graph, _ = build_graph()
    exp = f"{ROOT}.experiments."
    crossing = [f"{m} -> {t}" for m, deps in graph.items() for t in deps if t.startswith(exp) and not (
        m.startswith(exp) and m.split(".")[2] == t.split(".")[2]) and m not in (f"{ROOT}.plugins", f"{ROOT}.experiments")]
    assert crossing == []


def test_one_fit_loop_and_one_onnx_export_call():
    """engine/fit.py is the only training loop (``.backward()``) and engine/export.py the only
    caller of ``torch.onnx.export``."""
    backward, onnx_export = set(), set()
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "backward":
                    backward.add(module_name(path))
                if node.func.attr == "export" and "onnx" in ast.unparse(node.func.value):
                    onnx_export.add(module_name(path))
    assert onnx_export == {f"{ROOT}.engine.export"}
    assert backward <= {f"{ROOT}.engine.fit", f"{ROOT}.models.posture"}, backward


def test_no_function_over_60_lines():
    """Reports are lists of sections and the loops are split into named steps: nothing long."""
    long = []
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{module_name(path)}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert long == []


def test_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
