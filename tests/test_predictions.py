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
    model = registry.fetch_model_object("abc123", "", launch_plans=["weekly_retraining"], model_type=object, remote=remote)
    assert model == "model of abc123"
    assert remote.listed == []
    assert remote.fetched == ["ml/production/abc123"]


def test_fixed_rate_kickoff_reads_scheduled_at_with_patched_flyteremote(batch):
    kickoff = _load_generated(batch, "kickoff")
    scheduled = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)

    def remote_with(value):
        execution = types.SimpleNamespace(spec=types.SimpleNamespace(metadata=types.SimpleNamespace(scheduled_at=value)))
        return types.SimpleNamespace(client=types.SimpleNamespace(get_execution=lambda execution_id: execution))

    execution_id = types.SimpleNamespace(project="ml", domain="production", name="f3a9")
    assert kickoff.scheduled_at(execution_id, remote=remote_with(scheduled)) == scheduled
    assert kickoff.scheduled_at(execution_id, remote=remote_with(datetime(1970, 1, 1))) is None
    naive = kickoff.scheduled_at(execution_id, remote=remote_with(datetime(2026, 11, 29, 6, 0)))
    assert naive == scheduled and naive.tzinfo is not None
