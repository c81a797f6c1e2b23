"""Names the app gives never collide with the generated project's (issue 13 item 8): models or
datasets whose names give one identifier, schedule names equal to what launch_plans.py imports,
reader and trainer parameters named like generated identifiers, the app's own `import datetime`.
Each case either generates a project that packages and whose plans stay distinct and run, or is
refused with a diagnostic at the app's line."""

from __future__ import annotations

import ast
import json

import pytest

from ..helpers import run_cli, run_python
from ..support.flyte_package import package

TWO_MODELS = """\
from typing import List

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from unionml import Dataset, Model

dataset = Dataset(name="DATASET_A", targets=["target"])
other_dataset = Dataset(name="DATASET_B", targets=["target"])
linear = Model(name="MODEL_A", init=LogisticRegression, dataset=dataset)
tree = Model(name="MODEL_B", init=DecisionTreeClassifier, dataset=other_dataset)


@dataset.reader
def reader(rows: int = 300) -> pd.DataFrame:
    return load_digits(as_frame=True).frame.iloc[:rows]


@other_dataset.reader
def other_reader(rows: int = 200) -> pd.DataFrame:
    return load_digits(as_frame=True).frame.iloc[-rows:]


@linear.trainer
def linear_trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return estimator.fit(features, target.squeeze())


@tree.trainer
def tree_trainer(estimator: DecisionTreeClassifier, features: pd.DataFrame, target: pd.DataFrame) -> DecisionTreeClassifier:
    return estimator.fit(features, target.squeeze())


@linear.predictor
def linear_predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    return [int(x) for x in estimator.predict(features)]


@tree.predictor
def tree_predictor(estimator: DecisionTreeClassifier, features: pd.DataFrame) -> List[int]:
    return [int(x) for x in estimator.predict(features)]


@linear.evaluator
def linear_evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(estimator.score(features, target.squeeze()))


@tree.evaluator
def tree_evaluator(estimator: DecisionTreeClassifier, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(estimator.score(features, target.squeeze()))


linear.schedule_training("linear_nightly", expression="@daily", hyperparameters={"max_iter": 500})
tree.schedule_training("tree_nightly", expression="@daily", hyperparameters={"max_depth": 3, "random_state": 0})
"""

RUN_BOTH = """
import json
from {pkg}.launch_plans import linear_nightly, tree_nightly
a, b = linear_nightly(), tree_nightly()
print(json.dumps({{"linear": type(a.model_object).__name__, "tree": type(b.model_object).__name__,
                  "depth": b.model_object.get_depth(), "rows": [a.metrics["train"] > 0, b.metrics["train"] > 0]}}))
"""


def _plan_workflows(launch_plans: str) -> dict[str, str]:
    """Launch plan variable -> the workflow it runs, read from launch_plans.py."""
    found = {}
    for statement in ast.parse(launch_plans).body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            found[statement.targets[0].id] = ast.unparse(statement.value.args[0])
    return found


@pytest.mark.parametrize(
    "model_names, dataset_names",
    [
        (("digits_classifier", "digits_classifier"), ("digits", "digits")),
        (("Digits-Classifier", "digits_classifier"), ("Digits Data", "digits-data")),
    ],
)
def test_models_and_datasets_whose_names_give_one_identifier_get_numbered_names(tmp_path, model_names, dataset_names):
    app = TWO_MODELS.replace("MODEL_A", model_names[0]).replace("MODEL_B", model_names[1])
    app = app.replace("DATASET_A", dataset_names[0]).replace("DATASET_B", dataset_names[1])
    (tmp_path / "app.py").write_text(app)
    out = tmp_path / "out"
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    model_line = app.splitlines().index(next(line for line in app.splitlines() if line.startswith("tree = "))) + 1
    assert f"app.py:{model_line}:" in result.stderr
    assert "give the same identifier 'digits_classifier'" in result.stderr
    assert "generated tasks and workflows are named 'digits_classifier_2_...'" in result.stderr
    assert "reader task is named" in result.stderr
    pkg = tmp_path.name
    plans = _plan_workflows((out / pkg / "launch_plans.py").read_text())
    assert plans == {
        "linear_nightly": "workflows.digits_classifier_train",
        "tree_nightly": "workflows.digits_classifier_2_train",
    }
    package(out, pkg)
    ran = json.loads(run_python(RUN_BOTH.format(pkg=pkg), cwd=out).stdout.splitlines()[-1])
    assert ran == {"linear": "LogisticRegression", "tree": "DecisionTreeClassifier", "depth": 3, "rows": [True, True]}


