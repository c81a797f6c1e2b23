"""The `unionml-generate-check` pre-commit hook, used from another repository as pre-commit would.

This runs `pre-commit try-repo HOOK_REPO unionml-generate-check --all-files` in a sample git
repository that holds the digits app (`digits/app.py`), its generated project (`digits/flyte`)
and `[tool.unionml-codegen]` in its pyproject.toml: once current (the hook passes), once with the
app edited (the hook fails, naming the stale file).

HOOK_REPO is a git repository made from this working tree's files (`.pre-commit-hooks.yaml`,
pyproject.toml, README.md, src/, templates/), committed in tmp_path, rather than this checkout
itself: try-repo clones a repository's HEAD (plus changes to tracked files), so the copy tests
the code as it is now, committed or not. pre-commit then builds its own virtualenv and installs
the hook repository into it with pip, as it would for a user; each try-repo run uses a store of
its own and so installs that environment anew (about 15 s here). PRE_COMMIT_HOME points into
tmp_path, so the user's pre-commit cache is not touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import EXAMPLES, REPO

pytest.importorskip("pre_commit", reason="pre-commit is in the `test` extra")
if shutil.which("git") is None:
    pytest.skip("pre-commit needs git", allow_module_level=True)

CONFIG = """\
[project]
name = "sample"
version = "0"

[tool.unionml-codegen]
app = "digits/app.py"
output = "digits/flyte"
"""


def git(*args: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("precommit-home")
    gitconfig = home / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    return {
        **keep,
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PRE_COMMIT_HOME": str(home / "cache"),
        "PRE_COMMIT_COLOR": "never",
    }


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory, env) -> Path:
    repo = tmp_path_factory.mktemp("hook-repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, repo / name)
    for name in ("src", "templates"):
        shutil.copytree(REPO / name, repo / name, ignore=ignore)
    git("init", "-q", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-q", "-m", "hooks", cwd=repo, env=env)
    return repo


def try_repo(hook_repo: Path, sample: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "unionml-generate-check", "--all-files"],
        cwd=sample, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_hook_passes_on_a_current_project_and_fails_on_a_stale_one(tmp_path, hook_repo, env):
    sample = tmp_path / "sample"
    (sample / "digits").mkdir(parents=True)
    shutil.copy(EXAMPLES / "digits" / "app.py", sample / "digits" / "app.py")
    (sample / "pyproject.toml").write_text(CONFIG)
    generated = subprocess.run(
        [sys.executable, "-m", "unionml_codegen", "generate"], cwd=sample, env=env, capture_output=True, text=True
    )
    assert generated.returncode == 0, generated.stderr
    git("init", "-q", cwd=sample, env=env)
    git("add", "-A", cwd=sample, env=env)
    git("commit", "-q", "-m", "app and its generated project", cwd=sample, env=env)

    current = try_repo(hook_repo, sample, env)
    assert current.returncode == 0, current.stdout + current.stderr
    assert "unionml generate --check" in current.stdout and "Passed" in current.stdout

    app = sample / "digits" / "app.py"
    app.write_text(app.read_text().replace('"C": 1.0', '"C": 2.0'))
    git("commit", "-q", "-am", "edit the app, not the generated project", cwd=sample, env=env)
    stale = try_repo(hook_repo, sample, env)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "Failed" in stale.stdout
    assert "digits/flyte is out of date:" in stale.stdout
    assert "changed: digits/launch_plans.py" in stale.stdout
