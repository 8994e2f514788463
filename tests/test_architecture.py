"""The tree's own checks, run with the suite so that the README's one test command runs them all:
the import contracts in pyproject.toml ([tool.importlinter]), mypy, and ruff (lint and format)."""

from __future__ import annotations

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
