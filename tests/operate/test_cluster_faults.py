"""The cluster commands under faults and races (issue 23), against the flyteadmin STAND-IN through flytekit's
real client, with faults injected by the stand-in's gRPC server interceptor (tests/support/faults.py): calls
that fail, never answer, are applied and then lose their reply, or are cut at the Nth call; and activations
racing as flyteadmin lets them (it reads the ACTIVE version and writes later, with no lock between).

Deadlines are small (0.2 s) and backoff pauses short so the tests stay fast; no assertion depends on timing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner

from ..helpers import EXAMPLES, UNIONML, run_cli
from ..support.flyteadmin_standin import FlyteAdminStandin, forget_package, scheduled_execution_name

IMAGE = "ghcr.io/your-org/your-app:latest"
SCHEDULES = ("weekly_retraining", "daily_predictions", "hourly_predictions_with_latest_model")
FAST = {"UNIONML_FLYTEADMIN_TIMEOUT": "0.2", "UNIONML_FLYTEADMIN_RETRIES": "3", "UNIONML_FLYTEADMIN_BACKOFF": "0.01"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """digits_batch deployed at v1 (schedules activated) and v2 (--no-schedule) on a fresh stand-in."""
    from flytekit.core.context_manager import FlyteEntities

    forget_package("digits_batch")
    # what an earlier module declared in this process (deploy registers from it), and another copy's directory
    # on sys.path (an in-process `unionml run`), left out while this module runs
    saved_path, saved_entities = sys.path[:], FlyteEntities.entities[:]
    FlyteEntities.entities[:] = []
    sys.path[:] = [
        entry for entry in sys.path if not (Path(entry or ".") / "digits_batch" / "__init__.py").is_file()
    ]  # an earlier module's in-process command loaded another copy of it
    root = tmp_path_factory.mktemp("faults")
    shutil.copytree(EXAMPLES / "digits_batch", root / "digits_batch")
    project = root / "digits_batch" / "flyte"
    generated = run_cli("generate", str(root / "digits_batch" / "app.py"), "-o", str(project))
    assert generated.returncode == 0, generated.stderr
    with FlyteAdminStandin(root / "blob") as standin:
        config = standin.write_config(root / "config.yaml")
        standin.add_image(IMAGE, project)
        namespace = types.SimpleNamespace(standin=standin, config=config, project=project, root=root)
        unionml(namespace, "deploy", str(project), "--version", "v1")
        unionml(namespace, "deploy", str(project), "--version", "v2", "--no-schedule")
        yield namespace
    forget_package("digits_batch")
    sys.path[:], FlyteEntities.entities[:] = saved_path, saved_entities


@pytest.fixture(autouse=True)
def no_faults_left(cluster):
    yield
    cluster.standin.faults.clear()
    cluster.standin.activation_gap = None


def unionml(cluster, *args: str, code: int = 0, env: dict | None = None):
    """A cluster command in this process, as `unionml ARGS --config CONFIG`, with short deadlines."""
    from unionml_codegen.cli import main

    placeholder = ["--allow-placeholder-image"] if args[:1] == ("deploy",) else []  # the stand-in runs it (item 6)
    result = CliRunner().invoke(main, [*args, *placeholder, "--config", str(cluster.config)],
                                env={**FAST, **(env or {})}, catch_exceptions=False)  # fmt: skip
    assert result.exit_code == code, result.output
    return result


def _unindented(stdout: str) -> list[str]:
    """deploy's lines without what it lists under `registered ...` (its image, project/domain and entities)."""
    return [line for line in stdout.splitlines() if not line.startswith("  ")]


def _without_progress(stderr: str) -> str:
    """stderr without deploy's progress lines (`registering 20 entities of ...`, printed as it goes)."""
    return "".join(line for line in stderr.splitlines(keepends=True) if not line.startswith("registering "))


def _at(day: int) -> datetime:
    return datetime(2026, 10, day, 3, tzinfo=timezone.utc)


