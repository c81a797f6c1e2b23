"""What tests share besides fixtures: the repository's paths, running the CLI and Python as a user does, reading a tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

#: The console script a user runs (`pip install` puts it beside the interpreter), else `python -m`.
UNIONML = [str(Path(sys.executable).parent / "unionml")]
if not os.access(UNIONML[0], os.X_OK):
    UNIONML = [sys.executable, "-m", "unionml_codegen"]


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`unionml ARGS`, as a user runs it (the console script)."""
    return subprocess.run(
        [*UNIONML, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_python(code: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter (generated projects and unionml must not share a process)."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
