"""`unionml backfill --remote`: one execution per kickoff on the cluster, like `pyflyte backfill`.

Each execution runs the schedule's launch plan at its ACTIVE version (or `--version`; the command
says which) with its kickoff as input: the cron plan's kickoff input, or a fixed-rate plan's
`kickoff_time` (the native scheduler gives fixed-rate runs no input, so the generated workflow takes
the time that way). Executions are started, not awaited: `unionml list-scheduled-*-runs` shows how
they went.

A backfill is idempotent, as flyteadmin's native scheduler is (scheduler/executor/executor_impl.go,
scheduler/identifier/identifier.go): each execution is named from the launch plan, its version and
the kickoff (`f` + 19 hex digits of the UUID whose first 8 bytes are the little-endian FNV-1 64 of
`project:domain:name:version:unix-seconds`), exactly the name the scheduler gives that kickoff, and
ALREADY_EXISTS for that name means the kickoff already has its execution (started by an earlier
backfill, by a create whose reply was lost and that was retried, or by the scheduler itself). So a
rerun of a backfill that stopped or was killed part way starts only the kickoffs still missing.
"""

from __future__ import annotations

import datetime as dt
import uuid

import click

from .. import codes
from .backfill import RUNNERS, backfill
from .local_run import Outcome
from .project import OperateError, Project, Schedule
from .remote import (
    DEFAULT_DOMAIN,
    DEFAULT_PROJECT,
    Cluster,
    _timeout_option,
    admin_error,
    admin_errors,
    connect,
    launch_plan_versions,
    rpc_code,
)

ACTIVE = 1  # flyteidl admin.LaunchPlanState
STARTED, ALREADY_THERE, FAILED = "started", "already there", "FAILED"


def _fnv1_64(data: bytes) -> int:
    """FNV-1 (multiply, then xor), 64 bits: Go's hash/fnv New64, which the native scheduler uses."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        value ^= byte
    return value


def execution_name(project: str, domain: str, name: str, version: str, kickoff: dt.datetime) -> str:
    """The name flyteadmin's native scheduler gives the execution of launch plan name@version at `kickoff`."""
    digest = _fnv1_64(f"{project}:{domain}:{name}:{version}:{int(kickoff.timestamp())}".encode())
    raw = digest.to_bytes(8, "little") + bytes(8)
    return "f" + uuid.UUID(bytes=raw).hex[:19]


class RemoteOutcome(Outcome):
    """A kickoff started on the cluster: its execution, not yet its results."""

    def lines(self) -> list[str]:
        if not self.ok:
            return super().lines()
        if self.status == STARTED:
            return [f"started execution {self.execution} of version {self.outputs['version']}"]
        return [f"execution {self.execution} of version {self.outputs['version']} was already there "
                f"({self.outputs['phase']}, started by {self.outputs['started_by']})"]  # fmt: skip

    @property
    def status(self) -> str:
        return FAILED if not self.ok else self.outputs.get("status", STARTED)

    def json(self) -> dict:
        record = super().json()
        record["status"] = self.status.replace(" ", "_").lower()
        if not self.ok and self.execution is not None:
            record["execution"] = self.execution
        return record


