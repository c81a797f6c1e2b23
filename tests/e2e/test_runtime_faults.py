"""The generated runtime code under faults (issue 23, defect 5) and local runs of model-version schedules
(issue 21, item 1), against the flyteadmin STAND-IN through flytekit's real client.

`kickoff.py` (the scheduled time of a fixed-rate run) and `model_registry.py` (a model version's model)
read flyteadmin from inside a task: each read has a deadline and is retried with backoff for the codes
that pass (a DEADLINE_EXCEEDED, a restart), fails at once for the others (NOT_FOUND, PERMISSION_DENIED),
and the tasks have `retries=` for what outlasts the retries. A local `unionml run` of a model-version
schedule looks the model up in `-p/--project` / `-d/--domain`. Backoff pauses are short here
(UNIONML_FLYTEADMIN_BACKOFF) so the tests stay fast."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner

from ..helpers import EXAMPLES, run_cli
from ..support.flyte_package import literal_to_python
from ..support.flyteadmin_standin import FlyteAdminStandin, forget_package

IMAGE = "ghcr.io/your-org/your-app:latest"
TRAINED_AT = datetime(2026, 11, 23, 3, tzinfo=timezone.utc)
PREDICTION = "hourly_predictions_with_latest_model"  # fixed rate: reads its scheduled time; model "latest"
TRAINING_PLANS = ["digits_batch.workflows.digits_classifier_train", "weekly_retraining"]
QUICK = {"UNIONML_FLYTEADMIN_BACKOFF": "0.05", "UNIONML_FLYTEADMIN_TIMEOUT": "5"}
SUCCEEDED = 4  # flyteidl core WorkflowExecution.Phase


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """digits_batch deployed at v1 on a fresh stand-in, and one weekly training run that succeeded."""
    from flytekit.core.context_manager import FlyteEntities

    forget_package("digits_batch")
    # what an earlier module declared in this process (deploy registers from it), and another copy's directory
    # on sys.path (an in-process `unionml run`), left out while this module runs
    saved_path, saved_entities = sys.path[:], FlyteEntities.entities[:]
    FlyteEntities.entities[:] = []
    sys.path[:] = [entry for entry in sys.path if not (Path(entry or ".") / "digits_batch" / "__init__.py").is_file()]
    root = tmp_path_factory.mktemp("runtime-faults")
    shutil.copytree(EXAMPLES / "digits_batch", root / "digits_batch", ignore=shutil.ignore_patterns("flyte2"))
    project = root / "digits_batch" / "flyte"
    generated = run_cli("generate", str(root / "digits_batch" / "app.py"), "-o", str(project))
    assert generated.returncode == 0, generated.stderr
    with FlyteAdminStandin(root / "blob") as standin:
        config = standin.write_config(root / "config.yaml")
        standin.add_image(IMAGE, project)
        from unionml_codegen.cli import main

        deployed = CliRunner().invoke(main, ["deploy", str(project), "--version", "v1", "--allow-placeholder-image",
                                             "--config", str(config)], catch_exceptions=False)  # fmt: skip
        assert deployed.exit_code == 0, deployed.output
        training = standin.fire("weekly_retraining", TRAINED_AT)
        assert standin.execution(training).phase == SUCCEEDED, standin.execution(training).error
        yield types.SimpleNamespace(standin=standin, config=config, project=project, root=root, training=training)
    forget_package("digits_batch")
    sys.path[:], FlyteEntities.entities[:] = saved_path, saved_entities


@pytest.fixture(autouse=True)
def no_faults_left(cluster):
    yield
    cluster.standin.faults.clear()


def _local_run(cluster, project, *args: str, env: dict | None = None):
    """`unionml run PROJECT PREDICTION ARGS --json` as a user runs it, flytekit configured for the stand-in."""
    return run_cli("run", str(project), PREDICTION, *args, "--json",
                   env={"FLYTECTL_CONFIG": str(cluster.config), **QUICK, **(env or {})})  # fmt: skip


def test_the_lookup_tasks_are_registered_with_retries(cluster):
    retries = {key[2]: row.spec.template.metadata.retries.retries for key, row in cluster.standin.tasks.items()}
    assert retries["digits_batch.kickoff.scheduled_time"] == 3
    assert retries["digits_batch.workflows.digits_classifier_predict_with_model_version_task"] == 3
    assert retries["digits_batch.workflows.digits_classifier_train_task"] == 0  # no lookup, no retries added


def test_a_scheduled_run_survives_a_deadline_exceeded_an_unanswered_call_and_failing_lookups(cluster, monkeypatch):
    standin, faults = cluster.standin, cluster.standin.faults
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)  # the stand-in's propeller runs the tasks with this environment
    monkeypatch.setenv("UNIONML_FLYTEADMIN_TIMEOUT", "2")
    at = datetime(2026, 11, 30, 7, tzinfo=timezone.utc)
    # the kickoff task's read of the scheduled time: DEADLINE_EXCEEDED once (flytekit never retries it); the
    # model lookup: its list UNAVAILABLE twice, and its read of the outputs accepted and never answered
    deadline = faults.add("fail", "GetExecution", code=grpc.StatusCode.DEADLINE_EXCEEDED)
    down = faults.add("fail", "ListExecutions", times=2, code=grpc.StatusCode.UNAVAILABLE)
    hang = faults.add("hang", "GetExecutionData", seconds=30)
    name = standin.fire(PREDICTION, at)
    row = standin.execution(name)
    assert row.phase == SUCCEEDED, row.error
    assert (deadline.hits, down.hits, hang.hits) == (1, 2, 1)
    predictions = literal_to_python(row.outputs.literals["o0"])
    # the right answer: a local run at the same kickoff, with the same (latest) model, predicts the same
    local = _local_run(cluster, cluster.project, "--at", at.isoformat(), "-p", "flytesnacks", "-d", "development")
    assert local.returncode == 0, local.stderr
    assert json.loads(local.stdout)["outputs"]["predictions"] == predictions and len(predictions) > 0


LOOKUP = """
import json, sys
from flytekit.core.context_manager import ExecutionParameters, ExecutionState, FlyteContextManager
from flytekit.models.core.identifier import WorkflowExecutionIdentifier
from sklearn.linear_model import LogisticRegression
from digits_batch import model_registry

