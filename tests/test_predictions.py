"""Prediction schedules: unionml's predictions from a vendored model file, integrity checks, and
model versions resolved through a patched FlyteRemote (no cluster is involved in these tests)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import types
from datetime import datetime, timezone
from pathlib import Path

import pytest

from .conftest import EXAMPLES, run_python

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


class FakeRemote:
    """Stands in for flytekit's FlyteRemote: records calls, answers from a table. No cluster."""

    def __init__(self, executions: dict[str, object]):
        self.executions = executions
        self.listed: list[dict] = []
        self.fetched: list[str] = []
        self.client = types.SimpleNamespace(list_executions_paginated=self._list)

    def _list(self, project, domain, limit, filters, sort_by):
        self.listed.append({"project": project, "domain": domain, "limit": limit, "filters": filters, "sort": sort_by})
        newest = types.SimpleNamespace(id=types.SimpleNamespace(name="exec-newest"))
        return [newest], None

    def fetch_execution(self, project, domain, name):
        self.fetched.append(f"{project}/{domain}/{name}")
        return self.executions[name]

    def sync_execution(self, execution):
        return execution


def _execution(model):
    return types.SimpleNamespace(outputs=types.SimpleNamespace(get=lambda name, as_type: {"model_object": model}[name]))


@pytest.fixture
def registry(batch, monkeypatch):
    import flytekit

    execution_id = types.SimpleNamespace(project="ml", domain="production", name="prediction-run")
    monkeypatch.setattr(flytekit, "current_context", lambda: types.SimpleNamespace(execution_id=execution_id))
    return _load_generated(batch, "model_registry")


def test_latest_model_version_with_patched_flyteremote_no_cluster(registry):
    remote = FakeRemote({"exec-newest": _execution("the newest model")})
    plans = ["digits_batch.workflows.digits_classifier_train", "weekly_retraining"]
    model = registry.fetch_model_object("latest", "", launch_plans=plans, model_type=object, remote=remote)
    assert model == "the newest model"
    [listing] = remote.listed
    assert (listing["project"], listing["domain"], listing["limit"]) == ("ml", "production", 1)
    rendered = sorted(f.to_flyte_idl() for f in listing["filters"])
    assert rendered == sorted(["value_in(launch_plan.name,digits_batch.workflows.digits_classifier_train;weekly_retraining)",
                               "eq(phase,SUCCEEDED)"])  # fmt: skip
    assert listing["sort"].key == "created_at"
    assert remote.fetched == ["ml/production/exec-newest"]


def test_latest_model_of_an_app_version_filters_by_launch_plan_version_with_patched_flyteremote(registry):
    remote = FakeRemote({"exec-newest": _execution("m")})
    registry.fetch_model_object("latest", "v7", launch_plans=["weekly_retraining"], model_type=object, remote=remote)
    assert "eq(launch_plan.version,v7)" in [f.to_flyte_idl() for f in remote.listed[0]["filters"]]


def test_named_model_version_fetches_that_execution_with_patched_flyteremote(registry):
    remote = FakeRemote({"abc123": _execution("model of abc123")})
    model = registry.fetch_model_object(
        "abc123", "", launch_plans=["weekly_retraining"], model_type=object, remote=remote
    )
    assert model == "model of abc123"
    assert remote.listed == []
    assert remote.fetched == ["ml/production/abc123"]


def test_fixed_rate_kickoff_reads_scheduled_at_with_patched_flyteremote(batch):
    kickoff = _load_generated(batch, "kickoff")
    scheduled = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)

    def remote_with(value):
        execution = types.SimpleNamespace(
            spec=types.SimpleNamespace(metadata=types.SimpleNamespace(scheduled_at=value))
        )
        return types.SimpleNamespace(client=types.SimpleNamespace(get_execution=lambda execution_id: execution))

    execution_id = types.SimpleNamespace(project="ml", domain="production", name="f3a9")
    assert kickoff.scheduled_at(execution_id, remote=remote_with(scheduled)) == scheduled
    assert kickoff.scheduled_at(execution_id, remote=remote_with(datetime(1970, 1, 1))) is None
    naive = kickoff.scheduled_at(execution_id, remote=remote_with(datetime(2026, 11, 29, 6, 0)))
    assert naive == scheduled and naive.tzinfo is not None


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
