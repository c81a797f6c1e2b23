"""Issue 21, item 5: the app's `model.remote(project=..., domain=..., config_file=...)` is read without running
the app (read/remote_settings.py), recorded in the manifest's `remote` section, and `project`/`domain` of
`[tool.unionml-codegen]` in its `options`; what cannot be read is a warning (UMG770), two models naming different
projects an error (UMG771), a configuration naming another project than the app a warning (UMG772)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from unionml_codegen.config import ConfigError, Settings, load_config, resolve
from unionml_codegen.diagnostics import AppError
from unionml_codegen.generate import render_app
from unionml_codegen.options import Options

from ..helpers import EXAMPLES, REPO


def _app(tmp_path: Path, tail: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    app = tmp_path / "app.py"
    app.write_text((EXAMPLES / "digits" / "app.py").read_text() + "\n" + tail)
    return app


def _render(tmp_path: Path, tail: str, options: Options = Options()):
    result = render_app(_app(tmp_path, tail), tmp_path / "flyte", options)
    manifest = json.loads(result.files[".unionml-codegen.json"])
    return manifest, [(d.code, d.severity, d.message) for d in result.diagnostics if d.code >= "UMG769"]


def test_a_constant_project_domain_and_config_file_are_recorded(tmp_path):
    manifest, reported = _render(tmp_path, 'PROJECT = "digits"\nmodel.remote(dockerfile="Dockerfile", '
                                 'project=PROJECT, domain="staging", config_file="flyte.yaml")\n')  # fmt: skip
    assert manifest["remote"] == {"project": "digits", "domain": "staging", "config_file": "flyte.yaml"}
    assert reported == []
    readme = render_app(tmp_path / "app.py", tmp_path / "flyte").files["README.md"]
    assert "\npyflyte register -p digits -d staging --image " in readme  # where `unionml deploy` registers too


def test_an_app_without_model_remote_records_nothing(tmp_path):
    manifest, reported = _render(tmp_path, "")
    assert "remote" not in manifest and reported == []
    assert "project" not in manifest["options"] and "domain" not in manifest["options"]


def test_a_later_call_replaces_everything_an_earlier_one_set_as_in_unionml(tmp_path):
    manifest, _ = _render(tmp_path, 'model.remote(project="a", domain="staging")\nmodel.remote(domain="production")\n')
    assert manifest["remote"] == {"domain": "production"}  # unionml's Model.remote sets every attribute again
    manifest, _ = _render(tmp_path, 'model.remote(project="a")\nmodel.remote(dockerfile="Dockerfile")\n')
    assert "remote" not in manifest


def test_positional_arguments_follow_unionmls_signature(tmp_path):
    manifest, _ = _render(tmp_path, 'model.remote(None, None, "Dockerfile", "/root", "cfg.yaml", "digits", "prod")\n')
    assert manifest["remote"] == {"project": "digits", "domain": "prod", "config_file": "cfg.yaml"}


def test_a_call_that_does_not_run_at_import_is_not_read_and_one_that_may_not_run_is_a_warning(tmp_path):
    manifest, reported = _render(tmp_path, 'if __name__ == "__main__":\n    model.remote(project="x")\n\n'
                                 'def deploy():\n    model.remote(project="y")\n')  # fmt: skip
    assert "remote" not in manifest and reported == []
    manifest, reported = _render(tmp_path, 'import os\nif os.environ.get("CI"):\n    model.remote(project="x")\n')
    assert "remote" not in manifest
    assert reported == [("UMG770", "warning", "model.remote(...) is inside an `if` block: the generator does not "
                                              "record where it deploys")]  # fmt: skip


def test_a_project_given_as_an_expression_is_a_warning_and_recorded_as_unread(tmp_path):
    tail = (
        'import os\nfrom pathlib import Path\nmodel.remote(project=os.environ["FLYTE_PROJECT"], domain="development",'
        ' config_file=str(Path.home() / ".flyte" / "config.yaml"))\n'
    )  # fmt: skip (unionml's template)
    manifest, reported = _render(tmp_path, tail)
    assert manifest["remote"] == {"domain": "development", "unread": ["project"]}
    assert reported == [
        (
            "UMG770",
            "warning",
            "model.remote(...): the generator cannot read project= (this subscript "
            "cannot be evaluated without running the app), so the project does not record the project "
            "unionml would deploy to",
        )
    ]  # fmt: skip (config_file=: never read, so not reported)


def test_a_value_that_is_not_a_name_is_a_warning(tmp_path):
    manifest, reported = _render(tmp_path, 'model.remote(project=42, domain=" staging")\n')
    assert "remote" in manifest and manifest["remote"] == {"unread": ["project", "domain"]}
    assert [code for code, _, _ in reported] == ["UMG770", "UMG770"]
    assert reported[0][2] == "model.remote(...): project=42 is not a Flyte project"


def test_an_unknown_parameter_is_an_error_as_unionml_raises_at_import(tmp_path):
    with pytest.raises(AppError) as raised:
        _render(tmp_path, 'model.remote(projects="digits")\n')
    assert [(d.code, d.message) for d in raised.value.diagnostics.errors] == [
        ("UMG105", "model.remote(...) has no parameter 'projects'")
    ]


SECOND = """
second = Model(name="second_classifier", init=LogisticRegression, dataset=dataset)
second.trainer(trainer)
second.predictor(predictor)
second.evaluator(evaluator)
"""


def test_two_models_naming_different_projects_is_an_error_and_the_same_one_is_not(tmp_path):
    same = SECOND + 'model.remote(project="digits")\nsecond.remote(project="digits", domain="staging")\n'
    manifest, reported = _render(tmp_path, same)
    assert manifest["remote"] == {"project": "digits", "domain": "staging"} and reported == []
    with pytest.raises(AppError) as raised:
        _render(tmp_path, SECOND + 'model.remote(project="digits")\nsecond.remote(project="vision")\n')
    line = (tmp_path / "app.py").read_text().splitlines().index('model.remote(project="digits")') + 1
    assert [(d.code, d.message) for d in raised.value.diagnostics.errors] == [
        ("UMG771", f"second.remote(...) gives project='vision', and model.remote(...) (line {line}) project='digits': "
         "the generated project registers every model of the app in one Flyte project and domain")
    ]  # fmt: skip


def test_project_and_domain_of_the_configuration_are_recorded_and_one_the_app_contradicts_is_a_warning(tmp_path):
    manifest, reported = _render(tmp_path, "", Options(project="ml-team", domain="staging"))
    assert manifest["options"]["project"] == "ml-team" and manifest["options"]["domain"] == "staging"
    assert reported == []
    readme = render_app(tmp_path / "app.py", tmp_path / "flyte", Options(project="ml-team")).files["README.md"]
    assert "\npyflyte register -p ml-team --image " in readme
    assert "\npyflyte register --image " in render_app(tmp_path / "app.py", tmp_path / "flyte").files["README.md"]
    manifest, reported = _render(tmp_path, 'model.remote(project="digits", domain="staging")\n',
                                 Options(project="ml-team", domain="staging"))  # fmt: skip
    assert manifest["remote"]["project"] == "digits" and manifest["options"]["project"] == "ml-team"
    assert reported == [("UMG772", "warning", "model.remote(...) gives project='digits', and [tool.unionml-codegen] "
                         "project = 'ml-team': the operate commands use the app's 'digits'")]  # fmt: skip


def test_the_configuration_table_takes_project_and_domain_as_strings(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.unionml-codegen]\napp = "app.py"\noutput = "flyte"\nproject = "ml-team"\n')
    assert load_config(pyproject).project == "ml-team" and load_config(pyproject).domain is None
    _app(tmp_path, "")
    pyproject.write_text('[tool.unionml-codegen]\napp = "app.py"\noutput = "flyte"\nproject = "ml-team"\n')
    [job] = resolve(Settings(), cwd=tmp_path)
    assert (job.options().project, job.options().domain) == ("ml-team", None)
    pyproject.write_text("[tool.unionml-codegen]\ndomain = 3\n")
    with pytest.raises(ConfigError) as raised:
        load_config(pyproject)
    assert raised.value.code.code == "UMG703" and "domain must be a non-empty string" in raised.value.message


def test_the_documented_examples_are_what_generate_prints(tmp_path):
    """docs/errors.md shows UMG770 and UMG772 on the apps below; the messages there are the generator's."""
    errors = (REPO / "docs" / "errors.md").read_text()
    tail = 'import os\nmodel.remote(project=os.environ["FLYTE_PROJECT"], domain="development")\n'
    _, reported = _render(tmp_path, tail)
    [(_, _, message)] = reported
    assert f"warning: {message} [UMG770]" in errors
    wine = tmp_path / "wine"
    shutil.copytree(REPO / "tests" / "apps" / "wine_project", wine)
    result = render_app(wine / "app.py", wine / "flyte", Options(project="ml-team"))
    [diagnostic] = [d for d in result.diagnostics if d.code == "UMG772"]
    shown = f"app.py:{diagnostic.position.line}:{diagnostic.position.column}: warning: {diagnostic.message} [UMG772]"
    assert shown in errors
