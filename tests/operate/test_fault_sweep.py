"""A fault sweep (issue 23, "Done when"): every fault kind at every call of one `deploy`, one `deploy
--no-schedule`, one `backfill --remote` and one `prune-schedules`, against the flyteadmin STAND-IN through
flytekit's real client, faults injected by its gRPC server interceptor (tests/support/faults.py).

Each trial arms one fault at the Nth call the command makes (any method), runs the command, then checks
the invariants; then reruns the same command with no fault and checks that it finished the job:

* no traceback, and an exit code of 0, 1 or 2 with one `error:` line (and its hint) when not 0;
* a plain rerun exits 0 and leaves what the command is for done (every entity registered and the
  schedules ACTIVE at the version; each kickoff with exactly one execution; the removed schedule off);
* never two ACTIVE versions of one launch plan;
* nothing outside the package's project/domain touched (a copy deployed in staging stays as it was);
* `deploy --no-schedule` never activates anything.

The suite samples: six fault kinds, each at every 2nd call (`UNIONML_FAULT_SWEEP_STRIDE` changes it).
`UNIONML_FAULT_SWEEP=long` sweeps every call with four more kinds (RESOURCE_EXHAUSTED, ALREADY_EXISTS with
nothing applied, PERMISSION_DENIED, an answer later than the deadline), and each kind also on two calls in
a row. docs/testing.md gives the counts and times measured."""

from __future__ import annotations

import os
import shutil
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner

from ..helpers import EXAMPLES, run_cli
from ..support.flyteadmin_standin import FlyteAdminStandin, forget_package, scheduled_execution_name

IMAGE = "ghcr.io/your-org/your-app:latest"
FAST = {"UNIONML_FLYTEADMIN_TIMEOUT": "0.2", "UNIONML_FLYTEADMIN_RETRIES": "2", "UNIONML_FLYTEADMIN_BACKOFF": "0.01"}
LONG = os.environ.get("UNIONML_FAULT_SWEEP") == "long"
STRIDE = int(os.environ.get("UNIONML_FAULT_SWEEP_STRIDE", "1" if LONG else "2"))
#: (kind, code, calls it hits from the nth on): refused and retryable, refused and not retryable, too slow,
#: applied with the reply lost, applied and never answered, never answered
FAULTS = [
    ("fail", grpc.StatusCode.UNAVAILABLE, 1),
    ("fail", grpc.StatusCode.INTERNAL, 1),
    ("fail", grpc.StatusCode.DEADLINE_EXCEEDED, 1),
    ("lose_reply", grpc.StatusCode.UNAVAILABLE, 1),
    ("apply_then_hang", grpc.StatusCode.UNAVAILABLE, 1),
    ("hang", grpc.StatusCode.UNAVAILABLE, 1),
]
if LONG:  # more codes, a late answer, and each fault on two calls in a row (a retry meets it again)
    FAULTS += [
        ("fail", grpc.StatusCode.RESOURCE_EXHAUSTED, 1),
        ("fail", grpc.StatusCode.ALREADY_EXISTS, 1),
        ("fail", grpc.StatusCode.PERMISSION_DENIED, 1),
        ("delay", grpc.StatusCode.OK, 1),
    ]
    FAULTS += [(kind, code, 2) for kind, code, _ in FAULTS]