ctx = FlyteContextManager.current_context()
params = ExecutionParameters.new_builder(ctx.user_space_params)
params.execution_id = WorkflowExecutionIdentifier("flytesnacks", "development", "a-prediction-run")
state = ctx.new_execution_state().with_params(mode=ExecutionState.Mode.TASK_EXECUTION, user_space_params=params.build())
plans = {plans!r}


def fetch(version):
    try:
        return model_registry.fetch_model_object(version, "", plans, LogisticRegression).coef_.round(8).tolist()
    except Exception as error:
        return f"{{type(error).__name__}}: {{error}}"


with FlyteContextManager.with_context(ctx.with_execution_state(state)):
    print(json.dumps(fetch("latest")), flush=True)  # flyteadmin up: the channel is connected
    for line in sys.stdin:  # the test does something to the stand-in, then names the version to fetch
        print(json.dumps(fetch(line.strip())), flush=True)
"""


class Lookups:
    """A task's interpreter (a task execution in flytesnacks/development) fetching model versions on request."""

    def __init__(self, cluster, env: dict):
        self.process = subprocess.Popen(
            [sys.executable, "-c", LOOKUP.format(plans=TRAINING_PLANS)], cwd=cluster.project, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **cluster.standin.env(), "PYTHONDONTWRITEBYTECODE": "1", **env},
        )  # fmt: skip
        self.first = self._answer()

    def _answer(self):
        line = self.process.stdout.readline()
        assert line, self.process.communicate()[1]
        return json.loads(line)

    def fetch(self, version: str):
        self.process.stdin.write(version + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> str:
        _, stderr = self.process.communicate(timeout=60)  # closes its stdin: the interpreter ends
        return stderr


def test_the_model_lookup_outlasts_a_flyteadmin_restart(cluster):
    lookups = Lookups(cluster, {**QUICK, "UNIONML_FLYTEADMIN_BACKOFF": "0.5"})
    try:
        assert isinstance(lookups.first, list)  # the model's coefficients
        back = cluster.standin.restart(down_for=1.5)  # connections cut, refused for 1.5 s, then served again
        assert lookups.fetch("latest") == lookups.first
        back.join()
    finally:
        stderr = lookups.close()
    assert "flyteadmin answered UNAVAILABLE to listing the training executions in flytesnacks/development" in stderr


def test_a_lookup_flyteadmin_refuses_fails_at_once_with_one_clear_line(cluster):
    faults = cluster.standin.faults
    lookups = Lookups(cluster, {**QUICK, "UNIONML_FLYTEADMIN_RETRIES": "6"})
    try:
        before = faults.count("GetExecution")
        missing = lookups.fetch("f0123456789abcdef012")
        assert faults.count("GetExecution") - before == 1  # NOT_FOUND: asked once, never retried
        assert missing == (
            "ModelVersionNotFound: model version 'f0123456789abcdef012' of digits_batch.workflows.digits_classifier_"
            "train not found in flytesnacks/development (flyteadmin answered NOT_FOUND: no execution of that name "
            "there)"
        )
        faults.add("fail", "ListExecutions", code=grpc.StatusCode.PERMISSION_DENIED)
        before = faults.count("ListExecutions")
        refused = lookups.fetch("latest")
        assert faults.count("ListExecutions") - before == 1
        assert refused == (
            "ModelVersionUnreadable: flyteadmin refused to read model version 'latest' in flytesnacks/development "
            "(PERMISSION_DENIED: injected fault: PERMISSION_DENIED on ListExecutions; 1 attempt). The task needs "
            "access to flyteadmin: set FLYTE_PLATFORM_URL (or put a Flyte config in the image and point "
            "FLYTECTL_CONFIG at it), or schedule the prediction with a model_file"
        )
        # a flyteadmin that stays down: bounded retries, then a recoverable error (Flyte runs the task again)
        faults.add("fail", "ListExecutions", times=None, code=grpc.StatusCode.UNAVAILABLE)
        before = faults.count("ListExecutions")
        down = lookups.fetch("latest")
        assert faults.count("ListExecutions") - before == 7  # the first attempt and 6 retries
        assert down.startswith("ModelVersionUnavailable: cannot reach flyteadmin to read model version 'latest' in "
                               "flytesnacks/development (UNAVAILABLE: injected fault: UNAVAILABLE on ListExecutions; "
                               "7 attempts).")  # fmt: skip
        assert "\n" not in missing + refused + down
    finally:
        lookups.close()


def test_a_recoverable_error_is_what_flyte_retries(cluster):
    """ModelVersionUnavailable and KickoffTimeUnavailable are flytekit's recoverable errors: flytekit's entrypoint
    reports them RECOVERABLE, so Flyte runs the task again (its retries=); NOT_FOUND is not retried."""
    check = (
        "from flytekit.exceptions.user import FlyteRecoverableException as R\n"
        "from digits_batch import kickoff, model_registry as m\n"
        "print(issubclass(m.ModelVersionUnavailable, R), issubclass(kickoff.KickoffTimeUnavailable, R),"
        " issubclass(m.ModelVersionNotFound, R), issubclass(m.ModelVersionUnreadable, R))\n"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=cluster.project, capture_output=True, text=True)
    assert result.stdout.split() == ["True", "True", "False", "False"], result.stderr


# --------------------------------------------------------------------------------------------------
# Local runs of a model-version schedule look the model up in -p/--project and -d/--domain (issue 21, item 1)


def test_a_local_run_of_a_latest_model_schedule_looks_in_the_project_and_domain_given(cluster):
    at = "2026-11-30T08:00:00Z"
    found = _local_run(cluster, cluster.project, "--at", at, "-p", "flytesnacks", "-d", "development")
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)["outputs"]["predictions"]) > 0
    # the same through the variables the cluster commands read, and nothing in another domain
    by_env = _local_run(cluster, cluster.project, "--at", at, env={"FLYTE_DEFAULT_DOMAIN": "development"})
    assert json.loads(by_env.stdout)["outputs"] == json.loads(found.stdout)["outputs"]
    elsewhere = _local_run(cluster, cluster.project, "--at", at, "-d", "staging")
    assert elsewhere.returncode == 1
    error = json.loads(elsewhere.stdout)["error"]
    assert error.startswith(
        "ModelVersionNotFound: no successful training execution of digits_batch.workflows.digits_classifier_train, "
        f"weekly_retraining in flytesnacks/staging ({(cluster.project / 'digits_batch' / 'model_registry.py').resolve()}:"
    )
    assert error.endswith(", in find_training_execution)")


