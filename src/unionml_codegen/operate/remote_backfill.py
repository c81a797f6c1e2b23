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

`--dry-run` reads the same state and starts nothing: per kickoff, the execution it would start (its name)
or the one already there. On a terminal a progress bar runs on stderr; elsewhere each kickoff's line is
the progress (common.progress).

`model_version="latest"` in a backfilled prediction: the launch plan fixes `model_version` (the app's
value), so every backfilled execution, like every scheduled one, resolves "latest" when it runs, to the
newest successful training execution at that moment, not the one that was newest at its kickoff. Running
the model of each kickoff instead would start another launch plan than the schedule's (the workflow's
default one, with model_version given), whose runs the schedule's lists do not show; it is not offered.
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid

import click

from .. import codes
from .backfill import RUNNERS, _echo_outcome, backfill
from .common import dump_json, fail, out_and_schedule, progress, project_or_exit
from .local_run import Outcome
from .project import OperateError, Project, Schedule
from .remote import (
    DOMAIN_HELP,
    PROJECT_HELP,
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
WOULD_START = "would start"  # --dry-run


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
        if self.status == WOULD_START:
            return [f"would start execution {self.execution} of version {self.outputs['version']}"]
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
        self.cluster = connect(self.options.get("config"), self.options.get("project"), self.options.get("domain"),
                               "backfill --remote", self.project)  # fmt: skip
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
        if self.options.get("dry_run"):
            return self._would(kickoff, name, outputs)
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

    def _would(self, kickoff: dt.datetime, name: str, outputs: dict) -> Outcome:
        """--dry-run: the execution this kickoff would start, or the one already there (read, never created)."""
        from flytekit.models.core.execution import WorkflowExecutionPhase
        from flytekit.models.core.identifier import WorkflowExecutionIdentifier
        from flytekit.models.execution import ExecutionMetadata

        cluster = self.cluster
        try:
            existing = cluster.client.get_execution(WorkflowExecutionIdentifier(cluster.project, cluster.domain, name))
        except Exception as exc:
            if rpc_code(exc) != "NOT_FOUND":
                reading = admin_error(cluster, exc)
                return self._failed(kickoff, name, f"reading execution {name} failed: {reading}")
            self._inputs(kickoff)  # the kickoff converts to the plan's input, as a real run needs
            return RemoteOutcome(self.schedule.name, kickoff, ok=True, execution=name,
                                 outputs={**outputs, "status": WOULD_START})  # fmt: skip
        theirs = existing.spec.launch_plan
        if (theirs.name, theirs.version) != (self.plan.id.name, self.plan.id.version):
            return self._failed(kickoff, name, f"execution {name} exists but runs {theirs.name} version "
                                               f"{theirs.version}, not this kickoff's launch plan")  # fmt: skip
        scheduled = existing.spec.metadata.mode == ExecutionMetadata.ExecutionMode.SCHEDULED
        return RemoteOutcome(self.schedule.name, kickoff, ok=True, execution=name,
                             outputs={**outputs, "status": ALREADY_THERE,
                                      "phase": WorkflowExecutionPhase.enum_to_string(existing.closure.phase),
                                      "started_by": "schedule" if scheduled else "manual"})  # fmt: skip

    def _failed(self, kickoff: dt.datetime, name: str, error: str) -> Outcome:
        return RemoteOutcome(self.schedule.name, kickoff, ok=False, execution=name, error=error)


def _mode(ctx, param, value):
    return "remote" if value else None


def run_remote(runner: RemoteRunner, schedule: Schedule, kickoffs: list[dt.datetime], *, continue_on_error: bool,
               as_json: bool, dry_run: bool) -> int:  # fmt: skip
    """Start (or, dry, look up) one execution per kickoff, in order, each kickoff's lines printed as it happens
    (a killed backfill has said what it did), a progress bar on a terminal; the summary; the exit code."""
    if not kickoffs:
        click.echo(f"no kickoff of {schedule.name} ({schedule.cadence}) in the range", err=True)
        if as_json:
            dump_json({"schedule": schedule.name, "dry_run": dry_run, "runs": [], "ok": 0, "failed": 0, "skipped": 0})
        return 0
    try:
        runner.prepare()
    except OperateError as exc:
        fail(exc)
    heading = runner.heading() + (": dry run, nothing is started" if dry_run else "")
    click.echo(heading, err=as_json)
    if schedule.model_source is not None and schedule.model_source.latest:
        click.echo("note: model_version='latest': each execution uses the newest successful training execution "
                   "when it runs, not the one newest at its kickoff", err=True)  # fmt: skip
    outcomes: list[Outcome] = []
    verb = "looking up" if dry_run else "starting"
    with progress(f"{schedule.name}: {verb} {len(kickoffs)} kickoffs", len(kickoffs)) as step:
        for kickoff in kickoffs:
            outcome = runner.run(kickoff)
            outcomes.append(outcome)
            if not as_json:
                _echo_outcome(outcome)
            step()
            if not outcome.ok and not continue_on_error:
                break
    statuses = [getattr(o, "status") for o in outcomes]
    ok = sum(o.ok for o in outcomes)
    failed, skipped = len(outcomes) - ok, len(kickoffs) - len(outcomes)
    counts = {"already_there": statuses.count(ALREADY_THERE)}
    counts = {("would_start" if dry_run else "started"): statuses.count(WOULD_START if dry_run else STARTED), **counts}
    if as_json:
        dump_json({"schedule": schedule.name, **runner.summary(), "dry_run": dry_run, "runs": [o.json() for o in outcomes],
                   "ok": ok, **counts, "failed": failed, "skipped": skipped})  # fmt: skip
    first = f"{counts['would_start']} would start" if dry_run else f"{counts['started']} started"
    summary = f"{schedule.name}: {first}, {counts['already_there']} already there, {failed} failed"
    if skipped:
        summary += f", {skipped} not run (stopped at the first failure; --continue-on-error runs them all)"
    if dry_run:
        summary += "; nothing was started"
    elif failed or skipped:
        summary += "; rerun the same command to start the rest: kickoffs already started are not started again"
    click.echo(summary, err=as_json)  # after the runs; beside the JSON, on stderr
    return 1 if failed else 0


class _NoDryRun:
    """A local backfill given --dry-run: refused when it would start (nothing runs)."""

    where = "locally"

    def prepare(self) -> None:
        raise OperateError("--dry-run lists the executions `backfill --remote` would start; a local backfill has "
                           "none to list", "add --remote, or list the kickoffs with `unionml schedules OUT -n N`",
                           codes.INVALID_COMMAND_LINE)  # fmt: skip

    def run(self, kickoff: dt.datetime) -> Outcome:
        raise AssertionError("not prepared")


def install() -> None:
    """Add --remote, --dry-run and flytekit's cluster options to `unionml backfill`; its --remote runs here
    (`run_remote`), a local backfill as backfill.py runs it."""
    RUNNERS["remote"] = RemoteRunner
    local = RUNNERS["local"]

    def local_runner(project, schedule, options):
        return _NoDryRun() if options.pop("dry_run", False) else local(project, schedule, options)

    RUNNERS["local"] = local_runner
    local_backfill = backfill.callback

    @click.pass_context
    def callback(ctx, words, start, end, activated, continue_on_error, as_json, **options):
        if options.get("mode") != "remote":
            return local_backfill(words, start, end, activated, continue_on_error, as_json, **options)
        from .kickoffs import KickoffError, kickoffs_between

        out, name = out_and_schedule(words)
        project = project_or_exit(out, flyte2=True)
        if project.target == "flyte2":
            fail(OperateError(
                "`unionml backfill --remote` does not start runs of a flyte2 project's triggers: a run created by "
                "trigger name moves the trigger's triggered_at, where Flyte 2's scheduler starts its catch-up "
                "(docs/flyte2.md)", f"run the kickoffs locally: `unionml backfill {out or '.'} {name} --from ... "
                f"--to ...` without --remote", codes.PROJECT_NOT_OPERABLE))  # fmt: skip
        try:
            plan = project.schedule(name)
            kickoffs = kickoffs_between(plan, start, end, activated=activated)
        except (OperateError, KickoffError) as exc:
            fail(exc)
        options.pop("mode")
        runner = RemoteRunner(project, plan, options)
        sys.exit(run_remote(runner, plan, kickoffs, continue_on_error=continue_on_error, as_json=as_json,
                            dry_run=bool(options.get("dry_run"))))  # fmt: skip

    backfill.callback = callback
    backfill.params.extend(
        [
            click.Option(["--dry-run"], is_flag=True,
                         help="--remote: list the execution each kickoff would start (or the one already there); "
                         "start none."),  # fmt: skip
            click.Option(["--remote", "mode"], is_flag=True, callback=_mode, expose_value=True,
                         help="Start one execution per kickoff on the cluster (the ACTIVE version), like pyflyte backfill; "
                         "a rerun starts only the kickoffs still missing."),  # fmt: skip
            click.Option(["--version"], default=None, help="--remote: the launch plan version (default: the ACTIVE one)."),
            click.Option(["-c", "--config"], type=click.Path(exists=True, dir_okay=False), default=None,
                         help="flytekit/flytectl config file (default: FLYTECTL_CONFIG, then ~/.flyte/config.yaml); "
                         "locally: the one a model version is looked up with."),  # fmt: skip
            click.Option(["-p", "--project"], default=None, help="--remote: where the executions start; locally: "
                         "where a model version is looked up. " + PROJECT_HELP),  # fmt: skip
            click.Option(["-d", "--domain"], default=None, help="--remote: where the executions start; locally: "
                         "where a model version is looked up. " + DOMAIN_HELP),  # fmt: skip
            click.Option(["--timeout"], type=click.FloatRange(min=0, min_open=True), default=None, expose_value=False,
                         callback=_timeout_option, metavar="SECONDS",
                         help="--remote: deadline of each call to flyteadmin (default: UNIONML_FLYTEADMIN_TIMEOUT, else 30)."),  # fmt: skip
        ]
    )


install()  # importing this module is what gives `unionml backfill` its --remote (cli.py)
