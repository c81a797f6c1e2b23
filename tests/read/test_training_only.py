"""A training-only app whose predictor returns a bare `list` (issue 19, item 7): unionml 0.2.1 trains it
(only its predict workflow fails), so where no schedule predicts the generated project leaves the
predict workflows out with a warning (UMG119); with a prediction schedule it stays an error (UMG113)."""

from __future__ import annotations

import ast
import json

import pytest

from unionml_codegen.diagnostics import AppError
from unionml_codegen.options import Options
from unionml_codegen.generate import generate

from ..helpers import EXAMPLES, run_python
from ..support.flyte_package import flyteadmin_problems, load_entities, package

BARE = "def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> list:"


def _app(tmp_path, extra: str = ""):
    source = (EXAMPLES / "digits" / "app.py").read_text()
    typed = "def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:"
    assert typed in source
    source = source.replace(typed, BARE) + extra
    app = tmp_path / "shop" / "app.py"
    app.parent.mkdir(exist_ok=True)
    app.write_text(source)
    return app, source


def _functions(path) -> list[str]:
    return [node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.FunctionDef)]


def test_a_training_only_app_with_a_bare_list_predictor_generates_without_predict_workflows(tmp_path):
    app, source = _app(tmp_path)
    result = generate(app, tmp_path / "out")
    (warning,) = [d for d in result.diagnostics.items if d.code == "UMG119"]
    assert warning.severity == "warning"
    assert warning.position.line == source.count("\n", 0, source.index(BARE)) + 1
    assert "no schedule predicts with the model 'digits_classifier', so its predict workflows are left out" in (
        warning.message
    )
    functions = _functions(tmp_path / "out" / "shop" / "workflows.py")
    assert "digits_classifier_train" in functions and not [f for f in functions if "predict" in f], functions
    manifest = json.loads((tmp_path / "out" / ".unionml-codegen.json").read_text())
    (model,) = manifest["project"]["models"]
    assert model["prediction_workflow"] is None and model["prediction_workflows"] == []
    entities = load_entities(package(tmp_path / "out", "shop", output=tmp_path / "shop.tgz"))
    assert not [name for name in entities.workflows if "predict" in name]
    for name in ("cron_daily_training", "non_standard_training_schedule", "fixed_rate_training_schedule"):
        assert flyteadmin_problems(entities.launch_plans[name], entities.workflows) == [], name
    generated = run_python(
        "import json\nfrom datetime import datetime\nfrom shop.launch_plans import cron_daily_training\n"
        "print(json.dumps(cron_daily_training(time=datetime(2026, 11, 29)).metrics))",
        cwd=tmp_path / "out",
    )
    oracle = run_python(
        "import json, importlib.util\nfrom datetime import datetime\n"
        "spec = importlib.util.spec_from_file_location('app', 'app.py')\n"
        "app = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(app)\n"
        "_, metrics = app.model.train(hyperparameters=app.HYPERPARAMETERS, time=datetime(2026, 11, 29), labeled=True)\n"
        "print(json.dumps(metrics))",
        cwd=app.parent,
    )
    assert json.loads(generated.stdout.splitlines()[-1]) == json.loads(oracle.stdout.splitlines()[-1])


def test_the_flyte2_target_leaves_the_predict_tasks_out_too(tmp_path):
    app, _ = _app(tmp_path)
    result = generate(app, tmp_path / "out", Options(target="flyte2"))
    assert [d.code for d in result.diagnostics.items if d.code == "UMG119"] == ["UMG119"]
    functions = _functions(tmp_path / "out" / "shop" / "tasks.py")
    assert "digits_classifier_train_task" in functions and not [f for f in functions if "predict" in f], functions


def test_with_a_prediction_schedule_a_bare_list_predictor_stays_an_error(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "model.joblib").write_bytes(b"model")
    app, _ = _app(
        tmp_path,
        '\nmodel.schedule_prediction(name="daily_predictions", expression="0 1 * * *", reader_time_arg="time",'
        ' model_file="model.joblib")\n',
    )
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert error.code == "UMG113"
    assert "returns `list`, which becomes a task output" in error.message


def test_a_training_only_project_is_operated(tmp_path):
    """The manifest records no prediction workflow (null): `unionml schedules` and `unionml run` read it."""
    from ..helpers import run_cli

    app, _ = _app(tmp_path)
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=app.parent).returncode == 0
    listed = run_cli("schedules", "flyte", "--now", "2026-11-29T00:00:00Z", cwd=app.parent)
    assert listed.returncode == 0 and "cron_daily_training" in listed.stdout, listed.stderr
    ran = run_cli("run", "flyte", "cron_daily_training", "--at", "2026-11-29T00:00:00Z", "--json", cwd=app.parent)
    assert ran.returncode == 0, ran.stderr
    assert set(json.loads(ran.stdout)["outputs"]["metrics"]) == {"train", "test"}
