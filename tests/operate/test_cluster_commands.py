"""The cluster commands (deploy, activate/deactivate/prune, list runs and model versions, fetch-model,
fetch-predictions, backfill --remote) and the generated runtime code that calls flyteadmin
(model_registry.py), against the flyteadmin STAND-IN (tests/support/flyteadmin_standin.py) through
flytekit's real client over gRPC. One stand-in and one deployed project (digits_batch: a weekly
training schedule, a model-file prediction schedule, an hourly prediction schedule of the latest
model) for the module; the stand-in fires the schedules as the native scheduler would."""

from __future__ import annotations

import json
import shutil
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from ..helpers import EXAMPLES, run_cli, run_python
from ..support.flyte_package import literal_to_python
from ..support.flyteadmin_standin import FlyteAdminStandin, forget_package, scheduled_execution_name

IMAGE = "ghcr.io/acme/digits-batch:1f2e3d4"  # generated with --image: deploy refuses the placeholder (item 6)
SCHEDULES = ("weekly_retraining", "daily_predictions", "hourly_predictions_with_latest_model")
TRAINED_AT = (datetime(2026, 11, 23, 3, tzinfo=timezone.utc), datetime(2026, 11, 30, 3, tzinfo=timezone.utc))
LATEST_AT = datetime(2026, 11, 30, 7, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The stand-in, digits_batch deployed at v1 with `unionml deploy`, and four scheduled runs fired:
    two trainings, a model-file prediction, then a prediction with the latest model (the newer training)."""
    root = tmp_path_factory.mktemp("cluster")
    shutil.copytree(EXAMPLES / "digits_batch", root / "digits_batch")
    app = root / "digits_batch" / "app.py"  # the app says not to activate one schedule on deploy
    app.write_text(
        app.read_text().replace(
            '    "daily_predictions",\n', '    "daily_predictions",\n    activate_on_deploy=False,\n'
        )
    )
    generated = run_cli("generate", str(app), "-o", str(root / "digits_batch" / "flyte"), "--image", IMAGE)
    assert generated.returncode == 0 and "activate_on_deploy=False" in app.read_text(), generated.stderr
    project = root / "digits_batch" / "flyte"
    with FlyteAdminStandin(root / "blob") as standin:
        config = standin.write_config(root / "config.yaml")
        standin.add_image(IMAGE, project)
        deployed = run_cli("deploy", str(project), "--version", "v1", "--config", str(config))
        states_after_deploy = standin.launch_plan_states()
        fired = [standin.fire("weekly_retraining", at, run=False) for at in TRAINED_AT]
        fired.append(standin.fire("hourly_predictions_with_latest_model", LATEST_AT, run=False))
        standin.run_executions(*fired)
        yield types.SimpleNamespace(
            standin=standin, config=config, project=project, root=root, deployed=deployed,
            states_after_deploy=states_after_deploy, trainings=fired[:2], latest_prediction=fired[2],
        )  # fmt: skip
    forget_package("digits_batch")  # the fetch commands ran in this process and imported the generated package


def unionml(cluster, *args: str, ok: bool = True):
    """A cluster command in this process (click's runner), as `unionml ARGS --config CONFIG`."""
    from unionml_codegen.cli import main

    result = CliRunner().invoke(main, [*args, "--config", str(cluster.config)], catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result


def test_deploy_registers_the_project_and_activates_the_schedules_as_the_app_said(cluster):
    assert cluster.deployed.returncode == 0, cluster.deployed.stderr
    lines = cluster.deployed.stdout.splitlines()
    assert lines[:3] == [
        "registered digits_batch version v1 in flytesnacks/development: 7 tasks, 5 workflows, 8 launch plans",
        f"  image         {IMAGE}",  # what was registered: the image, where, then the entities by name (item 6)
        "  where         flytesnacks/development (project and domain by default)",
    ]
    assert [line.split()[0] for line in lines[3:6]] == ["tasks", "workflows", "launch"]
    assert lines[5].startswith("  launch plans  daily_predictions, digits_batch.workflows.digits_classifier_predict, ")
    assert lines[5].endswith(".digits_classifier_train, hourly_predictions_with_latest_model, weekly_retraining")
    assert lines[6:] == [
        "weekly_retraining: ACTIVE at version v1",
        "hourly_predictions_with_latest_model: ACTIVE at version v1",
        "not activated (activate_on_deploy=False): daily_predictions",
    ]
    # no terminal: no progress bar, no escape codes; one plain line on stderr says what is registered
    assert cluster.deployed.stderr.splitlines() == [
        "registering 20 entities of digits_batch version v1 in flytesnacks/development: 7 tasks, 5 workflows, "
        "8 launch plans"
    ]
    active = {name for (name, _), state in cluster.states_after_deploy.items() if state == "ACTIVE"}
    assert active == {"weekly_retraining", "hourly_predictions_with_latest_model"}  # as the app said
    assert len(cluster.states_after_deploy) == 8  # every workflow's default launch plan too, inactive
    assert not list(cluster.project.rglob("__pycache__"))


def test_no_schedule_activate_deactivate_and_prune_change_state_as_documented(cluster):
    standin = cluster.standin
    result = run_cli(
        "deploy", str(cluster.project), "--version", "v2", "--no-schedule", "--config", str(cluster.config)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"not activated (--no-schedule): {', '.join(SCHEDULES)}"
    assert standin.active() == {"weekly_retraining": "v1", "hourly_predictions_with_latest_model": "v1"}  # unchanged

    assert unionml(cluster, "activate-schedules", str(cluster.project), "--all", "--yes").output.splitlines() == [
        *(f"{name}: ACTIVE at version v2" for name in SCHEDULES),
        f"activated 3 of 3 schedules in flytesnacks/development ({', '.join(SCHEDULES)})",
    ]
    assert standin.active() == {name: "v2" for name in SCHEDULES}  # and v1 of each deactivated

    result = unionml(cluster, "deactivate-schedules", str(cluster.project), "weekly_retraining")
    assert result.output == "weekly_retraining: INACTIVE (was active at version v2)\n"
    assert standin.active() == {"daily_predictions": "v2", "hourly_predictions_with_latest_model": "v2"}

    result = unionml(cluster, "activate-schedules", str(cluster.project), "weekly_retraining", "nightly", ok=False)
    assert result.exit_code == 2 and "has no schedule 'nightly' [UMG753]" in result.output
    assert "weekly_retraining" not in standin.active()  # an unknown name: nothing switched

    # an earlier deployment scheduled "nightly_retraining" on the project's training workflow; another project's
    # active schedule shares the Flyte project
    _register_schedule(standin, "nightly_retraining", "digits_batch.workflows.digits_classifier_train")
    _register_schedule(standin, "other_team_schedule", "other_team.workflows.train")
    result = unionml(cluster, "prune-schedules", str(cluster.project), "--dry-run")
    assert result.output == (
        "would deactivate nightly_retraining (version v1, runs digits_batch.workflows.digits_classifier_train)\n"
    )
    assert "nightly_retraining" in standin.active()
    result = unionml(cluster, "prune-schedules", str(cluster.project))
    assert result.output.startswith("deactivated nightly_retraining (version v1")
    assert standin.active() == {"daily_predictions": "v2", "hourly_predictions_with_latest_model": "v2",
                                "other_team_schedule": "v1"}  # fmt: skip


def test_switches_and_prune_print_one_json_document_with_their_lines_on_stderr(cluster):
    """activate-/deactivate-/prune-schedules --json (issue 21 item 12): stdout is one document saying, per
    schedule, its state now, the version and whether the command changed it; the lines go to stderr."""
    standin = cluster.standin
    before = standin.active()
    off = unionml(cluster, "deactivate-schedules", str(cluster.project), "daily_predictions",
                  "hourly_predictions_with_latest_model", "--json")  # fmt: skip
    document = json.loads(off.stdout)
    assert document["command"] == "deactivate-schedules" and document["ok"] is True
    assert (document["project"], document["domain"]) == ("flytesnacks", "development")
    rows = {row["name"]: (row["state"], row["version"], row["changed"]) for row in document["schedules"]}
    assert rows == {
        "daily_predictions": ("INACTIVE", before.get("daily_predictions"), "daily_predictions" in before),
        "hourly_predictions_with_latest_model": ("INACTIVE", before["hourly_predictions_with_latest_model"], True),
    }
    assert document["changed"] == [name for name in rows if rows[name][2]]
    assert "hourly_predictions_with_latest_model: INACTIVE (was active" in off.stderr  # the lines, on stderr
    on = unionml(cluster, "activate-schedules", str(cluster.project), "hourly_predictions_with_latest_model", "--json")
    [row] = json.loads(on.stdout)["schedules"]
    newest = standin.active()["hourly_predictions_with_latest_model"]
    assert (row["state"], row["version"], row["changed"]) == ("ACTIVE", newest, True)
    pruned = unionml(cluster, "prune-schedules", str(cluster.project), "--dry-run", "--json")
    document = json.loads(pruned.stdout)
    assert document["command"] == "prune-schedules" and document["dry_run"] is True
    assert document["package"] == "digits_batch" and isinstance(document["schedules"], list)
    if daily := before.get("daily_predictions"):  # leave the schedules as the tests after expect them
        unionml(cluster, "activate-schedules", str(cluster.project), "daily_predictions", "--version", daily)


def test_prune_leaves_alone_a_schedule_registered_by_hand_on_the_packages_workflow(cluster):
    standin = cluster.standin
    deployed = standin.launch_plans[("flytesnacks", "development", "weekly_retraining", "v1")].spec.annotations
    assert dict(deployed.values) == {"unionml-codegen/package": "digits_batch"}  # deploy marks what it registers
    # someone scheduled the project's training workflow with `pyflyte register` of their own launch plan
    _register_schedule(standin, "hand_made_retraining", "digits_batch.workflows.digits_classifier_train",
                       by_hand=True)  # fmt: skip
    assert "hand_made_retraining" in standin.active()
    dry = unionml(cluster, "prune-schedules", str(cluster.project), "--dry-run")
    result = unionml(cluster, "prune-schedules", str(cluster.project))
    assert "hand_made_retraining" not in dry.output + result.output
    assert (
        result.output
        == "nothing to prune: every active schedule of digits_batch in flytesnacks/development is in the project\n"
    )
    assert standin.active()["hand_made_retraining"] == "v1"  # still firing: not the generator's to prune
    _register_schedule(standin, "hand_made_retraining", "", deactivate=True)  # tidy up for the tests after


def _register_schedule(standin, name: str, workflow: str, by_hand: bool = False, deactivate: bool = False) -> None:
    """A scheduled launch plan registered and activated over gRPC, as an earlier deployment would have (with
    deploy's annotation), or by hand (`by_hand`: without it); `deactivate` switches it off."""
    import grpc
    from flyteidl.admin import launch_plan_pb2, workflow_pb2
    from flyteidl.core import identifier_pb2
    from flyteidl.service import admin_pb2_grpc

    def ident(kind, entity):
        return identifier_pb2.Identifier(resource_type=kind, project="flytesnacks", domain="development",
                                         name=entity, version="v1")  # fmt: skip

    train = standin.workflows[("flytesnacks", "development", "digits_batch.workflows.digits_classifier_train", "v1")]
    weekly = standin.launch_plans[("flytesnacks", "development", "weekly_retraining", "v1")]
    spec = launch_plan_pb2.LaunchPlanSpec()
    spec.CopyFrom(weekly.spec)
    spec.workflow_id.CopyFrom(ident(identifier_pb2.WORKFLOW, workflow))
    if by_hand:
        spec.ClearField("annotations")
    with grpc.insecure_channel(standin.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        if deactivate:
            admin.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=ident(identifier_pb2.LAUNCH_PLAN, name),
                                                                           state=launch_plan_pb2.INACTIVE))  # fmt: skip
            return
        if workflow != "digits_batch.workflows.digits_classifier_train":
            admin.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=ident(identifier_pb2.WORKFLOW, workflow),
                                                                    spec=train.spec))  # fmt: skip
        admin.CreateLaunchPlan(
            launch_plan_pb2.LaunchPlanCreateRequest(id=ident(identifier_pb2.LAUNCH_PLAN, name), spec=spec)
        )
        admin.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=ident(identifier_pb2.LAUNCH_PLAN, name),
                                                                       state=launch_plan_pb2.ACTIVE))  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat() + "Z"


