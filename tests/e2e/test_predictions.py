"""Prediction schedules: unionml's predictions from a vendored model file, integrity checks, model loaders.

Model versions resolved from flyteadmin and a fixed-rate run's scheduled time are tested against the
flyteadmin stand-in over gRPC (test_cluster_commands.py, test_flyteadmin_standin.py)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from ..helpers import EXAMPLES, run_python

KICKOFF = "datetime(2026, 11, 29, tzinfo=timezone.utc)"

UNIONML_PREDICTIONS = """
import importlib.util, json
from datetime import datetime, timezone
import unionml.remote
from unionml.model import ModelArtifact
# the app's model_version="latest" schedule asks a cluster for the model at import; answer without one
unionml.remote.get_model_artifact = lambda *args, **kwargs: ModelArtifact(None)
spec = importlib.util.spec_from_file_location("digits_batch_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
app.model.artifact = ModelArtifact(app.model.load("model.joblib"))
print(json.dumps(app.model.predict(time={kickoff}, labeled=False)))
"""

GENERATED_PREDICTIONS = """
import json
from datetime import datetime, timezone
from digits_batch.launch_plans import daily_predictions
print(json.dumps(daily_predictions(time={kickoff})))
"""


@pytest.fixture
def batch(tmp_path) -> Path:
    root = tmp_path / "digits_batch"
    shutil.copytree(EXAMPLES / "digits_batch", root)
    return root


def test_prediction_launch_plan_gives_unionml_predictions(batch):
    expected = json.loads(run_python(UNIONML_PREDICTIONS.format(kickoff=KICKOFF), cwd=batch).stdout.splitlines()[-1])
    actual = json.loads(
        run_python(GENERATED_PREDICTIONS.format(kickoff=KICKOFF), cwd=batch / "flyte").stdout.splitlines()[-1]
    )
    assert len(expected) == 100
    assert actual == expected


def test_one_changed_byte_of_a_vendored_model_fails_the_load_naming_the_file(batch):
    [model_file] = (batch / "flyte" / "digits_batch" / "models").iterdir()
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    model_file.write_bytes(bytes(data))
    result = subprocess.run(
        [sys.executable, "-c", GENERATED_PREDICTIONS.format(kickoff=KICKOFF)],
        cwd=batch / "flyte", capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    assert "ModelFileIntegrityError" in result.stderr
    assert f"model file models/{model_file.name} (from model.joblib) has sha256" in result.stderr


def _load_generated(batch: Path, module: str) -> types.ModuleType:
    path = batch / "flyte" / "digits_batch" / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"generated_{module}", path)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # flytekit's @task looks its module up by name
    spec.loader.exec_module(loaded)
    return loaded


CUSTOM = """\
from datetime import datetime
import pickle

from typing import List

import pandas as pd
from unionml import Dataset, Model


class Lookup:
    def predict(self, features):
        return [0] * len(features)


dataset = Dataset(targets=["y"])
model = Model(dataset=dataset, init=Lookup)


@dataset.reader
def reader(time: datetime) -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0], "y": [0]})


@model.trainer
def trainer(estimator: Lookup, features: pd.DataFrame, target: pd.DataFrame) -> Lookup:
    return estimator


@model.predictor
def predictor(estimator: Lookup, features: pd.DataFrame) -> List[int]:
    return estimator.predict(features)


@model.evaluator
def evaluator(estimator: Lookup, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return 1.0

LOADER

model.schedule_prediction("nightly", expression="@daily", reader_time_arg="time", model_file="lookup.pkl")
"""

OWN_LOADER = """
@model.loader
def load_lookup(file, **kwargs) -> Lookup:
    with open(file, "rb") as handle:
        return pickle.load(handle)
"""


def _custom_app(tmp_path: Path, loader: str) -> Path:
    app = tmp_path / "lookup" / "app.py"
    app.parent.mkdir()
    app.write_text(CUSTOM.replace("LOADER", loader))
    (app.parent / "lookup.pkl").write_bytes(b"not really a pickle")
    return app


def test_an_apps_own_model_loader_is_used_for_model_files(tmp_path):
    from unionml_codegen.generate import render_app

    files = render_app(_custom_app(tmp_path, OWN_LOADER), tmp_path / "out").files
    workflows = files["lookup/workflows.py"]
    assert "components.load_lookup(path, **loader_kwargs)" in workflows
    assert "def load_lookup(file, **kwargs) -> Lookup:" in files["lookup/components.py"]
    assert "load_sklearn" not in files["lookup/model_files.py"]


def test_a_model_type_without_a_known_loader_is_an_error_with_a_hint(tmp_path):
    from unionml_codegen.diagnostics import AppError
    from unionml_codegen.generate import render_app

    app = _custom_app(tmp_path, "")
    with pytest.raises(AppError) as raised:
        render_app(app, tmp_path / "out")
    [error] = raised.value.diagnostics.errors
    assert (
        error.position.line
        == app.read_text()
        .splitlines()
        .index(
            'model.schedule_prediction("nightly", expression="@daily", reader_time_arg="time", model_file="lookup.pkl")'
        )
        + 1
    )
    assert "cannot tell how to load a model of 'model' (Lookup)" in error.message
    assert "register a `@model.loader` function" in error.hint


def test_sklearn_model_files_load_from_model_save_format_or_a_bare_estimator(batch, tmp_path):
    import joblib
    from sklearn.linear_model import LogisticRegression

    model_files = _load_generated(batch, "model_files")
    estimator = LogisticRegression(C=0.5)
    joblib.dump({"model_obj": estimator, "hyperparameters": {"C": 0.5}}, tmp_path / "saved.joblib")
    joblib.dump(estimator, tmp_path / "bare.joblib")
    assert model_files.load_sklearn(str(tmp_path / "saved.joblib")).C == 0.5
    assert model_files.load_sklearn(str(tmp_path / "bare.joblib")).C == 0.5