def _backfill(cluster, first: int, last: int, *extra: str, code: int = 0):
    return unionml(cluster, "backfill", str(cluster.project), "weekly_retraining", "--remote", "--from",
                   f"2026-10-{first:02d}", "--to", f"2026-10-{last:02d}T23:00:00", *extra, code=code)  # fmt: skip


def _executions_of(standin, version: str) -> set[str]:
    return {key[2] for key, row in standin.executions.items() if row.launch_plan[2:] == ("weekly_retraining", version)}


def test_the_fault_injector_fails_hangs_and_loses_replies_of_the_nth_call(cluster):
    from flyteidl.admin import launch_plan_pb2
    from flyteidl.core import identifier_pb2
    from flyteidl.service import admin_pb2_grpc

    standin, faults = cluster.standin, cluster.standin.faults
    ident = identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, project="flytesnacks",
                                      domain="development", name="daily_predictions", version="v2")  # fmt: skip
    request = launch_plan_pb2.LaunchPlanUpdateRequest(id=ident, state=launch_plan_pb2.INACTIVE)
    get = identifier_pb2.Identifier()
    get.CopyFrom(ident)
    with grpc.insecure_channel(standin.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        faults.add("fail", "GetLaunchPlan", nth=2, code=grpc.StatusCode.PERMISSION_DENIED)
        admin.GetLaunchPlan(launch_plan_pb2.ObjectGetRequest(id=get) if hasattr(launch_plan_pb2, "ObjectGetRequest")
                            else __import__("flyteidl.admin.common_pb2").admin.common_pb2.ObjectGetRequest(id=get))  # fmt: skip
        with pytest.raises(grpc.RpcError) as cut:  # the 2nd call is cut
            admin.GetLaunchPlan(__import__("flyteidl.admin.common_pb2").admin.common_pb2.ObjectGetRequest(id=get))
        assert cut.value.code() == grpc.StatusCode.PERMISSION_DENIED
        _activate_raw(standin, "daily_predictions", "v2")
        faults.add("lose_reply", "UpdateLaunchPlan")  # applied, then UNAVAILABLE
        with pytest.raises(grpc.RpcError) as lost:
            admin.UpdateLaunchPlan(request)
        assert lost.value.code() == grpc.StatusCode.UNAVAILABLE and "daily_predictions" not in standin.active()
        faults.add("hang", "UpdateLaunchPlan")  # never answered: the client's deadline ends it
        with pytest.raises(grpc.RpcError) as hung:
            admin.UpdateLaunchPlan(request, timeout=0.2)
        assert hung.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        faults.release()
    assert faults.calls[-5:] == ["GetLaunchPlan", "GetLaunchPlan", "UpdateLaunchPlan", "UpdateLaunchPlan",
                                 "UpdateLaunchPlan"]  # fmt: skip


def test_backfill_remote_under_a_lost_reply_a_timeout_and_a_cut_starts_each_kickoff_once_and_resumes(cluster):
    standin, faults = cluster.standin, cluster.standin.faults
    unionml(cluster, "activate-schedules", str(cluster.project), "weekly_retraining", "--version", "v1")
    # CreateExecution calls: #1 starts Oct 5; #2 (Oct 12) is applied and its reply lost, and its retry #3 gets
    # ALREADY_EXISTS; #4 (Oct 19) is applied and never answered, and its retry after the deadline (#5) gets
    # ALREADY_EXISTS; #6 (Oct 26) is refused with INTERNAL (not retryable): the backfill stops there
    faults.add("lose_reply", "CreateExecution", nth=2)
    faults.add("apply_then_hang", "CreateExecution", nth=4)
    faults.add("fail", "CreateExecution", nth=6, code=grpc.StatusCode.INTERNAL)
    cut = _backfill(cluster, 1, 31, code=1)  # October 2026's Mondays: 5, 12, 19, 26
    lines = cut.stdout.splitlines()
    kickoffs = [_at(day) for day in (5, 12, 19, 26)]
    names = [scheduled_execution_name("flytesnacks", "development", "weekly_retraining", "v1", at) for at in kickoffs]
    assert lines[0] == "weekly_retraining: version v1 (the ACTIVE version) in flytesnacks/development"
    assert [line for line in lines[1:] if not line.startswith("  ")] == [
        "2026-10-05T03:00:00Z  started",
        "2026-10-12T03:00:00Z  already there",
        "2026-10-19T03:00:00Z  already there",
        "2026-10-26T03:00:00Z  FAILED",
        "weekly_retraining: 1 started, 2 already there, 1 failed; rerun the same command to start the rest: "
        "kickoffs already started are not started again",
    ]
    assert lines[-2] == (f"  failed: flyteadmin at {standin.endpoint} refused CreateExecution (INTERNAL): "
                         "injected fault: INTERNAL on CreateExecution; rerun later; if it persists, the message above "
                         "is flyteadmin's own")  # fmt: skip
    assert faults.count("CreateExecution") == 6 and "Traceback" not in cut.output
    assert _executions_of(standin, "v1") == set(names[:3])  # each kickoff once, the failed one not at all
    rerun = json.loads(_backfill(cluster, 1, 31, "--json").stdout)
    assert [(run["status"], run["execution"]) for run in rerun["runs"]] == [
        ("already_there", names[0]), ("already_there", names[1]), ("already_there", names[2]), ("started", names[3]),
    ]  # fmt: skip
    assert _executions_of(standin, "v1") == set(names)


def test_every_call_has_a_deadline_and_the_retryable_codes_are_retried(cluster):
    faults = cluster.standin.faults
    faults.add("hang", "ListExecutions", times=None, seconds=5)  # accepted, never answered
    hung = unionml(cluster, "list-scheduled-training-runs", str(cluster.project), "weekly_retraining", code=2,
                   env={"UNIONML_FLYTEADMIN_RETRIES": "1"})  # fmt: skip
    assert hung.stderr == (
        f"error: flyteadmin at {cluster.standin.endpoint} did not answer ListExecutions within 0.2 s (2 attempts) "
        "[UMG757]\n  hint: it is reachable but slow or stuck: rerun later, or allow more time with --timeout SECONDS "
        "(UNIONML_FLYTEADMIN_TIMEOUT)\n"
    )
    assert faults.count("ListExecutions") == 2
    faults.clear()
    _activate_raw(cluster.standin, "daily_predictions", "v1")
    # flytekit does not retry DEADLINE_EXCEEDED, and retries the rest at once: the command retries with backoff
    faults.add("fail", "UpdateLaunchPlan", code=grpc.StatusCode.DEADLINE_EXCEEDED)
    faults.add("fail", "ListLaunchPlans", times=2, code=grpc.StatusCode.UNAVAILABLE)
    result = unionml(cluster, "deactivate-schedules", str(cluster.project), "daily_predictions")
    assert result.output == "daily_predictions: INACTIVE (was active at version v1)\n"
    assert "daily_predictions" not in cluster.standin.active()
    # an unreachable flyteadmin is still "cannot reach", and names the attempts
    faults.add("fail", times=None, code=grpc.StatusCode.UNAVAILABLE)
    down = unionml(cluster, "activate-schedules", str(cluster.project), "daily_predictions", code=2,
                   env={"UNIONML_FLYTEADMIN_RETRIES": "2"})  # fmt: skip
    assert down.stderr.startswith(f"error: cannot reach flyteadmin at {cluster.standin.endpoint} (injected fault")
    assert "; 3 attempts) [UMG756]" in down.stderr and len(down.stderr.splitlines()) == 2
    assert down.stderr.splitlines()[1].startswith("  hint: ")


def _activate_raw(standin, name: str, version: str, state: str = "ACTIVE") -> None:
    from flyteidl.admin import launch_plan_pb2
    from flyteidl.core import identifier_pb2
    from flyteidl.service import admin_pb2_grpc

    ident = identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, project="flytesnacks",
                                      domain="development", name=name, version=version)  # fmt: skip
    with grpc.insecure_channel(standin.endpoint) as channel:
        admin_pb2_grpc.AdminServiceStub(channel).UpdateLaunchPlan(
            launch_plan_pb2.LaunchPlanUpdateRequest(id=ident, state=launch_plan_pb2.LaunchPlanState.Value(state))
        )


