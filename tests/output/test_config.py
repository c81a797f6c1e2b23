"""Where `unionml generate` takes its app, output and options from: `[tool.unionml-codegen]` in
pyproject.toml, the command line over it, and the manifests of generated projects."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import pytest

from unionml_codegen.config import ConfigError, Settings, find_pyproject, load_config, resolve
from unionml_codegen.options import Options
from unionml_codegen.generate import provenance
from unionml_codegen.output import MANIFEST

from ..helpers import EXAMPLES, read_tree
from .test_write import edit_app, invoke

CONFIG = """\
[project]
name = "digits-app"

[tool.unionml-codegen]
app = "digits/app.py"
output = "digits/flyte"
image = "registry.example.com/digits:1"
"""


@pytest.fixture
def repo(tmp_path) -> Path:
    """A project with the digits app and its config in pyproject.toml (no pyproject.toml above it)."""
    if find_pyproject(tmp_path) is not None:
        pytest.skip(f"a pyproject.toml above {tmp_path} would be found first")
    (tmp_path / "digits").mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "digits" / "app.py")
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    return tmp_path


def manifest(out: Path) -> dict:
    return json.loads((out / MANIFEST).read_text())


# pyproject.toml


def test_no_arguments_take_app_output_and_options_from_pyproject(repo):
    result = invoke(repo, "generate")
    assert result.exit_code == 0, result.stderr
    out = repo / "digits" / "flyte"
    assert manifest(out)["app"] == "../app.py"
    assert manifest(out)["options"]["image"] == "registry.example.com/digits:1"
    assert invoke(repo, "generate", "--check").exit_code == 0
    # from a directory below, the nearest pyproject.toml upward is used; paths stay relative to it
    below = repo / "digits" / "flyte" / "digits"
    assert invoke(below, "generate", "--check").exit_code == 0
    edit_app(repo / "digits", '"C": 1.0', '"C": 2.0')
    stale = invoke(below, "generate", "--check")
    assert stale.exit_code == 1
    assert "changed: digits/launch_plans.py" in stale.stderr
    assert "run: unionml generate\n" in stale.stderr


def test_the_command_line_overrides_pyproject(repo):
    assert invoke(repo, "generate").exit_code == 0
    other_image = invoke(repo, "generate", "--check", "--image", "registry.example.com/digits:2")
    assert other_image.exit_code == 1
    assert f"changed: {MANIFEST}" in other_image.stderr
    assert "run: unionml generate --image registry.example.com/digits:2" in other_image.stderr
    # -o elsewhere: the app (and image) still come from the config
    assert invoke(repo, "generate", "-o", "elsewhere").exit_code == 0
    assert manifest(repo / "elsewhere")["app"] == "../digits/app.py"
    assert manifest(repo / "elsewhere")["options"]["image"] == "registry.example.com/digits:1"
    # the same app named on the command line: the config still applies
    assert invoke(repo / "digits", "generate", "app.py", "--check").exit_code == 0
    assert (repo / "digits" / "flyte" / "digits" / "workflows.py").is_file()


def test_a_different_app_on_the_command_line_does_not_use_the_config(repo):
    (repo / "other").mkdir()
    shutil.copy(repo / "digits" / "app.py", repo / "other" / "app.py")
    missing = invoke(repo, "generate", "other/app.py")
    assert missing.exit_code == 2
    assert "error: no output directory for other/app.py: pass -o OUT_DIR" in missing.stderr
    assert invoke(repo, "generate", "other/app.py", "-o", "other/flyte").exit_code == 0
    assert manifest(repo / "other" / "flyte")["options"] == {
        "image": "ghcr.io/your-org/your-app:latest",
        "models": {},
        "package": "other",
    }


def test_model_paths_in_pyproject_are_relative_to_it(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.unionml-codegen]\napp = "app.py"\noutput = "flyte"\n'
        '[tool.unionml-codegen.models]\ndaily_predictions = "models/model.joblib"\n'
    )
    config = load_config(tmp_path / "pyproject.toml")
    assert config.models == {"daily_predictions": tmp_path / "models" / "model.joblib"}
    assert config.app == tmp_path / "app.py" and config.output == tmp_path / "flyte"
    (target,) = resolve(Settings(), cwd=tmp_path / "sub")
    assert (target.app, target.output) == (Path("../app.py"), Path("../flyte"))
    assert target.models == {"daily_predictions": "../models/model.joblib"}
    (target,) = resolve(Settings(models={"daily_predictions": Path("m.joblib")}), cwd=tmp_path / "sub")
    assert target.models == {"daily_predictions": "m.joblib"}  # the command line wins, relative to the cwd


def test_the_manifest_records_model_paths_relative_to_the_output(tmp_path):
    options = Options(models={"daily_predictions": str(tmp_path / "models" / "m.joblib")})
    recorded = provenance({"a.py": "x = 1\n"}, "../app.py", tmp_path / "flyte", options, "digits")
    assert recorded["options"]["models"] == {"daily_predictions": "../models/m.joblib"}
    assert str(tmp_path) not in json.dumps(recorded)


@pytest.mark.parametrize(
    "table, message",
    [
        ('[tool.unionml-codegen]\napp = "app.py"\nouptut = "flyte"\n', "unknown key ouptut"),
        ("[tool.unionml-codegen]\napp = 3\n", "app must be a non-empty string"),
        ('[tool.unionml-codegen]\nmodels = ["a"]\n', "models must be a table"),
        ('[tool.unionml-codegen]\napp = "app.py\n', "not valid TOML"),
    ],
)
def test_a_bad_config_is_exit_2_naming_the_file(tmp_path, table, message):
    (tmp_path / "pyproject.toml").write_text(table)
    result = invoke(tmp_path, "generate", "--check")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'pyproject.toml'}")
    assert message in result.stderr


def test_a_pyproject_without_the_table_is_no_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(tmp_path / "pyproject.toml") is None
    result = invoke(tmp_path, "generate")
    assert result.exit_code == 2
    assert "nothing to generate" in result.stderr and "[tool.unionml-codegen]" in result.stderr


def test_tomli_is_the_fallback_and_neither_is_a_clear_error(tmp_path, monkeypatch):
    tomllib = pytest.importorskip("tomllib")
    (tmp_path / "pyproject.toml").write_text('[tool.unionml-codegen]\napp = "app.py"\n')
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10
    monkeypatch.setitem(sys.modules, "tomli", types.SimpleNamespace(loads=tomllib.loads, TOMLDecodeError=ValueError))
    assert load_config(tmp_path / "pyproject.toml").app == tmp_path / "app.py"
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(ConfigError, match="needs Python 3.11 or newer, or the tomli package: pip install tomli"):
        load_config(tmp_path / "pyproject.toml")


# the manifest of a generated project names its app


@pytest.fixture
def app_dir(tmp_path) -> Path:
    if find_pyproject(tmp_path) is not None:
        pytest.skip(f"a pyproject.toml above {tmp_path} would be found first")
    (tmp_path / "digits").mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "digits" / "app.py")
    return tmp_path / "digits"


def test_check_with_no_arguments_finds_the_app_from_the_manifest(app_dir):
    assert invoke(app_dir, "generate", "app.py", "-o", "flyte", "--image", "example.com/img:7").exit_code == 0
    current = invoke(app_dir, "generate", "--check")
    assert current.exit_code == 0, current.stderr  # the recorded options (the image) are used
    assert "flyte is up to date" in current.stderr
    assert invoke(app_dir / "flyte", "generate", "--check").exit_code == 0  # from OUT itself too
    assert invoke(app_dir.parent, "generate", "-o", "digits/flyte", "--check").exit_code == 0
    edit_app(app_dir, '"C": 1.0', '"C": 2.0')
    stale = invoke(app_dir, "generate", "--check")
    assert stale.exit_code == 1
    assert "flyte is out of date" in stale.stderr and "run: unionml generate\n" in stale.stderr
    written = invoke(app_dir, "generate")
    assert written.exit_code == 0, written.stderr
    assert json.loads((app_dir / "flyte" / MANIFEST).read_text())["options"]["image"] == "example.com/img:7"
    assert invoke(app_dir, "generate", "--check").exit_code == 0


def test_naming_the_app_again_keeps_the_options_its_project_was_generated_with(tmp_path):
    # the seed guide's prediction schedules need `--model` bindings; a later run that names the app and
    # OUT but not the bindings (as a pre-commit hook written by hand would) reuses those in the manifest
    (tmp_path / "guide").mkdir()
    for name in ("app.py", "model.joblib"):
        shutil.copy(EXAMPLES / "seed_guide" / name, tmp_path / "guide" / name)
    app_dir = tmp_path / "guide"
    bindings = [f"--model={name}=model.joblib" for name in
                ("daily_predictions", "daily_predictions_with_model_object", "daily_predictions_with_model_file")]
    assert invoke(app_dir, "generate", "app.py", "-o", "flyte", *bindings).exit_code == 0
    again = invoke(app_dir, "generate", "app.py", "-o", "flyte", "--check")
    assert again.exit_code == 0, again.stderr
    assert "flyte is up to date" in again.stderr
    # another app's manifest is not used: its bindings do not reach this app
    shutil.copy(EXAMPLES / "seed_guide" / "app.py", app_dir / "other.py")
    other = invoke(app_dir, "generate", "other.py", "-o", "flyte", "--check")
    assert other.exit_code == 2 and "cannot know the model of prediction schedule" in other.stderr


def test_several_generated_projects_are_all_checked(app_dir):
    assert invoke(app_dir, "generate", "app.py", "-o", "flyte").exit_code == 0
    assert invoke(app_dir, "generate", "app.py", "-o", "other", "--package", "digits2").exit_code == 0
    assert invoke(app_dir, "generate", "--check").exit_code == 0
    (app_dir / "other" / "digits2" / "workflows.py").unlink()
    before = read_tree(app_dir)
    result = invoke(app_dir, "generate", "--check")
    assert result.exit_code == 1
    assert "flyte is up to date" in result.stderr
    assert "other is out of date:\nmissing: digits2/workflows.py" in result.stderr
    assert read_tree(app_dir) == before
    assert invoke(app_dir, "generate").exit_code == 0
    assert (app_dir / "other" / "digits2" / "workflows.py").is_file()


def test_no_app_anywhere_is_exit_2_with_a_hint(tmp_path):
    if find_pyproject(tmp_path) is not None:
        pytest.skip(f"a pyproject.toml above {tmp_path} would be found first")
    (tmp_path / "empty").mkdir()
    result = invoke(tmp_path, "generate", "--check")
    assert result.exit_code == 2
    assert "nothing to generate: give the app and the output directory (unionml generate APP.py -o OUT_DIR)" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    no_manifest = invoke(tmp_path, "generate", "-o", "empty", "--check")
    assert no_manifest.exit_code == 2
    assert f"empty/{MANIFEST} does not name one" in no_manifest.stderr


def test_the_help_explains_where_app_and_output_come_from(tmp_path):
    result = invoke(tmp_path, "generate", "--help")
    assert result.exit_code == 0
    assert "Usage: unionml generate [OPTIONS] [APP]" in result.stdout
    assert "pyproject.toml" in result.stdout and ".unionml-codegen.json" in result.stdout
