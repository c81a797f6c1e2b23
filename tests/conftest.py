"""Shared paths and helpers for the test suite."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

# The generator's cache (output/cache.py) of this test session: outside the repository, shared by the CLI runs
# the tests start (they inherit the environment), never the user's own ~/.cache.
os.environ["UNIONML_CODEGEN_CACHE_DIR"] = tempfile.mkdtemp(prefix="unionml-codegen-test-cache-")


#: The console script a user runs (`pip install` puts it beside the interpreter), else `python -m`.
UNIONML = [str(Path(sys.executable).parent / "unionml")]
if not os.access(UNIONML[0], os.X_OK):
    UNIONML = [sys.executable, "-m", "unionml_codegen"]


#: Test modules that run what the generator writes (pyflyte, unionml, flytekit executions, PyTorch, Keras, the
#: Flyte 2 SDK, the stand-ins, pre-commit, the docs site, fuzzing): the `slow` lane. `scripts/test -m "not slow"`
#: is the inner loop; CI runs everything.
SLOW_MODULES = {
    "test_app_packages", "test_cache_option", "test_check_fuzz", "test_cluster_commands", "test_cluster_faults",
    "test_docs_site", "test_examples", "test_fixed_kickoff", "test_flyte2", "test_flyteadmin_standin", "test_fuzz",
    "test_imported_model", "test_keras", "test_kill", "test_matches_unionml", "test_operate_run", "test_precommit",
    "test_predictions", "test_pytorch", "test_real_apps", "test_run_output", "test_seed_guide", "test_sql_datasets",
    "test_training_only", "test_trust",
}  # fmt: skip


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def digits_app() -> Path:
    return EXAMPLES / "digits" / "app.py"
