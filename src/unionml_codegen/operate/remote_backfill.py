"""`unionml backfill --remote`: one execution per kickoff on the cluster, like `pyflyte backfill`.

Each execution runs the schedule's launch plan (the deployed version, or `--version`) with its
kickoff as input: the cron plan's kickoff input, or a fixed-rate plan's `kickoff_time` (the
native scheduler gives fixed-rate runs no input, so the generated workflow takes the time that
way). Executions are started, not awaited: `unionml list-scheduled-*-runs` shows how they went.
"""

from __future__ import annotations

import datetime as dt

import click

from .backfill import RUNNERS, backfill
from .local_run import Outcome
from .project import OperateError, Project, Schedule
from .remote import DEFAULT_DOMAIN, DEFAULT_PROJECT, Cluster, admin_errors, connect, launch_plan_versions


class RemoteOutcome(Outcome):
    """A kickoff started on the cluster: its execution, not yet its results."""

    def lines(self) -> list[str]:
        if not self.ok:
            return super().lines()
        return [f"execution {self.execution} of version {self.outputs['version']}: {self.outputs['phase']}"]


class RemoteRunner:
    where = "on the cluster"

    def __init__(self, project: Project, schedule: Schedule, options: dict):
        self.project = project
        self.schedule = schedule
        self.options = options
        self.cluster: Cluster | None = None
        self.plan = None

    def prepare(self) -> None:
        if not self.schedule.run_kickoff_input:
            raise OperateError(f"schedule {self.schedule.name!r} takes no kickoff time: there is nothing to backfill")
        self.cluster = connect(self.options.get("config"), self.options.get("project") or DEFAULT_PROJECT,
                               self.options.get("domain") or DEFAULT_DOMAIN, "backfill --remote")  # fmt: skip
        with admin_errors(self.cluster):
            versions = [plan.id.version for plan in launch_plan_versions(self.cluster, self.schedule.name)]
            if not versions:
                raise OperateError(
                    f"schedule {self.schedule.name!r} is not deployed in {self.cluster.project}/{self.cluster.domain}",
                    "run `unionml deploy OUT --version V` first",
                )
            version = self.options.get("version") or versions[0]
            if version not in versions:
                raise OperateError(f"schedule {self.schedule.name!r} has no version {version!r}")
            self.plan = self.cluster.remote.fetch_launch_plan(name=self.schedule.name, version=version)

    def run(self, kickoff: dt.datetime) -> Outcome:
        assert self.cluster is not None and self.plan is not None
        try:
            with admin_errors(self.cluster):
                execution = self.cluster.remote.execute(
                    self.plan,
                    inputs={self.schedule.run_kickoff_input: kickoff.astimezone(dt.timezone.utc)},
                    project=self.cluster.project,
                    domain=self.cluster.domain,
                )
        except OperateError as exc:
            return RemoteOutcome(self.schedule.name, kickoff, ok=False, error=str(exc))
        from flytekit.models.core.execution import WorkflowExecutionPhase

        phase = WorkflowExecutionPhase.enum_to_string(execution.closure.phase)
        return RemoteOutcome(self.schedule.name, kickoff, ok=True, execution=execution.id.name,
                             outputs={"execution": execution.id.name, "version": self.plan.id.version, "phase": phase})  # fmt: skip


def _mode(ctx, param, value):
    return "remote" if value else None


def install() -> None:
    """Add --remote and flytekit's cluster options to `unionml backfill`."""
    RUNNERS["remote"] = RemoteRunner
    backfill.params.extend(
        [
            click.Option(["--remote", "mode"], is_flag=True, callback=_mode, expose_value=True,
                         help="Start one execution per kickoff on the cluster (the deployed version), like pyflyte backfill."),  # fmt: skip
            click.Option(["--version"], default=None, help="--remote: the launch plan version (default: newest deployed)."),
            click.Option(["-c", "--config"], type=click.Path(exists=True, dir_okay=False), default=None,
                         help="--remote: flytekit/flytectl config file (default: FLYTECTL_CONFIG, then ~/.flyte/config.yaml)."),  # fmt: skip
            click.Option(["-p", "--project"], envvar="FLYTE_DEFAULT_PROJECT", default=DEFAULT_PROJECT,
                         show_default=True, help="--remote: Flyte project."),  # fmt: skip
            click.Option(["-d", "--domain"], envvar="FLYTE_DEFAULT_DOMAIN", default=DEFAULT_DOMAIN,
                         show_default=True, help="--remote: Flyte domain."),  # fmt: skip
        ]
    )


install()  # importing this module is what gives `unionml backfill` its --remote (cli.py)
