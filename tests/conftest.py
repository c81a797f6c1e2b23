"""Fixtures, the test session's cache directory and the `slow` lane (helpers.py has the shared functions)."""

from __future__ import annotations

import functools
import inspect
import os
import re
import tempfile
from pathlib import Path

import pytest

from .helpers import EXAMPLES

# The generator's cache (output/cache.py) of this test session: outside the repository, shared by the CLI runs
# the tests start (they inherit the environment), never the user's own ~/.cache.
os.environ["UNIONML_CODEGEN_CACHE_DIR"] = tempfile.mkdtemp(prefix="unionml-codegen-test-cache-")


#: Test modules that run what the generator writes (pyflyte, unionml, flytekit executions, PyTorch, Keras, the
#: Flyte 2 SDK, the stand-ins, pre-commit, the docs site, fuzzing): the `slow` lane. `scripts/test -m "not slow"`
#: is the inner loop; CI runs everything.
SLOW_MODULES = {
    "test_app_packages", "test_cache_option", "test_check_fuzz", "test_cluster_commands", "test_cluster_faults",
    "test_docs_site", "test_examples", "test_fault_sweep", "test_fixed_kickoff", "test_flyte2", "test_flyte2_runtime_faults", "test_flyte2_triggers", "test_flyteadmin_standin", "test_fuzz",
    "test_imported_model", "test_keras", "test_kill", "test_matches_unionml", "test_operate_run", "test_precommit", "test_predictions",
    "test_pytorch", "test_real_apps", "test_run_output", "test_runtime_faults", "test_seed_guide", "test_sql_datasets",
    "test_training_only", "test_trust",
}  # fmt: skip


#: What starts an interpreter, a registry or a stand-in: a test that calls one of these, itself or through a
#: fixture it uses, is in the `slow` lane too, whatever its module.
STARTS_A_PROCESS = re.compile(r"\b(run_cli|run_python|subprocess\.|Popen|FlyteAdminStandin|Flyte2Standin|package)\(")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES or _starts_a_process(item):
            item.add_marker(pytest.mark.slow)


def _starts_a_process(item) -> bool:
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        for definition in (info.name2fixturedefs.get(name, ()) if info else ()):
            functions.append(definition.func)
    return any(_source_starts_a_process(function) for function in functions if function is not None)


@functools.lru_cache(maxsize=None)
def _source_starts_a_process(function) -> bool:
    try:
        return STARTS_A_PROCESS.search(inspect.getsource(function)) is not None
    except (OSError, TypeError):
        return False


@pytest.fixture
def digits_app() -> Path:
    return EXAMPLES / "digits" / "app.py"