PARAMETERS = """\
import datetime
from datetime import timedelta
from typing import List

import pandas as pd
from unionml import Dataset, Model

dataset = Dataset(name="data", targets=["y"])
model = Model(name="model", init=dict, dataset=dataset)


@dataset.reader
def reader(time: datetime.datetime, kickoff: int = 1, components: int = 2, data: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"x": [time.day, kickoff, components, data] * 5, "y": [0, 1, 0, 1] * 5})


@model.trainer
def trainer(estimator: dict, features: pd.DataFrame, target: pd.DataFrame, *, splits: int = 4,
            parsed: str = "p", metrics: float = 0.5) -> dict:
    return {"splits": splits, "parsed": parsed, "metrics": metrics, "x": sorted(set(features["x"]))}


@model.predictor
def predictor(estimator: dict, features: pd.DataFrame) -> List[int]:
    return [0] * len(features)


@model.evaluator
def evaluator(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return 1.0


model.schedule_training("every_hour", fixed_rate=timedelta(hours=1), reader_time_arg="time",
                        trainer_kwargs={"splits": 7, "parsed": "q"}, kickoff=10, components=20, data=30)
model.schedule_training("workflows", expression="@daily", reader_time_arg="time")
model.schedule_training("timedelta", expression="@hourly", reader_time_arg="time")
model.schedule_training("datetime", expression="@weekly", reader_time_arg="time")
model.schedule_training("date", expression="@monthly", reader_time_arg="time")
"""

RUN_PARAMETERS = """
import json
from datetime import datetime, timezone
from {pkg} import launch_plans
outputs = launch_plans.every_hour(kickoff_time=datetime(2026, 11, 29, tzinfo=timezone.utc))
daily = launch_plans.workflows_2(time=datetime(2026, 11, 5, tzinfo=timezone.utc))
print(json.dumps({{"every_hour": outputs.model_object, "daily": daily.model_object,
                  "names": sorted(p.name for p in vars(launch_plans).values() if type(p).__name__ == "LaunchPlan")}}))
"""


def test_parameters_and_schedule_names_like_generated_names_and_import_datetime(tmp_path):
    (tmp_path / "app.py").write_text(PARAMETERS)
    out = tmp_path / "out"
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    pkg = tmp_path.name
    plans = _plan_workflows((out / pkg / "launch_plans.py").read_text())
    assert set(plans) == {"every_hour", "workflows_2", "timedelta_2", "datetime_2", "date_2"}
    package(out, pkg)
    ran = json.loads(run_python(RUN_PARAMETERS.format(pkg=pkg), cwd=out).stdout.splitlines()[-1])
    assert ran["every_hour"] == {"splits": 7, "parsed": "q", "metrics": 0.5, "x": [10, 20, 29, 30]}
    assert ran["daily"] == {"splits": 4, "parsed": "p", "metrics": 0.5, "x": [1, 2, 3, 5]}
    assert ran["names"] == ["date", "datetime", "every_hour", "timedelta", "workflows"]


@pytest.mark.parametrize(
    "name", ["hyperparameters", "loader_kwargs", "model_file", "model_version", "app_version", "kickoff_time"]
)
@pytest.mark.parametrize("where", ["reader", "trainer"])
def test_a_parameter_named_like_a_workflow_input_is_an_error_at_the_parameter(tmp_path, name, where):
    if where == "reader":
        app = PARAMETERS.replace("data: int = 3)", f"data: int = 3, {name}: int = 0)")
        line = next(n for n, text in enumerate(app.splitlines(), 1) if text.startswith("def reader("))
    else:
        app = PARAMETERS.replace("metrics: float = 0.5)", f"metrics: float = 0.5, {name}: int = 0)")
        line = next(n for n, text in enumerate(app.splitlines(), 1) if f"{name}: int = 0)" in text)
    app += 'model.schedule_prediction("predictions", expression="@daily", reader_time_arg="time", model_version="latest")\n'
    (tmp_path / "app.py").write_text(app)
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and not (tmp_path / "out").exists()
    assert f"app.py:{line}:" in result.stderr
    assert f"the {where} parameter '{name}' would become a workflow input" in result.stderr
    assert "rename the parameter" in result.stderr


def test_a_trainer_keyword_only_parameter_named_like_a_reader_parameter_is_an_error(tmp_path):
    app = PARAMETERS.replace("metrics: float = 0.5)", "metrics: float = 0.5, data: int = 0)")
    (tmp_path / "app.py").write_text(app)
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "the trainer's keyword-only parameter 'data' has the name of a reader parameter" in result.stderr


def test_inputs_a_model_never_gets_do_not_clash(tmp_path):
    # no prediction schedule and no fixed-rate schedule: no workflow has model_file or kickoff_time
    app = PARAMETERS.replace("data: int = 3)", "data: int = 3, model_file: str = 'm', kickoff_time: int = 0)")
    app = (
        app.split('model.schedule_training("every_hour"')[0]
        + 'model.schedule_training("daily", expression="@daily", reader_time_arg="time")\n'
    )
    (tmp_path / "app.py").write_text(app)
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
