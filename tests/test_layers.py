"""Layering: an import only ever goes down (DESIGN.md, "Layers").

Every module of ours is read with `ast` (nothing is imported), and every import in it is collected: at
the top, inside functions, under `if TYPE_CHECKING:` and under `workflow.unsafe.imports_passed_through()`,
relative ones resolved, and `importlib.import_module("...")` with a literal name. Bottom to top:

    domain                 imports nothing of ours, and no I/O library
    infra                  settings, database, codec, the Temporal client
    store                  tables and services; neither fastapi nor api
    workflows | activities neither imports the other; a workflow module imports only temporalio, the
                           standard library, pydantic, domain and other workflows modules
    api
    engine, worker         on top: nothing below imports them
    bench                  may import anything; nothing imports it
The test lists every violation, naming the module, the line and the import.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "infra", "store", "workflows", "activities", "api", "engine", "bench")
MODULES = ("worker",)
RANK = {
    "domain": 0,
    "infra": 1,
    "store": 2,
    "workflows": 3,
    "activities": 3,
    "api": 4,
    "engine": 5,
    "worker": 5,
    "bench": 6,
}
OURS = frozenset(RANK)
SIDEWAYS = {("workflows", "activities"), ("activities", "workflows")}
IO_LIBRARIES = frozenset({"sqlmodel", "sqlalchemy", "fastapi", "httpx", "temporalio"})
WORKFLOW_MAY_IMPORT = frozenset({"temporalio", "pydantic", "domain", "workflows"})
WORDS = {"worker": "worker.py"}
WORKFLOW_RULE = "a workflow module imports only temporalio, the standard library, pydantic, domain, workflows"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    line: int
    name: str  # what it imports, dotted and absolute

    @property
    def top(self) -> str:
        return self.name.split(".")[0]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every import the module's source makes, wherever it stands, as absolute dotted names."""
    found: list[Import] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(p for p in base if p)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            if node.module is None or node.level:  # `from . import x`: x may be a module
                found += [Import(module, node.lineno, f"{target}.{a.name}".strip(".")) for a in node.names]
            else:
                found.append(Import(module, node.lineno, target))
        elif isinstance(node, ast.Call) and (name := _dynamic_import(node)):
            found.append(Import(module, node.lineno, name))
    return found


def _dynamic_import(call: ast.Call) -> str | None:
    """The literal module name of `importlib.import_module("x")` or `__import__("x")`, if it is one."""
    func = call.func
    named = (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )
    first = call.args[0] if call.args else None
    if named and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def violations(imp: Import) -> list[str]:
    """What is wrong with one import (empty if nothing): the first rule it breaks."""
    layer, top = imp.module.split(".")[0], imp.top
    where = f"{imp.module} (line {imp.line}) imports {imp.name}"
    if layer == "bench" or top == layer:
        return []
    if top in OURS and (RANK[top] > RANK[layer] or top == "bench"):
        return [f"{where}: {WORDS.get(top, top)} is a layer above {WORDS.get(layer, layer)}"]
    if (layer, top) in SIDEWAYS:
        return [f"{where}: {layer} and {top} must not import each other"]
    if layer == "domain" and top in IO_LIBRARIES:
        return [f"{where}: domain is pure, no I/O library ({top})"]
    if layer == "domain" and top in OURS:
        return [f"{where}: domain imports nothing of ours"]
    if layer == "store" and top == "fastapi":
        return [f"{where}: store knows nothing of HTTP (fastapi)"]
    if layer == "workflows" and top not in WORKFLOW_MAY_IMPORT | sys.stdlib_module_names:
        return [f"{where}: {WORKFLOW_RULE}"]
    return []


def our_files(root: Path = ROOT) -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))]
    return files + [root / f"{m}.py" for m in MODULES if (root / f"{m}.py").exists()]


def all_violations(root: Path = ROOT) -> list[str]:
    found: list[str] = []
    for path in our_files(root):
        module = module_name(path, root)
        for imp in imports_in(path.read_text(), module, is_package=path.name == "__init__.py"):
            found += violations(imp)
    return found


# --- the tests ---------------------------------------------------------------------------------------
def test_every_layer_is_walked() -> None:
    walked = {module_name(p).split(".")[0] for p in our_files()}
    assert walked == OURS, f"not walked: {sorted(OURS - walked)}"
    assert len(our_files()) > 40


def test_no_import_goes_up_a_layer() -> None:
    found = all_violations()
    assert not found, f"{len(found)} import(s) go against the layers:\n" + "\n".join(found)


def test_the_walk_sees_imports_wherever_they_stand(tmp_path: Path) -> None:
    """The checker itself: hidden, relative and sideways imports are all caught, each one listed."""
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "rules.py").write_text(
        "def load():\n    import sqlmodel\n    from store.register import Pupil\n    return Pupil\n"
    )
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "__init__.py").write_text("")
    (tmp_path / "workflows" / "flow.py").write_text(
        "from temporalio import workflow\n"
        "with workflow.unsafe.imports_passed_through():\n"
        "    from domain.rules import load\n"
        "    from activities.email import send\n"
        "    import jinja2\n"
        "    from . import kit\n"
    )
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "paging.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from fastapi import Request\n"
        "from ..api import deps\n"
        "import importlib\nimportlib.import_module('engine.run')\n"
    )
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "run.py").write_text("import worker\nfrom api.main import create_app\n")
    found = all_violations(tmp_path)
    expected = [
        "domain.rules (line 2) imports sqlmodel: domain is pure, no I/O library (sqlmodel)",
        "domain.rules (line 3) imports store.register: store is a layer above domain",
        "store.paging (line 3) imports fastapi: store knows nothing of HTTP (fastapi)",
        "store.paging (line 4) imports api.deps: api is a layer above store",
        "store.paging (line 6) imports engine.run: engine is a layer above store",
        "workflows.flow (line 4) imports activities.email: workflows and activities must not import each "
        "other",
        f"workflows.flow (line 5) imports jinja2: {WORKFLOW_RULE}",
    ]
    assert sorted(found) == sorted(expected)
