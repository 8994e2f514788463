"""The tree's own checks, run with the suite so that the README's one test command runs them all:
the import contracts in pyproject.toml ([tool.importlinter]), mypy, ruff (lint and format), and the size
limits of modules, functions and listeners (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["bot", "handlers", "storage", "tests", "bench"]


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    # The console scripts installed beside this interpreter by the `test` extra.
    executable = Path(sys.executable).with_name(tool)
    return subprocess.run([str(executable), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept() -> None:
    result = run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_mypy_passes() -> None:
    result = run("mypy")  # packages and settings: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("args", [("check", *SOURCES), ("format", "--check", *SOURCES)], ids=["lint", "format"])
def test_ruff(args: tuple[str, ...]) -> None:
    result = run("ruff", *args)
    assert result.returncode == 0, result.stdout + result.stderr


# docs/architecture.md: a module is read whole, a function at a glance, a listener in one look.
MODULE_LINES = 400
FUNCTION_LINES = 60
LISTENER_LINES = 40  # every function in handlers/: the listeners and the `register` that names them


def test_modules_and_functions_stay_short() -> None:
    too_long = []
    for package in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            if len(text.splitlines()) > MODULE_LINES:
                too_long.append(f"{name}: {len(text.splitlines())} lines (at most {MODULE_LINES})")
            bar = LISTENER_LINES if package == "handlers" else FUNCTION_LINES
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > bar:
                        too_long.append(f"{name}:{node.lineno} {node.name}: {lines} lines (at most {bar})")
    assert not too_long, "\n".join(too_long)
