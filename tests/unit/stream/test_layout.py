"""The stream package stays readable: no import cycle, no stage importing the app, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pipeline.stream

ROOT = Path(pipeline.stream.__file__).parent


def _modules() -> dict[str, set[str]]:
    """``pipeline.stream`` module -> the ``pipeline.stream`` modules it imports."""
    out: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("pipeline.stream")
            ):
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("pipeline.stream")}
        out[name] = imported
    return out


def test_no_stream_module_imports_the_app_and_imports_have_no_cycle() -> None:
    graph = _modules()
    assert [m for m, deps in graph.items() if "pipeline.stream.app" in deps] == []

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        for dep in graph.get(module, ()):
            if dep != module and not (dep == "pipeline.stream.records" and module.startswith(dep)):
                visit(dep, (*path, module))

    for module in graph:
        visit(module, ())


def test_no_stream_module_is_over_300_lines() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in ROOT.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 300} == {}
