"""Predictor callbacks (`@model.predictor(callbacks=[...])`): the generated predict tasks call each one
with (model_object, features, predictions) after predicting, and log a callback that raises while
keeping the predictions, like unionml 0.2.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from unionml_codegen.generate import generate

from ..helpers import EXAMPLES, run_cli, run_python
from .test_predictions import GENERATED_PREDICTIONS, KICKOFF, UNIONML_PREDICTIONS

CALLBACKS = '''

def record(estimator: LogisticRegression, features: pd.DataFrame, predictions: List[int]) -> None:
    """Writes what it was called with to callback.json in the working directory."""
    Path("callback.json").write_text(json.dumps({"rows": len(features), "predictions": predictions,
                                                 "model": type(estimator).__name__}))


def broken(estimator: LogisticRegression, features: pd.DataFrame, predictions: List[int]) -> None:
    raise ValueError("broken callback")


@model.predictor(callbacks=[record, broken])
'''


def _app_with_callbacks(root: Path) -> None:
    app = (root / "app.py").read_text()
    app = app.replace("import pandas as pd\n", "import json\nfrom pathlib import Path\n\nimport pandas as pd\n")
    app = app.replace("\n\n@model.predictor\n", CALLBACKS)
    (root / "app.py").write_text(app)


@pytest.fixture
def batch(tmp_path) -> Path:
    root = tmp_path / "digits_batch"
    shutil.copytree(EXAMPLES / "digits_batch", root, ignore=shutil.ignore_patterns("flyte"))
    _app_with_callbacks(root)
    generate(root / "app.py", root / "flyte")
    return root


def test_prediction_plan_calls_the_callbacks_and_logs_a_failing_one_like_unionml(batch):
    unionml = run_python(UNIONML_PREDICTIONS.format(kickoff=KICKOFF), cwd=batch)
    generated = run_python(GENERATED_PREDICTIONS.format(kickoff=KICKOFF), cwd=batch / "flyte")
    expected = json.loads(unionml.stdout.splitlines()[-1])
    actual = json.loads(generated.stdout.splitlines()[-1])
    assert len(expected) == 100 and actual == expected
    recorded = json.loads((batch / "flyte" / "callback.json").read_text())
    assert recorded == {"rows": 100, "predictions": expected, "model": "LogisticRegression"}
    assert recorded == json.loads((batch / "callback.json").read_text())  # what unionml's callback saw
    assert "Error in post-prediction callback[broken]: broken callback" in generated.stderr
    assert "Error in post-prediction callback[broken]: broken callback" in unionml.stderr + unionml.stdout


def test_callbacks_are_sliced_into_components_and_called_by_every_predict_task(batch):
    components = (batch / "flyte" / "digits_batch" / "components.py").read_text()
    assert "def record(" in components and "def broken(" in components
    assert "callbacks" not in components  # the decorator is removed
    workflows = (batch / "flyte" / "digits_batch" / "workflows.py").read_text()
    assert workflows.count("after_prediction((record, broken), model_object, features, predictions)") == 2


TRAINING_ONLY = """\
from typing import List

import pandas as pd
from unionml import Dataset, Model

dataset = Dataset(name="d", targets=["y"])
model = Model(name="m", init=dict, dataset=dataset)


def log_predictions(model_object: dict, features: pd.DataFrame, predictions: list) -> None:
    print(len(predictions))


@dataset.reader
def reader(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "y": range(n)})


@model.trainer
def trainer(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:
    return estimator


@model.predictor(callbacks=CALLBACKS)
def predictor(estimator: dict, features: pd.DataFrame) -> List[int]:
    return [0] * len(features)


@model.evaluator
def evaluator(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return 1.0


model.schedule_training("nightly", expression="@daily")
"""


@pytest.mark.parametrize("callbacks", ["[log_predictions]", "(log_predictions,)", "None", "[]"])
def test_an_app_with_callbacks_and_training_schedules_only_generates(tmp_path, callbacks):
    (tmp_path / "app.py").write_text(TRAINING_ONLY.replace("CALLBACKS", callbacks))
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    workflows = (tmp_path / "out" / tmp_path.name / "workflows.py").read_text()
    assert ("after_prediction((log_predictions,)" in workflows) == ("log_predictions" in callbacks)


@pytest.mark.parametrize(
    ("decorator", "message"),
    [
        ("@model.predictor(callbacks=CALLBACK_LIST)", "predictor callbacks must be a list written out in the call"),
        ("@model.predictor(callbacks=[*CALLBACK_LIST])", "predictor callbacks must be a list written out in the call"),
    ],
)
def test_callbacks_the_generator_cannot_read_are_refused_at_the_argument(tmp_path, decorator, message):
    app = TRAINING_ONLY.replace("@model.predictor(callbacks=CALLBACKS)", decorator)
    app = app.replace("@dataset.reader", "CALLBACK_LIST = [log_predictions]\n\n\n@dataset.reader")
    (tmp_path / "app.py").write_text(app)
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and not (tmp_path / "out").exists()
    line = app.splitlines().index(decorator) + 1
    assert f"app.py:{line}:" in result.stderr and message in result.stderr


def test_callbacks_on_the_trainer_are_refused(tmp_path):
    app = TRAINING_ONLY.replace("@model.trainer\n", "@model.trainer(callbacks=[log_predictions])\n")
    (tmp_path / "app.py").write_text(app)
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "unionml's model.trainer takes no callbacks" in result.stderr
