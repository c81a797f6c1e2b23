"""A component registered through an attribute unionml 0.2.1 does not have (issue 19, item 6) is an
error at the decorator or call, with the nearest registration as the hint: unionml itself stops with
AttributeError at import, while dropping the function would train with unionml's default component."""

from __future__ import annotations

import subprocess
import sys

import pytest

from unionml_codegen.diagnostics import AppError
from unionml_codegen.generate import render_app

from ..inline_apps import COMPONENTS, HEADER

EXTRA = """

@{target}
def {function}(*args, **kwargs):
    return args
"""


@pytest.mark.parametrize(
    "target, message, hint",
    [
        (
            "dataset.spliter",
            "`@dataset.spliter`: unionml's Dataset has no attribute 'spliter' (unionml stops with AttributeError when "
            "it imports the app)",
            "did you mean `@dataset.splitter`?",
        ),
        (
            "dataset.feature_loadr",
            "`@dataset.feature_loadr`: unionml's Dataset has no attribute 'feature_loadr' (unionml stops with "
            "AttributeError when it imports the app)",
            "did you mean `@dataset.feature_loader`?",
        ),
        (
            "model.evaluate",
            "`@model.evaluate`: unionml's Model has no attribute 'evaluate' (unionml stops with AttributeError when "
            "it imports the app)",
            "did you mean `@model.evaluator`?",
        ),
        (
            "dataset.feature_processor",
            "`@dataset.feature_processor`: unionml's Dataset has no attribute 'feature_processor' (unionml stops "
            "with AttributeError when it imports the app)",
            "did you mean `@dataset.feature_loader`?",
        ),
        (
            "model.train",
            "`@model.train` is not a component registration: Model.train registers no function",
            "did you mean `@model.trainer`?",
        ),
    ],
)
def test_a_registration_through_an_attribute_unionml_lacks_is_an_error_at_the_decorator(
    tmp_path, target, message, hint
):
    app = tmp_path / "app.py"
    source = HEADER + COMPONENTS + EXTRA.format(target=target, function="custom")
    app.write_text(source)
    with pytest.raises(AppError) as raised:
        render_app(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert (error.code, error.message, error.hint) == ("UMG118", message, hint)
    assert error.position.line == source.count("\n", 0, source.index(f"@{target}\n")) + 1
    assert error.position.column == 1


def test_a_registration_call_through_an_attribute_unionml_lacks_is_an_error_at_the_call(tmp_path):
    app = tmp_path / "app.py"
    source = HEADER + COMPONENTS + "\n\ndef split(data):\n    return data, data\n\n\ndataset.spliter(split)\n"
    app.write_text(source)
    with pytest.raises(AppError) as raised:
        render_app(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert error.code == "UMG118" and error.hint == "did you mean `dataset.splitter`?"
    assert error.message.startswith("`dataset.spliter`: unionml's Dataset has no attribute 'spliter'")
    assert error.position.line == source.count("\n") and error.position.column == 1


def test_unionml_itself_refuses_such_an_app_at_import(tmp_path):
    """The premise: unionml 0.2.1 does not run an app with `@dataset.spliter`."""
    (tmp_path / "app.py").write_text(HEADER + COMPONENTS + EXTRA.format(target="dataset.spliter", function="custom"))
    result = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    assert "AttributeError: 'Dataset' object has no attribute 'spliter'" in result.stderr


def test_the_real_registrations_and_methods_are_still_read(tmp_path):
    app = tmp_path / "app.py"
    source = HEADER + COMPONENTS + EXTRA.format(target="dataset.splitter", function="split")
    app.write_text(source + "\nmodel.train(hyperparameters={})\nprint(model.predict_workflow_name)\n")
    result = render_app(app, tmp_path / "out")
    assert not result.diagnostics.errors
    (components,) = [text for path, text in result.files.items() if path.endswith("/components.py")]
    assert "def split(" in components
