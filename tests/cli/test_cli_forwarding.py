"""Issue 21, item 4: `unionml` is both programs. Commands this one does not define go to unionml 0.2.1's own
CLI; a shared name given an app the way unionml takes it (`app.py`, `app:model`) goes there too, a generated
project's directory stays here; `unionml-codegen` is this program under a name no other package installs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from unionml_codegen import cli

from ..helpers import EXAMPLES, run_cli

BIN = Path(sys.executable).parent


def test_unionml_s_own_commands_are_forwarded_to_it(tmp_path):
    serve = run_cli("serve", "--help", cwd=tmp_path)
    assert serve.returncode == 0 and "Serve an unionml model using uvicorn" in serve.stdout, serve.stderr
    train = run_cli("train", "--help", cwd=tmp_path)
    assert train.returncode == 0 and "Train a model" in train.stdout, train.stderr


def test_a_shared_name_goes_by_what_its_argument_is(tmp_path):
    shutil.copytree(EXAMPLES / "digits", tmp_path / "digits", ignore=shutil.ignore_patterns("flyte2"))
    theirs = run_cli("deploy", "app.py", "--help", cwd=tmp_path / "digits")
    assert theirs.returncode == 0 and "--allow-uncommitted" in theirs.stdout, theirs.stderr
    theirs = run_cli("activate-schedules", "app:model", "--help", cwd=tmp_path / "digits")
    assert theirs.returncode == 0 and "--app-version" in theirs.stdout
    # a path is not unionml's form (it takes module:variable and would crash splitting it): a hint, exit 2
    path = run_cli("deploy", "app.py", cwd=tmp_path / "digits")
    assert path.returncode == 2 and "Traceback" not in path.stderr, path.stderr
    assert "takes the app as module:variable" in path.stderr and "unionml generate app.py -o flyte" in path.stderr
    assert path.stderr.splitlines()[0].endswith("]")  # an operate error's code
    ours = run_cli("deploy", "flyte", "--help", cwd=tmp_path / "digits")
    assert ours.returncode == 0 and "--no-schedule" in ours.stdout and "--allow-uncommitted" not in ours.stdout


def test_without_unionml_the_forms_it_takes_get_a_hint(monkeypatch):
    monkeypatch.setattr(cli, "_unionml_installed", lambda: False)
    result = CliRunner().invoke(cli.main, ["deploy", "app.py"])
    assert result.exit_code == 2 and "unionml generate app.py -o flyte" in result.output
    result = CliRunner().invoke(cli.main, ["serve", "--help"])
    assert result.exit_code == 2 and "pip install unionml==0.2.1" in result.output


@pytest.mark.parametrize("words, expected", [
    (["app.py"], True), (["app:model"], True), (["-p", "x", "main.py"], True),
    (["flyte"], False), ([], False), (["--help"], False), (["flyte", "main.py"], False),
])  # fmt: skip
def test_what_counts_as_an_app_in_unionml_s_form(tmp_path, monkeypatch, words, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flyte").mkdir()
    (tmp_path / "flyte" / ".unionml-codegen.json").write_text("{}")
    assert cli._unionml_style_app(words) is expected


def test_the_version_says_which_program_answers_and_the_other_name_always_works(tmp_path):
    version = run_cli("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("unionml-codegen ")
    assert "unionml 0.2.1" in version.stdout
    import subprocess

    other = subprocess.run([str(BIN / "unionml-codegen"), "generate", "--help"], capture_output=True, text=True)
    assert other.returncode == 0 and "Generate a Flyte project" in other.stdout