SCHEDULES = ("weekly_retraining", "daily_predictions", "hourly_predictions_with_latest_model")
REMOVED = "hourly_predictions_with_latest_model"  # the schedule the pruned project no longer has


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """digits_batch deployed at v1 in development (schedules ACTIVE) and in staging (the decoy), and a copy of
    the project without REMOVED, for prune-schedules."""
    forget_package("digits_batch")
    # an earlier module's in-process `unionml run` put another copy's directory on sys.path: this one's is used
    from flytekit.core.context_manager import FlyteEntities

    saved_path, saved_entities = sys.path[:], FlyteEntities.entities[:]
    FlyteEntities.entities[:] = []  # what an earlier module declared in this process (deploy registers from it)
    sys.path[:] = [entry for entry in sys.path if not (Path(entry or ".") / "digits_batch" / "__init__.py").is_file()]
    root = tmp_path_factory.mktemp("sweep")
    shutil.copytree(EXAMPLES / "digits_batch", root / "digits_batch", ignore=shutil.ignore_patterns("flyte2"))
    project = root / "digits_batch" / "flyte"
    assert run_cli("generate", str(root / "digits_batch" / "app.py"), "-o", str(project)).returncode == 0
    shutil.copytree(EXAMPLES / "digits_batch", root / "pruned" / "digits_batch",
                    ignore=shutil.ignore_patterns("flyte", "flyte2"))  # fmt: skip
    app = root / "pruned" / "digits_batch" / "app.py"
    text = app.read_text()
    app.write_text(text[: text.index(f'model.schedule_prediction(\n    "{REMOVED}"')].rstrip() + "\n")
    pruned = root / "pruned" / "digits_batch" / "flyte"
    assert run_cli("generate", str(app), "-o", str(pruned)).returncode == 0
    with FlyteAdminStandin(root / "blob") as standin:
        cluster = types.SimpleNamespace(standin=standin, config=standin.write_config(root / "config.yaml"),
                                        project=project, pruned=pruned, trials=0, failed=0)  # fmt: skip
        standin.add_image(IMAGE, project)
        for domain in ("development", "staging"):
            deployed = unionml(cluster, "deploy", str(project), "--version", "v1", "-d", domain)
            assert deployed.exit_code == 0, deployed.output
        cluster.staging = _staging(standin)
        yield cluster
        print(
            f"\nfault sweep (stride {STRIDE}): {cluster.trials} trials, {cluster.failed} of them exited non-zero "
            "under the fault, every rerun finished the job"
        )
    forget_package("digits_batch")
    sys.path[:], FlyteEntities.entities[:] = saved_path, saved_entities


def unionml(cluster, *args: str):
    from unionml_codegen.cli import main

    placeholder = ["--allow-placeholder-image"] if args[:1] == ("deploy",) else []  # the stand-in runs it (item 6)
    return CliRunner().invoke(main, [*args, *placeholder, "--config", str(cluster.config)], env=FAST,
                              catch_exceptions=False)  # fmt: skip


def _staging(standin):
    return standin.launch_plan_states(domain="staging"), sorted(k for k in standin.executions if k[1] == "staging")


def _active_versions(standin) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for (name, version), state in standin.launch_plan_states().items():
        if state == "ACTIVE":
            found.setdefault(name, []).append(version)
    return found


def _calls(cluster, run) -> int:
    """How many calls `run()` makes with no fault."""
    before = len(cluster.standin.faults.calls)
    run()
    return len(cluster.standin.faults.calls) - before


def _trial(cluster, fault_kind, nth: int, run, *, check=None, label: str = "") -> None:
    """One fault at the nth call of `run()`, the invariants, a plain rerun and the invariants again."""
    standin = cluster.standin
    cluster.trials += 1
    kind, code, times = fault_kind
    # a late answer comes after the commands' deadline (0.2 s); held calls are let go after the command
    fault = standin.faults.add(kind, None, nth=nth, times=times, code=code, seconds=0.3 if kind == "delay" else 5)
    try:
        faulted = run()
    finally:
        standin.faults.clear()  # held calls are let go
    where = f"{label}: {kind} {code.name} at call {nth} ({times} call{'s' if times > 1 else ''})"
    assert fault.hits >= 1, f"{where}: the command made fewer calls than with no fault"
    cluster.failed += faulted.exit_code != 0
    _invariants(cluster, faulted, where)
    rerun = run()
    _invariants(cluster, rerun, f"{where}, rerun")
    assert rerun.exit_code == 0, f"{where}: the rerun did not finish the job: {rerun.output}"
    if check is not None:
        check(where)


