"""The package's layout holds (docs/architecture.md): import-linter checks the contracts in pyproject.toml
(read < rules < render; output/ and operate/ never import them; what an up-to-date `--check` imports never
imports libcst, jinja2 or black), and an import that breaks a layer is caught."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..helpers import REPO

LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_package_keeps_its_layers():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_an_import_against_the_layers_breaks_the_contract(tmp_path):
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    upward = tmp_path / "src" / "unionml_codegen" / "read" / "positions.py"
    upward.write_text(upward.read_text() + "\nfrom ..render import views  # noqa: E402,F401\n")
    heavy = tmp_path / "src" / "unionml_codegen" / "output" / "compare.py"
    heavy.write_text(heavy.read_text() + "\nimport black  # noqa: E402,F401\n")
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 kept, 2 broken" in result.stdout
    assert "unionml_codegen.read.positions -> unionml_codegen.render.views" in result.stdout
    assert "unionml_codegen.output.compare -> black" in result.stdout