def _race(standin, name: str, versions: tuple[str, str]) -> None:
    """Two activations of `name` at once, as flyteadmin lets them cross: both read before either writes. From
    no ACTIVE version, so both read nothing to deactivate and both versions end ACTIVE whatever the order of
    the writes."""
    for version in _active_versions(standin, name):
        _activate_raw(standin, name, version, "INACTIVE")
    barrier = threading.Barrier(2, timeout=60)
    standin.activation_gap = lambda key: barrier.wait()
    threads = [threading.Thread(target=_activate_raw, args=(standin, name, version)) for version in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    standin.activation_gap = None


def _active_versions(standin, name: str) -> list[str]:
    return sorted(v for (n, v), state in standin.launch_plan_states().items() if n == name and state == "ACTIVE")


def test_two_activations_at_once_leave_two_active_versions_on_the_standin_as_on_flyteadmin(cluster):
    standin = cluster.standin
    _activate_raw(standin, "daily_predictions", "v1")
    _race(standin, "daily_predictions", ("v1", "v2"))
    assert _active_versions(standin, "daily_predictions") == ["v1", "v2"]  # both fire
    _activate_raw(standin, "daily_predictions", "v1")  # flyteadmin deactivates ONE (its Limit 1 read found v1)
    assert _active_versions(standin, "daily_predictions") == ["v1", "v2"]
    standin.serialize_activation = True  # a kinder server: one lock over the read and the write
    try:
        _activate_raw(standin, "daily_predictions", "v2")
        assert _active_versions(standin, "daily_predictions") == ["v2"]
    finally:
        standin.serialize_activation = False


def test_activation_converges_when_a_race_left_two_active_versions(cluster):
    standin = cluster.standin
    _activate_raw(standin, "hourly_predictions_with_latest_model", "v1")
    _race(standin, "hourly_predictions_with_latest_model", ("v1", "v2"))
    assert _active_versions(standin, "hourly_predictions_with_latest_model") == ["v1", "v2"]
    result = unionml(cluster, "activate-schedules", str(cluster.project), "hourly_predictions_with_latest_model",
                     "--version", "v1")  # fmt: skip
    assert result.output == "hourly_predictions_with_latest_model: ACTIVE at version v1 (deactivated v2: ACTIVE too)\n"
    assert _active_versions(standin, "hourly_predictions_with_latest_model") == ["v1"]
    # and a backfill refuses to guess between two ACTIVE versions
    _race(standin, "weekly_retraining", ("v1", "v2"))
    assert _active_versions(standin, "weekly_retraining") == ["v1", "v2"]
    refused = _backfill(cluster, 1, 7, code=2)
    assert refused.stderr.startswith(
        "error: schedule 'weekly_retraining' has 2 ACTIVE versions in flytesnacks/development"
    )
    unionml(cluster, "activate-schedules", str(cluster.project), "weekly_retraining", "--version", "v1")
    assert _active_versions(standin, "weekly_retraining") == ["v1"]


def test_two_activate_commands_at_once_end_with_one_active_version_and_the_loser_says_so(cluster):
    standin = cluster.standin
    for name in SCHEDULES:  # none ACTIVE: both activations read "nothing to deactivate", both write ACTIVE
        for version in _active_versions(standin, name):
            _activate_raw(standin, name, version, "INACTIVE")
    barrier = threading.Barrier(2, timeout=60)

    def gap(key):
        try:
            barrier.wait()  # each pair of activations (one from each command) reads before either writes
        except threading.BrokenBarrierError:
            pass

    standin.activation_gap = gap
    commands = [
        subprocess.Popen([*UNIONML, "activate-schedules", str(cluster.project), "--all", "--yes", "--version", version,
                          "--config", str(cluster.config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**__import__("os").environ, **FAST, "UNIONML_FLYTEADMIN_TIMEOUT": "30"})  # fmt: skip
        for version in ("v1", "v2")
    ]
    outputs = [command.communicate(timeout=300) for command in commands]
    standin.activation_gap = None
    for name in SCHEDULES:  # converged: one ACTIVE version each, the one registered last
        assert _active_versions(standin, name) == ["v2"], (name, outputs)
    v1_out = outputs[0][0].splitlines()
    for name, line in zip(SCHEDULES, v1_out):
        assert line in (f"{name}: ACTIVE at version v1",  # true when it was read back, before v2's write
                        f"{name}: version v2 is ACTIVE, not v1: another activation of {name} ran at the same time "
                        "and was registered later; rerun to make v1 ACTIVE")  # fmt: skip
    lost = any("is ACTIVE, not v1" in line for line in v1_out)
    assert commands[0].returncode == (1 if lost else 0) and commands[1].returncode == 0, outputs
    assert outputs[1][0].splitlines()[0].startswith("weekly_retraining: ACTIVE at version v2")


def test_a_deploy_cut_part_way_says_what_was_done_and_a_rerun_finishes_it(cluster):
    standin, faults = cluster.standin, cluster.standin.faults
    faults.add("fail", "CreateWorkflow", nth=2, code=grpc.StatusCode.INTERNAL)
    cut = unionml(cluster, "deploy", str(cluster.project), "--version", "v3", code=2)
    assert cut.stdout == ""
    assert _without_progress(cut.stderr) == (
        f"error: flyteadmin at {standin.endpoint} refused CreateWorkflow (INTERNAL): injected fault: INTERNAL on "
        "CreateWorkflow (registered 8 of 20 entities (7/7 tasks, 1/5 workflows, 0/8 launch plans); switched: none; "
        f"not switched: {', '.join(SCHEDULES[:1] + SCHEDULES[1:])}) [UMG759]\n  hint: rerun `unionml deploy` of "
        "version v3 to finish it: what is done already is kept\n"
    )
    faults.clear()
    # the rerun registers the rest (what is there is ALREADY_EXISTS) and activates; this time the 2nd
    # activation is cut after the first schedule switched, and every schedule's line came as it happened
    faults.add("fail", "UpdateLaunchPlan", nth=2, times=None, code=grpc.StatusCode.INTERNAL)
    cut = unionml(cluster, "deploy", str(cluster.project), "--version", "v3", code=2)
    assert _unindented(cut.stdout) == [
        "registered digits_batch version v3 in flytesnacks/development: 7 tasks, 5 workflows, 8 launch plans",
        "weekly_retraining: ACTIVE at version v3",  # printed when it was switched, before the failure
    ]
    assert _without_progress(cut.stderr) == (
        f"error: flyteadmin at {standin.endpoint} refused UpdateLaunchPlan (INTERNAL): injected fault: INTERNAL on "
        "UpdateLaunchPlan (registered every entity; switched: weekly_retraining; not switched: daily_predictions, "
        "hourly_predictions_with_latest_model) [UMG759]\n  hint: rerun `unionml deploy` of version v3 to finish "
        "it: what is done already is kept\n"
    )
    assert standin.active()["weekly_retraining"] == "v3" and standin.active()["daily_predictions"] != "v3"
    faults.clear()
    finished = unionml(cluster, "deploy", str(cluster.project), "--version", "v3")
    assert [line.split(" (")[0] for line in _unindented(finished.stdout)[1:]] == [
        f"{name}: ACTIVE at version v3" for name in SCHEDULES
    ]
    assert {name: _active_versions(standin, name) for name in SCHEDULES} == {name: ["v3"] for name in SCHEDULES}
    assert len([key for key in standin.launch_plans if key[3] == "v3"]) == 8


# --------------------------------------------------------------------------------------------------
# Registration: ALREADY_EXISTS is "already registered" only when the server's copy is ours (defect 8)


def _plans_of(standin, version: str) -> set[str]:
    return {key[2] for key in standin.launch_plans if key[:2] == ("flytesnacks", "development") and key[3] == version}


def test_deploy_answered_already_exists_for_a_launch_plan_it_does_not_have_registers_it(cluster):
    standin, faults = cluster.standin, cluster.standin.faults
    # the 3rd CreateLaunchPlan is answered ALREADY_EXISTS and nothing is applied (a proxy, a fault): the plan
    # is not there, and a deploy that took the answer for "registered" would activate a schedule that is missing
    faults.add("fail", "CreateLaunchPlan", nth=3, code=grpc.StatusCode.ALREADY_EXISTS)
    result = unionml(cluster, "deploy", str(cluster.project), "--version", "v4", "--no-schedule")
    assert result.stdout.splitlines()[0] == (
        "registered digits_batch version v4 in flytesnacks/development: 7 tasks, 5 workflows, 8 launch plans"
    )
    assert len(_plans_of(standin, "v4")) == 8 and faults.count("GetLaunchPlan") >= 1


def test_deploy_racing_another_registration_of_the_same_version_fails_naming_the_launch_plan(cluster):
    standin = cluster.standin
    racing = threading.Event()

    def gap(key):  # while deploy's CreateLaunchPlan of daily_predictions@v5 sits between check and insert,
        if key[0] != "launch_plan" or key[3] != "daily_predictions" or racing.is_set():
            return  # another registration of daily_predictions@v5, with other content, gets in first
        racing.set()
        from flyteidl.admin import launch_plan_pb2

        other = launch_plan_pb2.LaunchPlanSpec()
        other.CopyFrom(standin.launch_plans[("flytesnacks", "development", "daily_predictions", "v1")].spec)
        other.workflow_id.version = "v5"
        other.labels.values["registered-by"] = "someone-else"
        ident = standin.launch_plans[("flytesnacks", "development", "daily_predictions", "v1")].ident
        request = launch_plan_pb2.LaunchPlanCreateRequest(id=ident, spec=other)
        request.id.version = "v5"
        standin.create_launch_plan(request)

    standin.registration_gap = gap
    try:
        result = unionml(cluster, "deploy", str(cluster.project), "--version", "v5", code=2)
    finally:
        standin.registration_gap = None
    assert racing.is_set() and result.stdout == ""
    assert _without_progress(result.stderr) == (
        "error: launch plan daily_predictions version v5 is registered in flytesnacks/development with other content "
        "than this project's launch plan (registered from other code, or by another deploy of the same version at "
        "the same time); nothing was activated [UMG760]\n  hint: deploy a new version (--version V); a version's "
        "entities cannot change once registered\n"
    )
    assert "v5" not in standin.active().values()  # the other registration's plan was not activated
    # a rerun is refused the same way (flyteadmin: a different structure is INVALID_ARGUMENT), naming it
    again = unionml(cluster, "deploy", str(cluster.project), "--version", "v5", code=2)
    assert _without_progress(again.stderr).startswith(
        "error: launch plan daily_predictions version v5 is registered in "
    )
    assert "v5" not in standin.active().values()


def test_the_standin_registers_as_flyteadmin_by_digest_and_check_then_insert(cluster):
    from flyteidl.admin import task_pb2, workflow_pb2
    from flyteidl.service import admin_pb2_grpc

    standin = cluster.standin
    task_key = next(key for key in standin.tasks if key[3] == "v1")
    with grpc.insecure_channel(standin.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)

        def create_task(change) -> grpc.StatusCode:
            spec = task_pb2.TaskSpec()
            spec.CopyFrom(standin.tasks[task_key].spec)
            change(spec)
            with pytest.raises(grpc.RpcError) as refused:
                admin.CreateTask(task_pb2.TaskCreateRequest(id=spec.template.id, spec=spec))
            return refused.value.code()

        # the docstring is stored apart from the compiled task: not in the digest, so identical
        assert create_task(lambda spec: setattr(spec.description.long_description, "value", "new words")) == (
            grpc.StatusCode.ALREADY_EXISTS
        )
        assert create_task(lambda spec: spec.template.container.args.append("--more")) == (
            grpc.StatusCode.INVALID_ARGUMENT
        )
        # a workflow is checked, then inserted: a racing create with other content gets in between, and this one
        # gets the database's ALREADY_EXISTS although its content differs
        workflow_key = next(key for key in standin.workflows if key[3] == "v1")
        original = standin.workflows.pop(workflow_key)
        other = workflow_pb2.WorkflowSpec()
        other.CopyFrom(original.spec)
        other.template.metadata_defaults.interruptible = not other.template.metadata_defaults.interruptible

        def gap(key):
            standin.registration_gap = None
            standin.create_workflow(workflow_pb2.WorkflowCreateRequest(id=other.template.id, spec=other))

        standin.registration_gap = gap
        try:
            with pytest.raises(grpc.RpcError) as raced:
                admin.CreateWorkflow(
                    workflow_pb2.WorkflowCreateRequest(id=original.spec.template.id, spec=original.spec)
                )
        finally:
            standin.registration_gap = None
            standin.workflows[workflow_key] = original
        assert raced.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert raced.value.details().startswith("value with matching already exists")


# --------------------------------------------------------------------------------------------------
# Lists: paged lazily, sorted, --limit honoured and a note when there are more (defect 9)


def test_list_commands_page_lazily_honour_limit_and_say_when_there_are_more(cluster):
    from flyteidl.admin import common_pb2
    from flyteidl.service import admin_pb2_grpc

    standin, faults = cluster.standin, cluster.standin.faults
    unionml(cluster, "activate-schedules", str(cluster.project), "hourly_predictions_with_latest_model",
            "--version", "v1")  # fmt: skip
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for hour in range(130):  # scheduled runs, not run: each carries its kickoff time (no GetExecutionData)
        standin.fire("hourly_predictions_with_latest_model", start + timedelta(hours=hour),
                     run=False)  # fmt: skip
    total = sum(
        1 for row in standin.executions.values() if row.launch_plan[2] == "hourly_predictions_with_latest_model"
    )
    assert total >= 130
    # flyteadmin has no default ORDER BY: two pages of an unsorted list repeat and skip rows on the stand-in too
    with grpc.insecure_channel(standin.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        request = dict(id=common_pb2.NamedEntityIdentifier(project="flytesnacks", domain="development"), limit=100,
                       filters="eq(launch_plan.name,hourly_predictions_with_latest_model)")  # fmt: skip
        first = admin.ListExecutions(common_pb2.ResourceListRequest(**request))
        second = admin.ListExecutions(common_pb2.ResourceListRequest(**request, token=first.token))
        seen = [e.id.name for e in [*first.executions, *second.executions]]
        assert len(set(seen)) < min(len(seen), total)
    before = faults.count("ListExecutions")
    shown = unionml(cluster, "list-scheduled-prediction-runs", str(cluster.project),
                    "hourly_predictions_with_latest_model", "--limit", "120", "--json")  # fmt: skip
    runs = json.loads(shown.stdout)
    assert faults.count("ListExecutions") - before == 2  # 100 rows, then 21: no further than needed
    assert len(runs) == 120 and len({run["execution"] for run in runs}) == 120
    newest = sorted((row for row in standin.executions.values()
                     if row.launch_plan[2] == "hourly_predictions_with_latest_model"),
                    key=lambda row: row.created_at, reverse=True)  # fmt: skip
    assert [run["execution"] for run in runs] == [row.ident.name for row in newest[:120]]
    assert shown.stderr == (
        "note: showing the newest 120 runs of hourly_predictions_with_latest_model; there are more: pass a larger "
        "--limit (up to 10000)\n"
    )
    everything = unionml(cluster, "list-scheduled-prediction-runs", str(cluster.project),
                         "hourly_predictions_with_latest_model", "--limit", "10000", "--json")  # fmt: skip
    assert len(json.loads(everything.stdout)) == total and everything.stderr == ""


# --------------------------------------------------------------------------------------------------
# Executions as strict as flyteadmin v1.16: concurrency answers, and short errors in lists


def test_a_launch_plan_at_its_concurrency_limit_refuses_a_backfill_kickoff_as_flyteadmin_does(cluster):
    from flyteidl.admin import launch_plan_pb2
    from flyteidl.service import admin_pb2_grpc

    standin = cluster.standin
    # weekly_retraining version vc: v1's launch plan with a concurrency policy (SKIP beyond `max` QUEUED or
    # RUNNING executions of the name, any version); `max` leaves room for exactly one more execution
    active = sum(1 for row in standin.executions.values()
                 if row.launch_plan[2] == "weekly_retraining" and row.phase in (1, 2))  # fmt: skip
    original = standin.launch_plans[("flytesnacks", "development", "weekly_retraining", "v1")]
    request = launch_plan_pb2.LaunchPlanCreateRequest()
    request.id.CopyFrom(original.ident)
    request.id.version = "vc"
    request.spec.CopyFrom(original.spec)
    request.spec.concurrency_policy.max = active + 1
    request.spec.concurrency_policy.behavior = launch_plan_pb2.CONCURRENCY_LIMIT_BEHAVIOR_SKIP
    with grpc.insecure_channel(standin.endpoint) as channel:
        admin_pb2_grpc.AdminServiceStub(channel).CreateLaunchPlan(request)
    result = _backfill(cluster, 1, 12, "--version", "vc", "--continue-on-error", code=1)  # Mondays Oct 5, 12
    statuses = [line for line in result.stdout.splitlines() if line.startswith("2026-")]
    assert statuses == ["2026-10-05T03:00:00Z  started", "2026-10-12T03:00:00Z  FAILED"]
    assert (f"  failed: flyteadmin at {standin.endpoint} refused CreateExecution (ALREADY_EXISTS): concurrency "
            f"limit ({active + 1}) reached for launch plan weekly_retraining; skipping execution") in result.stdout  # fmt: skip
    assert _executions_of(standin, "vc") == {
        scheduled_execution_name("flytesnacks", "development", "weekly_retraining", "vc", _at(5))
    }  # a kinder stand-in would have started both, and the rerun after the first ends would not be needed


def test_lists_give_executions_errors_cut_to_100_bytes_as_flyteadmin_does(cluster):
    from flytekit.models.core.identifier import WorkflowExecutionIdentifier
    from flytekit.remote import FlyteRemote
    from flytekit.configuration import Config

    standin = cluster.standin
    name = standin.fire("hourly_predictions_with_latest_model", datetime(2026, 9, 1, tzinfo=timezone.utc),
                        domain="development", run=False)  # fmt: skip
    row = standin.execution(name)
    row.error, row.phase = "a failure of " + "é" * 60 + " whose reason is at the end: NOT_FOUND", 6  # 134 bytes
    remote = FlyteRemote(Config.for_endpoint(standin.endpoint, insecure=True))
    whole = remote.client.get_execution(WorkflowExecutionIdentifier("flytesnacks", "development", name))
    assert whole.closure.error.message == row.error
    listed, _ = remote.client.list_executions_paginated("flytesnacks", "development", limit=100,
                                                        filters=[__import__("flytekit.models.filters").models.filters
                                                                 .Equal("execution_name", name)])  # fmt: skip
    [execution] = listed
    assert execution.closure.error.message == "a failure of " + "é" * 43  # 99 bytes: the cut half of é dropped
    assert "NOT_FOUND" not in execution.closure.error.message  # a list command must read the execution for it
    standin.full_list_errors = True  # a kinder server
    try:
        listed, _ = remote.client.list_executions_paginated("flytesnacks", "development", limit=100,
                                                            filters=[__import__("flytekit.models.filters").models
                                                                     .filters.Equal("execution_name", name)])  # fmt: skip
        assert listed[0].closure.error.message == row.error
    finally:
        standin.full_list_errors = False