def test_fired_training_runs_are_listed_newest_first_with_their_kickoff_times(cluster):
    for name in [*cluster.trainings, cluster.latest_prediction]:
        assert cluster.standin.execution(name).phase == 4, cluster.standin.execution(name).error  # SUCCEEDED
    runs = json.loads(unionml(cluster, "list-scheduled-training-runs", str(cluster.project), "weekly_retraining",
                              "--json").output)  # fmt: skip
    assert [r["execution"] for r in runs] == cluster.trainings[::-1]
    assert [r["kickoff"] for r in runs] == [_iso(TRAINED_AT[1]), _iso(TRAINED_AT[0])]
    assert {(r["phase"], r["version"], r["started_by"]) for r in runs} == {("SUCCEEDED", "v1", "schedule")}
    assert all(r["duration"] > 0 for r in runs)
    table = unionml(cluster, "list-scheduled-training-runs", str(cluster.project), "weekly_retraining", "--limit", "1")
    header, row = table.stdout.splitlines()
    assert table.stderr == (
        "note: showing the newest 1 runs of weekly_retraining; there are more: pass a larger --limit (up to 10000)\n"
    )
    assert header.split() == ["EXECUTION", "KICKOFF", "(UTC)", "PHASE", "DURATION", "VERSION", "STARTED", "BY"]
    assert row.split()[:3] == [cluster.trainings[1], _iso(TRAINED_AT[1]), "SUCCEEDED"]
    wrong = unionml(cluster, "list-scheduled-prediction-runs", str(cluster.project), "weekly_retraining", ok=False)
    assert wrong.output == ("error: 'weekly_retraining' is a training schedule [UMG753]\n"
                            "  hint: use `unionml list-scheduled-training-runs`\n")  # fmt: skip
    versions = json.loads(unionml(cluster, "list-model-versions", str(cluster.project), "--json").output)
    assert [v["model_version"] for v in versions] == cluster.trainings[::-1]
    assert unionml(cluster, "list-model-versions", str(cluster.project), "--app-version", "v9").output.startswith(
        "no successful training execution of digits_batch"
    )