@pytest.fixture(scope="module")
def named(cluster):
    """The app with its prediction schedule bound to the training execution by name (model_version=NAME); its
    package is `named` (the directory's name), its training launch plans named.workflows..., weekly_retraining."""
    root = cluster.root / "named"
    shutil.copytree(EXAMPLES / "digits_batch", root, ignore=shutil.ignore_patterns("flyte", "flyte2"))
    app = root / "app.py"
    text = app.read_text()
    assert text.count('model_version="latest"') == 1
    app.write_text(text.replace('model_version="latest"', f'model_version="{cluster.training}"'))
    generated = run_cli("generate", str(app), "-o", str(root / "flyte"))
    assert generated.returncode == 0, generated.stderr
    return root / "flyte"


def test_a_local_run_of_a_named_model_version_finds_it_or_says_not_found_on_one_line(cluster, named):
    at = "2026-11-30T09:00:00Z"
    found = _local_run(cluster, named, "--at", at, "-p", "flytesnacks", "-d", "development")
    assert found.returncode == 0, found.stderr
    latest = _local_run(cluster, cluster.project, "--at", at)  # the only training run is also the latest
    assert json.loads(found.stdout)["outputs"] == json.loads(latest.stdout)["outputs"]
    missing = run_cli("run", str(named), PREDICTION, "--at", at, "-d", "staging",
                      env={"FLYTECTL_CONFIG": str(cluster.config), **QUICK})  # fmt: skip
    assert missing.returncode == 1 and missing.stdout == ""
    [line] = missing.stderr.splitlines()
    assert line.startswith(
        f"error: {PREDICTION} at 2026-11-30T09:00:00Z failed: ModelVersionNotFound: model version '{cluster.training}' "
        "of named.workflows.digits_classifier_train not found in flytesnacks/staging (flyteadmin answered "
        "NOT_FOUND: no execution of that name there) ("
    ), line
    assert line.endswith("; pass the -p/--project and -d/--domain the training ran in (FLYTE_DEFAULT_PROJECT, "
                         "FLYTE_DEFAULT_DOMAIN)")  # fmt: skip
    assert "cannot reach" not in line and "FLYTE_PLATFORM_URL" not in line
    # and a flyteadmin that cannot be reached says so, distinctly
    unreachable = cluster.root / "unreachable.yaml"
    unreachable.write_text("admin:\n  endpoint: dns:///127.0.0.1:1\n  insecure: true\n")
    down = run_cli("run", str(named), PREDICTION, "--at", at, "-c", str(unreachable),
                   env={**QUICK, "UNIONML_FLYTEADMIN_RETRIES": "1"})  # fmt: skip
    assert down.returncode == 1
    [line] = [line for line in down.stderr.splitlines() if line.startswith("error:")]  # and the retries' warnings
    assert "flyteadmin answered UNAVAILABLE to reading execution" in down.stderr
    assert (f"failed: ModelVersionUnavailable: cannot reach flyteadmin to read model version '{cluster.training}' in "
            "flytesnacks/development (UNAVAILABLE: ") in line and "2 attempts)" in line  # fmt: skip
    assert line.endswith("which even a local run fetches from flyteadmin with flytekit's configuration "
                         "(-c/--config, FLYTECTL_CONFIG, ~/.flyte/config.yaml)")  # fmt: skip