def _invariants(cluster, result, where: str) -> None:
    standin = cluster.standin
    assert "Traceback" not in result.output, f"{where}: {result.output}"
    assert result.exit_code in (0, 1, 2), f"{where}: exit {result.exit_code}: {result.output}"
    if result.exit_code == 2:  # one error line (after any progress lines), then its hint
        lines = result.stderr.splitlines()
        errors = [number for number, line in enumerate(lines) if line.startswith("error: ")]
        assert len(errors) == 1 and all(
            line.startswith("  hint: ") for line in lines[errors[0] + 1 :]
        ), f"{where}: {result.stderr}"
    doubles = {name: versions for name, versions in _active_versions(standin).items() if len(versions) > 1}
    assert not doubles, f"{where}: two ACTIVE versions: {doubles}"
    assert _staging(standin) == cluster.staging, f"{where}: staging was touched"


def test_deploy_under_every_fault_at_every_call(cluster):
    standin = cluster.standin
    versions = iter(f"d{index}" for index in range(10**6))

    def check(version):
        def at(where):
            assert len([key for key in standin.launch_plans if key[1] == "development" and key[3] == version]) == 8
            assert {name: versions for name, versions in _active_versions(standin).items() if name in SCHEDULES} == {
                name: [version] for name in SCHEDULES
            }, where

        return at

    version = next(versions)
    total = _calls(cluster, lambda: unionml(cluster, "deploy", str(cluster.project), "--version", version))
    assert total > 20
    for fault in FAULTS:
        for nth in range(1, total + 1, STRIDE):
            version = next(versions)
            run = lambda version=version: unionml(
                cluster, "deploy", str(cluster.project), "--version", version
            )  # noqa: E731
            _trial(cluster, fault, nth, run, check=check(version), label=f"deploy {version}")


def test_deploy_no_schedule_under_every_fault_never_activates(cluster):
    standin = cluster.standin
    before = _active_versions(standin)
    versions = iter(f"n{index}" for index in range(10**6))

    def check(version):
        def at(where):
            assert len([key for key in standin.launch_plans if key[1] == "development" and key[3] == version]) == 8
            assert _active_versions(standin) == before, f"{where}: --no-schedule activated something"

        return at

    version = next(versions)
    total = _calls(cluster, lambda: unionml(cluster, "deploy", str(cluster.project), "--version", version,
                                            "--no-schedule"))  # fmt: skip
    for fault in FAULTS:
        for nth in range(1, total + 1, STRIDE):
            version = next(versions)

            def run(version=version):
                return unionml(cluster, "deploy", str(cluster.project), "--version", version, "--no-schedule")

            _trial(cluster, fault, nth, run, check=check(version), label=f"deploy --no-schedule {version}")
            assert _active_versions(standin) == before


def test_backfill_remote_under_every_fault_starts_each_kickoff_once(cluster):
    standin = cluster.standin
    [active] = _active_versions(standin)["weekly_retraining"]
    weeks = iter(range(10**6))

    def backfill(week: int):
        start = datetime(2030, 1, 7, tzinfo=timezone.utc) + timedelta(weeks=3 * week)  # a Monday; 3 kickoffs
        return unionml(cluster, "backfill", str(cluster.project), "weekly_retraining", "--remote", "--from",
                       start.date().isoformat(), "--to", (start + timedelta(days=20)).date().isoformat())  # fmt: skip

    def check(week: int):
        start = datetime(2030, 1, 7, 3, tzinfo=timezone.utc) + timedelta(weeks=3 * week)
        expected = {scheduled_execution_name("flytesnacks", "development", "weekly_retraining", active,
                                             start + timedelta(weeks=k)) for k in range(3)}  # fmt: skip

        def at(where):
            assert expected <= {key[2] for key in standin.executions if key[1] == "development"}, where

        return at

    week = next(weeks)
    total = _calls(cluster, lambda: backfill(week))
    for fault in FAULTS:
        for nth in range(1, total + 1, STRIDE):
            week = next(weeks)
            executions = len(standin.executions)
            _trial(cluster, fault, nth, lambda week=week: backfill(week), check=check(week),
                   label=f"backfill week {week}")  # fmt: skip
            assert len(standin.executions) - executions == 3  # nothing else was started