class RemoteRunner:
    where = "on the cluster"
    streams = True  # each kickoff's line is printed as it happens (a killed backfill still says what it did)

    def __init__(self, project: Project, schedule: Schedule, options: dict):
        self.project = project
        self.schedule = schedule
        self.options = options
        self.cluster: Cluster | None = None
        self.plan = None

    def prepare(self) -> None:
        if not self.schedule.run_kickoff_input:
            raise OperateError(f"schedule {self.schedule.name!r} takes no kickoff time: there is nothing to backfill",
                               "start it by hand (`pyflyte run` of its launch plan), once", codes.NOT_BACKFILLABLE)  # fmt: skip
        self.cluster = connect(self.options.get("config"), self.options.get("project") or DEFAULT_PROJECT,
                               self.options.get("domain") or DEFAULT_DOMAIN, "backfill --remote")  # fmt: skip
        where = f"{self.cluster.project}/{self.cluster.domain}"
        with admin_errors(self.cluster):
            plans = launch_plan_versions(self.cluster, self.schedule.name)
        if not plans:
            raise OperateError(f"schedule {self.schedule.name!r} is not deployed in {where}",
                               "run `unionml deploy OUT --version V` first (or pass the --project/--domain it was "
                               "deployed to)", codes.NOT_ON_CLUSTER)  # fmt: skip
        deployed = [plan.id.version for plan in plans]
        wanted = self.options.get("version")
        if wanted:
            chosen = [plan for plan in plans if plan.id.version == wanted]
            if not chosen:
                raise OperateError(f"schedule {self.schedule.name!r} has no version {wanted!r} in {where}",
                                   f"deployed: {', '.join(deployed)}", codes.NOT_ON_CLUSTER)  # fmt: skip
            self.which = "--version"
        else:
            chosen = [plan for plan in plans if plan.closure.state == ACTIVE]
            if not chosen:
                raise OperateError(
                    f"schedule {self.schedule.name!r} has no ACTIVE version in {where} (deployed: {', '.join(deployed)})",
                    f"activate one (`unionml activate-schedules OUT {self.schedule.name}`) or pass --version V",
                    codes.NO_SINGLE_ACTIVE_VERSION,
                )
            if len(chosen) > 1:
                raise OperateError(
                    f"schedule {self.schedule.name!r} has {len(chosen)} ACTIVE versions in {where} "
                    f"({', '.join(plan.id.version for plan in chosen)})",
                    f"make one ACTIVE (`unionml activate-schedules OUT {self.schedule.name} --version V`) "
                    "or pass --version V",
                    codes.NO_SINGLE_ACTIVE_VERSION,
                )
            self.which = "the ACTIVE version"
        self.plan = chosen[0]
        parameter = self.plan.closure.expected_inputs.parameters.get(self.schedule.run_kickoff_input)
        if parameter is None:
            raise OperateError(f"launch plan {self.schedule.name!r} version {self.plan.id.version} has no free input "
                               f"{self.schedule.run_kickoff_input!r}: it is not what this project generates",
                               "deploy the project again under a new version (--version V)", codes.NOT_BACKFILLABLE)  # fmt: skip
        self.kickoff_type = parameter.var.type

    def heading(self) -> str:
        assert self.cluster is not None and self.plan is not None
        where = f"{self.cluster.project}/{self.cluster.domain}"
        return f"{self.schedule.name}: version {self.plan.id.version} ({self.which}) in {where}"

    def summary(self) -> dict:
        assert self.plan is not None
        return {"version": self.plan.id.version, "version_from": "--version" if self.which == "--version" else "active"}

    def _inputs(self, kickoff: dt.datetime):
        from flytekit.core.context_manager import FlyteContextManager
        from flytekit.core.type_engine import TypeEngine
        from flytekit.models.literals import LiteralMap

        python_type = TypeEngine.guess_python_type(self.kickoff_type)
        literal = TypeEngine.to_literal(FlyteContextManager.current_context(), kickoff.astimezone(dt.timezone.utc),
                                        python_type, self.kickoff_type)  # fmt: skip
        return LiteralMap({self.schedule.run_kickoff_input: literal})

    def run(self, kickoff: dt.datetime) -> Outcome:
        assert self.cluster is not None and self.plan is not None
        from flytekit.models.core.identifier import WorkflowExecutionIdentifier
        from flytekit.models.execution import ExecutionMetadata, ExecutionSpec

        cluster, plan_id = self.cluster, self.plan.id
        name = execution_name(cluster.project, cluster.domain, plan_id.name, plan_id.version, kickoff)
        spec = ExecutionSpec(plan_id, ExecutionMetadata(ExecutionMetadata.ExecutionMode.MANUAL, "unionml backfill", 0))
        outputs = {"execution": name, "version": plan_id.version}
        try:
            cluster.client.create_execution(cluster.project, cluster.domain, name, spec, self._inputs(kickoff))
            return RemoteOutcome(self.schedule.name, kickoff, ok=True, execution=name,
                                 outputs={**outputs, "status": STARTED})  # fmt: skip
        except Exception as exc:
            if rpc_code(exc) != "ALREADY_EXISTS":
                return self._failed(kickoff, name, str(admin_error(cluster, exc)))
            refusal = str(admin_error(cluster, exc))
        try:  # ALREADY_EXISTS: the kickoff's execution is there, or flyteadmin refused for another reason
            existing = cluster.client.get_execution(WorkflowExecutionIdentifier(cluster.project, cluster.domain, name))
        except Exception as exc:
            if rpc_code(exc) == "NOT_FOUND":
                return self._failed(kickoff, name, refusal)  # e.g. "concurrency limit reached"
            return self._failed(kickoff, name, f"{refusal}; and reading execution {name} back failed: "
                                               f"{admin_error(cluster, exc)}")  # fmt: skip
        theirs = existing.spec.launch_plan
        if (theirs.name, theirs.version) != (plan_id.name, plan_id.version):
            return self._failed(kickoff, name, f"execution {name} exists but runs {theirs.name} version "
                                               f"{theirs.version}, not this kickoff's launch plan")  # fmt: skip
        from flytekit.models.core.execution import WorkflowExecutionPhase

        phase = WorkflowExecutionPhase.enum_to_string(existing.closure.phase)
        scheduled = existing.spec.metadata.mode == ExecutionMetadata.ExecutionMode.SCHEDULED
        return RemoteOutcome(self.schedule.name, kickoff, ok=True, execution=name,
                             outputs={**outputs, "status": ALREADY_THERE, "phase": phase,
                                      "started_by": "schedule" if scheduled else "manual"})  # fmt: skip

    def _failed(self, kickoff: dt.datetime, name: str, error: str) -> Outcome:
        return RemoteOutcome(self.schedule.name, kickoff, ok=False, execution=name, error=error)