CHECK_MODEL = """
import json
from datetime import datetime, timezone
from sklearn.linear_model import LogisticRegression
from unionml import Dataset, Model
from digits_batch import components, model_files, workflows

kickoff = datetime.fromisoformat({kickoff!r})
data = components.reader(time=kickoff, labeled=False)
as_model_file = model_files.load_sklearn({path!r})  # what a model_file= prediction schedule loads with
by_unionml = Model(dataset=Dataset(targets=["target"]), init=LogisticRegression).load({path!r})
print(json.dumps([workflows.predict_digits_classifier(as_model_file, data), workflows.predict_digits_classifier(by_unionml, data)]))
"""


def test_fetch_model_writes_unionmls_file_whose_predictions_are_the_latest_model_runs(cluster):
    model_file = cluster.root / "fetched" / "model.joblib"
    newest = cluster.trainings[1]
    fetched = unionml(cluster, "fetch-model", str(cluster.project), newest, "-o", str(model_file), "--json")
    summary = json.loads(fetched.stdout)
    outputs = cluster.standin.execution(newest).outputs.literals
    assert summary["metrics"] == literal_to_python(outputs["metrics"]) and list(summary["metrics"]) == ["train", "test"]
    assert summary["hyperparameters"] == literal_to_python(outputs["hyperparameters"]) == {"C": 0.1, "max_iter": 1000}
    assert summary["model_type"] == "sklearn.linear_model._logistic.LogisticRegression"

    as_text = unionml(cluster, "fetch-model", str(cluster.project), newest, "-o", str(model_file)).stdout.splitlines()
    assert as_text == [
        f"wrote {model_file}: LogisticRegression (scikit-learn (joblib)) trained by execution {newest} "
        f"({summary['launch_plan']}, version {summary['app_version']})",
        'hyperparameters: {"C": 0.1, "max_iter": 1000}',
        "metrics: " + ", ".join(f"{key} {value}" for key, value in summary["metrics"].items()),
    ]

    predicted = unionml(cluster, "fetch-predictions", str(cluster.project), cluster.latest_prediction, "--json")
    predictions = json.loads(predicted.stdout)
    stored = cluster.standin.execution(cluster.latest_prediction).outputs.literals["o0"]
    assert predictions == literal_to_python(stored) and len(predictions) == 100  # exactly what the run produced
    as_text = unionml(cluster, "fetch-predictions", str(cluster.project), cluster.latest_prediction).stdout
    assert as_text.startswith(f"100 predictions of execution {cluster.latest_prediction} (")
    assert as_text.splitlines()[1] == json.dumps(predictions)

    # the hourly run resolved model_version="latest" over gRPC to the newest training run: the fetched file,
    # loaded as a prediction schedule's model_file and by unionml's model.load, predicts exactly as it did
    loaded = run_python(CHECK_MODEL.format(kickoff=LATEST_AT.isoformat(), path=str(model_file)),
                        cwd=cluster.project)  # fmt: skip
    assert json.loads(loaded.stdout.splitlines()[-1]) == [predictions, predictions]


