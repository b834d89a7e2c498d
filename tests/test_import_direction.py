"""Import direction (DESIGN section 2, docs/CONTRACTS.md), checked by parsing every import.

orbits <- emulator.radio <- emulator.systems <- policies <- emulator.engine/processes/...
``emulator.units`` / ``emulator.rng`` are leaves anyone may import (except orbits). ``traces``
imports no SimPy and nothing of the engine. ``import policies`` loads no torch or cvxpy.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the engine tier: SimPy timeline, the run, studies, replay, CLI
ENGINE = (
    "emulator.engine",
    "emulator.processes",
    "emulator.studies",
    "emulator.replay",
    "emulator.epoch",
    "emulator.world",
    "emulator.arrivals",
    "emulator.cli",
)
LEAVES = ("emulator.units", "emulator.rng")

#: package prefix -> forbidden import prefixes
RULES = {
    "orbits": ("emulator", "policies", "traces", "simpy"),
    "emulator.units": ("emulator.", "orbits", "policies", "traces", "simpy"),
    "emulator.rng": ("emulator.", "orbits", "policies", "traces", "simpy"),
    "emulator.radio": (
        "emulator.systems",
        "policies",
        "traces",
        "simpy",
        "emulator.config",
        *ENGINE,
    ),
    "emulator.systems": ("policies", "traces", "simpy", "emulator.config", *ENGINE),
    # a policy never imports SimPy, the engine or the clock; its offline tools (training-data
    # export) may read scenarios and traces, which know nothing of SimPy either
    "policies": ("simpy", *ENGINE),
    "traces": (
        "simpy",
        "emulator.engine",
        "emulator.processes",
        "emulator.epoch",
        "emulator.world",
        "emulator.studies",
        "emulator.replay",
    ),
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[str]:
    """Absolute names of every module imported anywhere in the file (incl. inside functions)."""
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append(name)
            out += [f"{name}.{a.name}" for a in node.names]  # "from emulator import engine"
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                out.append(str(node.args[0].value))
    return out


def _matches(name: str, prefix: str) -> bool:
    if prefix.endswith("."):
        return name.startswith(prefix)
    return name == prefix or name.startswith(prefix + ".")


def rule_for(mod: str):
    best = None
    for pkg in RULES:
        if _matches(mod, pkg) and (best is None or len(pkg) > len(best)):
            best = pkg
    return best


def all_modules():
    for pkg in ("orbits", "emulator", "policies", "traces"):
        yield from sorted((ROOT / pkg).rglob("*.py"))


def test_parser_sees_relative_and_lazy_imports(tmp_path):
    # the checker itself must see what it is meant to forbid
    p = ROOT / "emulator" / "engine.py"
    names = imports_of(p)
    assert "emulator.processes" in names and "simpy" in names  # lazy import inside execute()


@pytest.mark.parametrize("path", list(all_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_import_direction(path):
    mod = module_name(path)
    rule = rule_for(mod)
    if rule is None:
        return
    bad = [n for n in imports_of(path) for f in RULES[rule] if _matches(n, f) and n != mod]
    if rule in LEAVES:
        bad = [n for n in bad if not _matches(n, rule)]
    assert bad == [], f"{mod} imports {sorted(set(bad))}, against the rule for {rule}"


def test_import_policies_loads_no_torch_or_cvxpy():
    code = (
        "import sys, policies; heavy = sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('torch', 'cvxpy', 'simpy')); print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