def _mode(ctx, param, value):
    return "remote" if value else None


def install() -> None:
    """Add --remote and flytekit's cluster options to `unionml backfill`."""
    RUNNERS["remote"] = RemoteRunner
    backfill.params.extend(
        [
            click.Option(["--remote", "mode"], is_flag=True, callback=_mode, expose_value=True,
                         help="Start one execution per kickoff on the cluster (the ACTIVE version), like pyflyte backfill; "
                         "a rerun starts only the kickoffs still missing."),  # fmt: skip
            click.Option(["--version"], default=None, help="--remote: the launch plan version (default: the ACTIVE one)."),
            click.Option(["-c", "--config"], type=click.Path(exists=True, dir_okay=False), default=None,
                         help="--remote: flytekit/flytectl config file (default: FLYTECTL_CONFIG, then ~/.flyte/config.yaml)."),  # fmt: skip
            click.Option(["-p", "--project"], envvar="FLYTE_DEFAULT_PROJECT", default=DEFAULT_PROJECT,
                         show_default=True, help="--remote: Flyte project."),  # fmt: skip
            click.Option(["-d", "--domain"], envvar="FLYTE_DEFAULT_DOMAIN", default=DEFAULT_DOMAIN,
                         show_default=True, help="--remote: Flyte domain."),  # fmt: skip
            click.Option(["--timeout"], type=click.FloatRange(min=0, min_open=True), default=None, expose_value=False,
                         callback=_timeout_option, metavar="SECONDS",
                         help="--remote: deadline of each call to flyteadmin (default: UNIONML_FLYTEADMIN_TIMEOUT, else 30)."),  # fmt: skip
        ]
    )


install()  # importing this module is what gives `unionml backfill` its --remote (cli.py)