RESOLVE = """
import json, os
from flytekit.core.context_manager import ExecutionParameters, ExecutionState, FlyteContextManager
from flytekit.models.core.identifier import WorkflowExecutionIdentifier
from sklearn.linear_model import LogisticRegression
from digits_batch import model_registry

ctx = FlyteContextManager.current_context()
params = ExecutionParameters.new_builder(ctx.user_space_params)
params.execution_id = WorkflowExecutionIdentifier("flytesnacks", "development", "a-prediction-run")
state = ctx.new_execution_state().with_params(mode=ExecutionState.Mode.TASK_EXECUTION, user_space_params=params.build())
plans = ["digits_batch.workflows.digits_classifier_train", "weekly_retraining"]
found = {{}}
with FlyteContextManager.with_context(ctx.with_execution_state(state)):
    for version, app_version in [("latest", ""), ({older!r}, ""), ({newer!r}, ""), ("latest", "v9"), ({prediction!r}, "")]:
        try:
            model = model_registry.fetch_model_object(version, app_version, plans, LogisticRegression)
            found[f"{{version}}@{{app_version}}"] = model.coef_.round(8).tolist()
        except LookupError as error:
            found[f"{{version}}@{{app_version}}"] = "LookupError: " + str(error)
    os.environ["FLYTE_PLATFORM_URL"] = "127.0.0.1:1"  # flyteadmin unreachable from the task
    os.environ["UNIONML_FLYTEADMIN_RETRIES"] = "1"  # one retry (test_runtime_faults.py tests the retries)
    os.environ["UNIONML_FLYTEADMIN_BACKOFF"] = "0.01"
    try:
        model_registry.fetch_model_object("latest", "", plans, LogisticRegression)
    except model_registry.ModelVersionUnavailable as error:
        found["unreachable"] = str(error)
print(json.dumps(found))
"""


def test_generated_model_registry_resolves_versions_over_grpc_and_names_what_to_configure_when_unreachable(cluster):
    older, newer = cluster.trainings
    env = cluster.standin.env()
    code = RESOLVE.format(older=older, newer=newer, prediction=cluster.latest_prediction)
    import os

    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # a pod's configuration: FLYTE_PLATFORM_URL at the stand-in
    try:
        found = json.loads(run_python(code, cwd=cluster.project).stdout.splitlines()[-1])
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    assert found["latest@"] == found[f"{newer}@"] != found[f"{older}@"]
    assert found["latest@v9"] == (
        "LookupError: no successful training execution of digits_batch.workflows.digits_classifier_train, "
        "weekly_retraining in flytesnacks/development"
    )
    assert found[f"{cluster.latest_prediction}@"].startswith(
        f"LookupError: model version '{cluster.latest_prediction}' is execution {cluster.latest_prediction} of "
        "hourly_predictions_with_latest_model, not a training run of this model"
    )
    assert found["unreachable"].startswith(
        "cannot reach flyteadmin to read model version 'latest' in flytesnacks/development (UNAVAILABLE: "
    )
    assert "; 2 attempts)" in found["unreachable"]
    assert (
        "set FLYTE_PLATFORM_URL" in found["unreachable"]
        and "schedule the prediction with a model_file" in found["unreachable"]
    )