def test_prune_schedules_under_every_fault_deactivates_only_the_removed_schedule(cluster):
    standin = cluster.standin
    [version] = _active_versions(standin)[REMOVED]

    def reactivate():  # as a user with flytectl would: UpdateLaunchPlan ACTIVE
        from flyteidl.admin import launch_plan_pb2
        from flyteidl.core import identifier_pb2
        from flyteidl.service import admin_pb2_grpc

        ident = identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, project="flytesnacks",
                                          domain="development", name=REMOVED, version=version)  # fmt: skip
        with grpc.insecure_channel(standin.endpoint) as channel:
            admin_pb2_grpc.AdminServiceStub(channel).UpdateLaunchPlan(
                launch_plan_pb2.LaunchPlanUpdateRequest(id=ident, state=launch_plan_pb2.ACTIVE)
            )

    def check(where):
        active = _active_versions(standin)
        assert REMOVED not in active, where
        assert all(name in active for name in SCHEDULES if name != REMOVED), where

    def prune():
        return unionml(cluster, "prune-schedules", str(cluster.pruned))

    total = _calls(cluster, prune)
    assert total >= 2
    for fault in FAULTS:
        for nth in range(1, total + 1, max(1, STRIDE // 3)):  # a short command: every call in the sample too
            reactivate()
            _trial(cluster, fault, nth, prune, check=check, label="prune-schedules")


KILLS = ("kill_before", "kill_after")
#: a killed command is a process of its own; a sample of its calls (every 6th, every call in the long run)
KILL_STRIDE = 1 if LONG else 6


def test_deploy_killed_at_every_call_is_finished_by_a_plain_rerun(cluster):
    """`kill -9` of `unionml deploy` as a call arrives (nothing applied) or right after it was applied: the
    invariants hold, and a plain rerun of the same command registers everything and activates the version."""
    import signal
    import subprocess

    from ..helpers import UNIONML

    standin = cluster.standin
    versions = iter(f"k{index}" for index in range(10**6))
    version = next(versions)
    total = _calls(cluster, lambda: unionml(cluster, "deploy", str(cluster.project), "--version", version))
    killed = 0
    for kind in KILLS:
        for nth in range(1, total + 1, KILL_STRIDE):
            version = next(versions)
            command = [*UNIONML, "deploy", str(cluster.project), "--version", version, "--allow-placeholder-image",
                       "--config", str(cluster.config)]  # fmt: skip
            process = subprocess.Popen(command, env={**os.environ, **FAST}, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)  # fmt: skip
            fault = standin.faults.add(kind, None, nth=nth, action=lambda: os.kill(process.pid, signal.SIGKILL))
            try:
                process.communicate(timeout=120)
            finally:
                standin.faults.clear()
            where = f"deploy {version}: {kind} at call {nth}"
            assert fault.hits == 1 and process.returncode == -signal.SIGKILL, where
            killed += 1
            cluster.trials += 1
            doubles = {name: v for name, v in _active_versions(standin).items() if len(v) > 1}
            assert not doubles, f"{where}: two ACTIVE versions: {doubles}"
            assert _staging(standin) == cluster.staging, f"{where}: staging was touched"
            rerun = unionml(cluster, "deploy", str(cluster.project), "--version", version)
            _invariants(cluster, rerun, f"{where}, rerun")
            assert rerun.exit_code == 0, f"{where}: the rerun did not finish the job: {rerun.output}"
            assert len([key for key in standin.launch_plans if key[1] == "development" and key[3] == version]) == 8
            assert {name: v for name, v in _active_versions(standin).items() if name in SCHEDULES} == {
                name: [version] for name in SCHEDULES
            }, where
    assert killed >= 2 * (total // KILL_STRIDE)