# --------------------------------------------------------------------------------------------------
# The stand-in lists executions as flyteadmin v1.16 does: archived ones left out unless asked for (issue 23)


def _archive(standin, name: str) -> None:
    from flyteidl.admin import execution_pb2
    from flyteidl.core import identifier_pb2
    from flyteidl.service import admin_pb2_grpc

    ident = identifier_pb2.WorkflowExecutionIdentifier(project="flytesnacks", domain="development", name=name)
    with grpc.insecure_channel(standin.endpoint) as channel:
        admin_pb2_grpc.AdminServiceStub(channel).UpdateExecution(
            execution_pb2.ExecutionUpdateRequest(id=ident, state=execution_pb2.EXECUTION_ARCHIVED)
        )


def test_an_archived_training_execution_is_not_the_latest_model_as_on_flyteadmin(cluster):
    standin = cluster.standin
    newer = standin.fire("weekly_retraining", datetime(2026, 11, 30, 3, tzinfo=timezone.utc))
    assert standin.execution(newer).phase == SUCCEEDED, standin.execution(newer).error
    lookups = Lookups(cluster, QUICK)
    try:
        newest, older = lookups.first, lookups.fetch(cluster.training)
        assert newest == lookups.fetch(newer) != older  # two trainings on different days' data
        _archive(standin, newer)  # as the console's "archive" does
        assert lookups.fetch("latest") == older  # flyteadmin's ListExecutions leaves archived executions out
        assert lookups.fetch(newer) == newest  # and GetExecution still reads one by name
        standin.list_archived_executions = True  # a kinder server would list it, and give the archived model
        assert lookups.fetch("latest") == newest
    finally:
        standin.list_archived_executions = False
        lookups.close()