def test_backfill_remote_runs_the_active_version_names_executions_as_the_scheduler_and_resumes(cluster):
    standin = cluster.standin
    args = ("backfill", str(cluster.project), "weekly_retraining", "--remote", "--from", "2026-11-01",
            "--to", "2026-11-16T23:00:00")  # fmt: skip
    # weekly_retraining was deactivated above: no ACTIVE version, so nothing to choose without --version
    refused = unionml(cluster, *args, ok=False)
    assert refused.stderr.splitlines()[0] == ("error: schedule 'weekly_retraining' has no ACTIVE version in "
                                              "flytesnacks/development (deployed: v2, v1) [UMG767]")  # fmt: skip
    # the ACTIVE version is the older one: the backfill runs it, not the newest registered, and says so
    unionml(cluster, "activate-schedules", str(cluster.project), "weekly_retraining", "--version", "v1")
    before = set(standin.executions)
    record = json.loads(unionml(cluster, *args, "--json").stdout)
    mondays = [datetime(2026, 11, day, 3, tzinfo=timezone.utc) for day in (2, 9, 16)]
    assert [run["kickoff"] for run in record["runs"]] == [_iso(t) for t in mondays]
    assert (record["version"], record["version_from"]) == ("v1", "active")
    assert (record["ok"], record["started"], record["already_there"], record["failed"]) == (3, 3, 0, 0)
    created = {key[2]: standin.executions[key] for key in set(standin.executions) - before}
    for run, kickoff in zip(record["runs"], mondays):  # named as flyteadmin's scheduler names that kickoff
        assert run["execution"] == scheduled_execution_name(
            "flytesnacks", "development", "weekly_retraining", "v1", kickoff
        )
        row = created[run["execution"]]
        assert row.launch_plan[2:] == ("weekly_retraining", "v1") and run["status"] == "started"
        assert literal_to_python(row.user_inputs.literals["time"]) == kickoff
        assert row.spec.metadata.mode == 0  # MANUAL: started by hand, not by the scheduler
    assert set(created) == {run["execution"] for run in record["runs"]}
    # the same range again starts nothing: every kickoff is already there
    again = unionml(cluster, *args)
    assert (
        again.stdout.splitlines()[0] == "weekly_retraining: version v1 (the ACTIVE version) in flytesnacks/development"
    )
    assert again.stdout.splitlines()[1:3] == [
        f"{_iso(mondays[0])}  already there",
        f"  execution {record['runs'][0]['execution']} of version v1 was already there (QUEUED, started by manual)",
    ]
    assert again.stdout.splitlines()[-1] == "weekly_retraining: 0 started, 3 already there, 0 failed"
    assert {key[2] for key in set(standin.executions) - before} == set(created)
    # a kickoff the scheduler already ran at that version is recognised as there (the scheduler's own name)
    fired = scheduled_execution_name("flytesnacks", "development", "weekly_retraining", "v1", TRAINED_AT[0])
    assert fired == cluster.trainings[0]
    there = json.loads(unionml(cluster, "backfill", str(cluster.project), "weekly_retraining", "--remote",
                               "--from", "2026-11-23", "--to", "2026-11-23T04:00:00", "--json").stdout)  # fmt: skip
    assert [(r["status"], r["execution"]) for r in there["runs"]] == [("already_there", fired)]
    assert there["runs"][0]["outputs"]["started_by"] == "schedule"

    # a fixed-rate schedule gets its kickoff as the workflow's kickoff_time (the scheduler gives it none)
    before = set(standin.executions)
    result = unionml(cluster, "backfill", str(cluster.project), "hourly_predictions_with_latest_model", "--remote",
                     "--from", "2026-11-30T07:00:00", "--to", "2026-11-30T08:00:00")  # fmt: skip
    created = sorted((standin.executions[key] for key in set(standin.executions) - before), key=lambda row: row.id)
    kickoffs = [literal_to_python(row.user_inputs.literals["kickoff_time"]) for row in created]
    assert kickoffs == [LATEST_AT, LATEST_AT + timedelta(hours=1)]
    version = created[0].launch_plan[3]
    assert result.stdout.splitlines()[1:5] == [
        line for row, at in zip(created, kickoffs)
        for line in (f"{_iso(at)}  started", f"  started execution {row.ident.name} of version {version}")
    ]  # fmt: skip
    listed = json.loads(unionml(cluster, "list-scheduled-prediction-runs", str(cluster.project),
                                "hourly_predictions_with_latest_model", "--json").stdout)  # fmt: skip
    manual = [(r["kickoff"], r["phase"]) for r in listed if r["started_by"] == "manual"]
    assert manual == [(_iso(LATEST_AT + timedelta(hours=1)), "QUEUED"), (_iso(LATEST_AT), "QUEUED")]


NO_FLYTEKIT = """
import sys
sys.modules["flytekit"] = None  # as if flytekit were not installed
from unionml_codegen.cli import main
main(["deactivate-schedules", {out!r}, "weekly_retraining"])
"""


def test_a_cluster_command_says_how_to_install_flytekit_and_names_an_unreachable_flyteadmin(cluster, tmp_path):
    import subprocess

    result = subprocess.run([sys.executable, "-c", NO_FLYTEKIT.format(out=str(cluster.project))],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert (result.returncode, result.stderr) == (
        2, "error: `unionml deactivate-schedules` needs flytekit, which is not installed [UMG754]\n"
        "  hint: install it beside unionml-codegen: pip install 'flytekit>=1.16,<2'\n",
    )  # fmt: skip
    closed = tmp_path / "closed.yaml"
    closed.write_text("admin:\n  endpoint: dns:///127.0.0.1:1\n  insecure: true\n")
    from unionml_codegen.cli import main

    result = CliRunner().invoke(main, ["deactivate-schedules", str(cluster.project), "daily_predictions",
                                       "--config", str(closed)])  # fmt: skip
    assert result.exit_code == 2
    first, hint = result.stderr.splitlines()
    assert first.startswith("error: cannot reach flyteadmin at 127.0.0.1:1 (") and first.endswith(" [UMG756]")
    assert hint == "  hint: check the endpoint in your Flyte config (--config, FLYTECTL_CONFIG) or FLYTE_PLATFORM_URL"
    missing = unionml(cluster, "fetch-predictions", str(cluster.project), "f0000000000000000000", ok=False)
    first, hint = missing.stderr.splitlines()
    assert first.startswith(f"error: flyteadmin at {cluster.standin.endpoint} has no such entity (GetExecution: ")
    assert "f0000000000000000000" in first and first.endswith(" [UMG758]") and "Traceback" not in missing.output
    assert hint.startswith("  hint: check the name, and the --project/--domain it is in")


HELP = """
import sys
from unionml_codegen.cli import main
for command in ("deploy", "activate-schedules", "deactivate-schedules", "prune-schedules", "list-scheduled-training-runs",
                "list-scheduled-prediction-runs", "list-model-versions", "fetch-model", "fetch-predictions", "backfill"):
    try:
        main([command, "--help"])
    except SystemExit as exit:
        assert exit.code == 0, command
print("heavy:", sorted(m for m in ("flytekit", "grpc", "pandas", "sklearn", "joblib") if m in sys.modules))
"""


def test_the_cluster_commands_help_imports_no_flytekit():
    import subprocess

    result = subprocess.run([sys.executable, "-c", HELP], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--remote" in result.stdout and "--no-schedule" in result.stdout
    assert result.stdout.splitlines()[-1] == "heavy: []"


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """`unionml ARGS` with its stdin, stdout and stderr on a pseudo-terminal, typing `answer`; (exit code, output)."""
    import os
    import pty
    import select
    import subprocess

    from ..helpers import UNIONML

    primary, secondary = pty.openpty()
    process = subprocess.Popen([*UNIONML, *args], stdin=secondary, stdout=secondary, stderr=secondary,
                               close_fds=True)  # fmt: skip
    os.close(secondary)
    output, answered = b"", False
    while True:
        ready, _, _ = select.select([primary], [], [], 120)
        if not ready:
            process.kill()
            raise AssertionError(f"no output for 120 s: {output!r}")
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"[y/N]" in output:
            os.write(primary, answer.encode() + b"\n")
            answered = True
    os.close(primary)
    return process.wait(timeout=120), output.decode().replace("\r\n", "\n")


def test_switching_every_schedule_needs_all_and_a_yes_and_says_what_changed(cluster):
    standin, project = cluster.standin, str(cluster.project)
    before = standin.active()
    # no names and no --all: nothing is switched, whatever the terminal
    refused = run_cli("deactivate-schedules", project, "--config", str(cluster.config))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"error: name the schedules to deactivate, or pass --all for every schedule of {project} (3) [UMG765]",
        f"  hint: `unionml deactivate-schedules {project} NAME...`, or `--all` (and --yes where no terminal can confirm)",
    ]
    # --all where no terminal can confirm it (CI, a pipe): --yes is needed
    piped = run_cli("deactivate-schedules", project, "--all", "--config", str(cluster.config))
    assert piped.returncode == 2 and piped.stdout == ""
    assert piped.stderr.splitlines()[0] == (
        f"error: --all would deactivate every schedule of {project} (3) in flytesnacks/development, and there is no "
        "terminal to confirm it [UMG765]"
    )
    together = run_cli("deactivate-schedules", project, "weekly_retraining", "--all", "--config", str(cluster.config))
    assert together.returncode == 2 and together.stderr.splitlines()[0].endswith(" [UMG764]")
    assert standin.active() == before
    # on a terminal the question is asked: no keeps everything, yes switches them all
    code, said = _on_a_terminal(["deactivate-schedules", project, "--all", "--config", str(cluster.config)], "n")
    assert code == 2 and "deactivate 3 schedules in flytesnacks/development (" in said, said
    assert "not confirmed: nothing was deactivated [UMG765]" in said
    assert standin.active() == before
    code, said = _on_a_terminal(["deactivate-schedules", project, "--all", "--config", str(cluster.config)], "y")
    assert code == 0, said
    was = {name: before.get(name) for name in SCHEDULES}
    assert said.splitlines()[-4:] == [
        *(f"{name}: INACTIVE (was active at version {was[name]})" if was[name] else f"{name}: INACTIVE (already)"
          for name in SCHEDULES),
        f"deactivated {sum(1 for v in was.values() if v)} of 3 schedules in flytesnacks/development ("
        + ", ".join(name for name in SCHEDULES if was[name]) + ")"
        + ("" if all(was.values()) else f"; {sum(1 for v in was.values() if not v)} INACTIVE already"),
    ]  # fmt: skip
    assert not set(SCHEDULES) & set(standin.active())
    # unionml 0.2.1's --name is accepted; the line of a schedule already in the state asked says so
    unionml(cluster, "activate-schedules", project, "weekly_retraining", "--version", "v1")
    result = unionml(cluster, "activate-schedules", project, "--name", "weekly_retraining", "--name",
                     "daily_predictions", "--version", "v1")  # fmt: skip
    assert result.output.splitlines() == [
        "weekly_retraining: ACTIVE at version v1 (already)",
        "daily_predictions: ACTIVE at version v1",
        "activated 1 of 2 schedules in flytesnacks/development (daily_predictions); 1 ACTIVE already",
    ]
    assert {name: standin.active().get(name) for name in SCHEDULES} == {
        "weekly_retraining": "v1", "daily_predictions": "v1", "hourly_predictions_with_latest_model": None
    }  # fmt: skip
    # back to the state this test started from, for the tests after it
    for name in SCHEDULES:
        if before.get(name):
            unionml(cluster, "activate-schedules", project, name, "--version", before[name])
        else:
            unionml(cluster, "deactivate-schedules", project, name)
    assert standin.active() == before


def test_a_failed_run_is_listed_with_its_error_and_the_node_that_failed(cluster):
    """A prediction of the latest model in a domain with no training run fails in its model task; the lists show
    why, in text and --json, from flyteadmin's execution error and node executions."""
    standin, project = cluster.standin, str(cluster.project)
    deployed = run_cli("deploy", project, "--version", "v1", "-d", "staging",
                       "--config", str(cluster.config))  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr
    name = standin.fire("hourly_predictions_with_latest_model", LATEST_AT, domain="staging")
    row = standin.execution(name, domain="staging")
    assert row.phase == 6, row.error  # FAILED
    failed_nodes = [node for node in row.nodes if node.phase == 5]
    assert len(failed_nodes) == 1  # the stand-in reports node executions as flytepropeller does
    node_id = failed_nodes[0].ident.node_id

    runs = json.loads(unionml(cluster, "list-scheduled-prediction-runs", project,
                              "hourly_predictions_with_latest_model", "-d", "staging", "--json").stdout)  # fmt: skip
    [run] = runs
    assert (run["execution"], run["phase"], run["failed_node"]) == (name, "FAILED", node_id)
    assert run["error_code"] == "USER:Standin"
    workflow = standin.workflows[row.workflow].spec.template
    task = next(n.task_node.reference_id.name for n in workflow.nodes if n.id == node_id)
    assert run["failed_task"] == task and task.startswith("digits_batch.")
    assert "no successful training execution of" in run["error"] and "flytesnacks/staging" in run["error"]
    assert "\n" not in run["error"] and len(run["error"]) <= 240
    assert "\n" in row.error  # flyteadmin's message is the whole traceback; the list shows its one line

    text = unionml(cluster, "list-scheduled-prediction-runs", project, "hourly_predictions_with_latest_model",
                   "-d", "staging").stdout.splitlines()  # fmt: skip
    assert text[1].split()[:3] == [name, _iso(LATEST_AT), "FAILED"]
    assert text[2] == ""
    assert text[3] == f"{name} FAILED at node {node_id} ({task}): {run['error']}"
    # and a succeeded run has none of it
    ok = json.loads(unionml(cluster, "list-scheduled-training-runs", project, "weekly_retraining", "--json").stdout)
    assert all(r["error"] is None and r["failed_node"] is None for r in ok if r["phase"] == "SUCCEEDED")


def test_schedules_remote_shows_the_active_version_last_run_and_next_kickoff_on_the_cluster(cluster):
    standin, project = cluster.standin, str(cluster.project)
    active = standin.active()
    assert {name: active.get(name) for name in SCHEDULES} == {
        "weekly_retraining": "v1", "daily_predictions": "v2", "hourly_predictions_with_latest_model": "v2"
    }, active  # fmt: skip
    unionml(cluster, "deactivate-schedules", project, "daily_predictions")  # deployed, none ACTIVE
    fired = standin.fire("hourly_predictions_with_latest_model", LATEST_AT + timedelta(hours=5), run=False)
    now = "2026-12-01T00:20:00Z"
    state = json.loads(unionml(cluster, "schedules", project, "--remote", "--now", now, "--json").stdout)
    assert (state["flyte_project"], state["domain"], state["now"]) == ("flytesnacks", "development", now)
    by_name = {s["name"]: s for s in state["schedules"]}
    assert list(by_name) == list(SCHEDULES)
    weekly, daily, hourly = (by_name[name] for name in SCHEDULES)

    def newest(name):  # the stand-in's newest execution of a launch plan, as flyteadmin would sort it
        rows = [
            row for key, row in standin.executions.items() if key[1] == "development" and row.launch_plan[2] == name
        ]
        return max(rows, key=lambda row: (row.created_at, row.id))

    assert (weekly["active_version"], weekly["active_versions"]) == ("v1", ["v1"])
    assert weekly["deployed_versions"] == ["v2", "v1"]
    assert weekly["registered_schedule"] == {"cron": "0 3 * * MON", "fixed_rate_seconds": None}
    assert weekly["matches_project"] is True
    assert weekly["next_kickoff"] == "2026-12-07T03:00:00Z"  # the next Monday 03:00 after --now
    assert weekly["last_run"]["execution"] == newest("weekly_retraining").ident.name
    assert (daily["active_version"], daily["active_versions"], daily["next_kickoff"]) == (None, [], None)
    assert daily["notes"] == [
        "deployed, no version ACTIVE: it does not fire (`unionml activate-schedules` switches it on)"
    ]
    # a fixed rate's phase is its last scheduled run's: 12:00 + k hours
    assert hourly["active_version"] == "v2" and hourly["last_run"]["execution"] == fired
    assert hourly["last_run"]["kickoff"] == _iso(LATEST_AT + timedelta(hours=5))
    assert hourly["registered_schedule"] == {"cron": None, "fixed_rate_seconds": 3600}
    assert hourly["next_kickoff"] == "2026-12-01T01:00:00Z"

    text = unionml(cluster, "schedules", project, "--remote", "--now", now).stdout.splitlines()
    assert text[0] == (f"{project}: 3 schedules of package digits_batch in flytesnacks/development (flyteadmin at "
                       f"{standin.endpoint}), at {now}")  # fmt: skip
    assert text[1].split() == ["SCHEDULE", "ACTIVE", "VERSION", "LAST", "RUN", "LAST", "KICKOFF", "(UTC)", "NEXT",
                               "KICKOFF", "(UTC)"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in text[2:5]}
    assert rows["weekly_retraining"][1] == "v1" and rows["weekly_retraining"][-1] == "2026-12-07T03:00:00Z"
    assert rows["daily_predictions"][1] == "none" and rows["daily_predictions"][-1] == "-"
    assert rows["hourly_predictions_with_latest_model"][1:4] == ["v2", fired, "QUEUED"]
    assert text[5:] == [f"note: daily_predictions: {daily['notes'][0]}"]
    # another domain: nothing deployed there
    elsewhere = json.loads(unionml(cluster, "schedules", project, "--remote", "-d", "production", "--json").stdout)
    assert [s["notes"] for s in elsewhere["schedules"]] == [["not deployed in flytesnacks/production"]] * 3
    unionml(cluster, "activate-schedules", project, "daily_predictions", "--version", "v2")  # as it was


def test_backfill_remote_dry_run_lists_the_executions_it_would_start_and_starts_none(cluster):
    standin, project = cluster.standin, str(cluster.project)
    assert standin.active()["weekly_retraining"] == "v1"
    args = ("backfill", project, "weekly_retraining", "--remote", "--dry-run", "--from", "2026-11-23",
            "--to", "2026-12-14T12:00:00")  # fmt: skip
    before = dict(standin.executions)
    record = json.loads(unionml(cluster, *args, "--json").stdout)
    assert set(standin.executions) == set(before)  # nothing started
    mondays = [datetime(2026, 11, 23, 3, tzinfo=timezone.utc) + timedelta(weeks=k) for k in range(4)]
    names = [scheduled_execution_name("flytesnacks", "development", "weekly_retraining", "v1", t) for t in mondays]
    assert [(r["kickoff"], r["execution"], r["status"]) for r in record["runs"]] == [
        (_iso(mondays[0]), names[0], "already_there"), (_iso(mondays[1]), names[1], "already_there"),
        (_iso(mondays[2]), names[2], "would_start"), (_iso(mondays[3]), names[3], "would_start"),
    ]  # fmt: skip
    assert names[:2] == cluster.trainings  # the scheduler's own runs of those kickoffs
    assert (record["dry_run"], record["would_start"], record["already_there"], record["failed"]) == (True, 2, 2, 0)
    text = unionml(cluster, *args)
    assert text.stdout.splitlines()[0] == ("weekly_retraining: version v1 (the ACTIVE version) in "
                                           "flytesnacks/development: dry run, nothing is started")  # fmt: skip
    assert text.stdout.splitlines()[5:7] == [f"{_iso(mondays[2])}  would start",
                                             f"  would start execution {names[2]} of version v1"]  # fmt: skip
    assert text.stdout.splitlines()[-1] == (
        "weekly_retraining: 2 would start, 2 already there, 0 failed; nothing was started"
    )
    assert "\x1b" not in text.output  # no terminal: plain lines, no progress bar
    assert set(standin.executions) == set(before)
    # the real run starts exactly the two listed
    started = json.loads(unionml(cluster, *args[:4], *args[5:], "--json").stdout)
    assert [r["execution"] for r in started["runs"] if r["status"] == "started"] == names[2:]
    assert set(standin.executions) - set(before) == {("flytesnacks", "development", name) for name in names[2:]}
    # a latest-model schedule says what "latest" means in a backfill
    latest = unionml(cluster, "backfill", project, "hourly_predictions_with_latest_model", "--remote", "--dry-run",
                     "--from", "2026-11-30T07:00:00", "--to", "2026-11-30T07:00:00")  # fmt: skip
    assert ("note: model_version='latest': each execution uses the newest successful training execution when it "
            "runs, not the one newest at its kickoff") in latest.stderr  # fmt: skip
    # --dry-run is for --remote
    local = unionml(cluster, "backfill", project, "weekly_retraining", "--dry-run", "--from", "2026-11-23",
                    "--to", "2026-11-24", ok=False)  # fmt: skip
    assert local.stderr.splitlines()[0].startswith("error: --dry-run lists the executions `backfill --remote` would ")
    assert local.stderr.splitlines()[0].endswith(" [UMG764]")


def test_on_a_terminal_deploy_and_a_remote_backfill_show_a_progress_bar(cluster):
    project, config = str(cluster.project), str(cluster.config)
    code, said = _on_a_terminal(["deploy", project, "--version", "v9", "-d", "staging", "--no-schedule",
                                 "--config", config], "")  # fmt: skip
    assert code == 0, said
    assert "\x1b[" in said and "registering digits_batch v9" in said  # rich's bar, drawn and cleared
    assert "registered digits_batch version v9 in flytesnacks/staging: 7 tasks, 5 workflows, 8 launch plans" in said
    assert "registering 20 entities" not in said  # the plain line is for no terminal
    code, said = _on_a_terminal(["backfill", project, "weekly_retraining", "--remote", "--dry-run", "--from",
                                 "2026-12-20", "--to", "2026-12-29", "--config", config], "")  # fmt: skip
    assert code == 0, said
    assert "weekly_retraining: looking up 2 kickoffs" in said
    assert "2026-12-21T03:00:00Z  would start" in said and "2026-12-28T03:00:00Z  would start" in said
