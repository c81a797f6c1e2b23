"""A flyte2 project's trigger fired locally: `unionml run` (one fire) and `unionml backfill` (every kickoff of
a range, in order), each fire the trigger's task in the flyte SDK's local mode with the inputs the trigger gives
at that time (the project's own `trigger_inputs.run_inputs`), in the SDK's interpreter (operate/flyte2.py).

The outcome is local_run.Outcome, so both commands print and exit as they do for a flyte1 project. A local fire
sends nothing to a backend (a model-version schedule only reads its training run there), so a backfill here
never moves a trigger's `triggered_at`, which a backfill by trigger on the cluster would (docs/flyte2.md).
"""

from __future__ import annotations

import datetime as dt
import sys

import click

from .common import dump_json, fail, iso
from .flyte2 import call, python, where
from .local_run import Outcome, model_hint
from .project import OperateError, Project, Schedule, visible


class LocalRunner:
    """backfill.Runner for a flyte2 project: one driver call per kickoff."""

    where = "locally"

    def __init__(self, generated: Project, schedule: Schedule, options: dict | None = None):
        options = options or {}
        self.generated, self.schedule, self.config = generated, schedule, options.get("config")
        self.project, self.domain = where(generated, options.get("project"), options.get("domain"))

    def prepare(self) -> None:
        python()  # the SDK's interpreter is there (OperateError otherwise)

    def run(self, kickoff: dt.datetime) -> Outcome:
        source = self.schedule.model_source
        found = call("run_local", self.generated, self.config, self.project, self.domain,
                     trigger=self.schedule.launch_plan_attribute, task=self.schedule.workflow,
                     at=kickoff.isoformat(), kind=self.schedule.kind,
                     remote_model=source is not None and source.kind == "version")  # fmt: skip
        return Outcome(self.schedule.name, kickoff, ok=found["ok"], outputs=found.get("outputs") or {},
                       error=found.get("error"))  # fmt: skip


def run_local(generated: Project, schedule: Schedule, at, as_json: bool, config, project, domain) -> None:
    """One fire of the schedule's trigger; prints what `unionml run` prints of a flyte1 project, exit 1 when the
    run fails."""
    try:
        outcome = LocalRunner(generated, schedule, {"config": config, "project": project, "domain": domain}).run(at)
    except OperateError as exc:
        fail(exc)
    if as_json:
        dump_json(outcome.json())
    elif outcome.ok:
        click.echo(visible(f"{schedule.name} at {iso(at)} ({schedule.kind}, {schedule.workflow}, locally)"))
        for line in outcome.lines():
            click.echo(visible(f"  {line}"))
    if not outcome.ok:
        click.echo(f"error: {schedule.name} at {iso(at)} failed: {visible(str(outcome.error))}"
                   f"{model_hint(schedule, str(outcome.error))}", err=True)  # fmt: skip
        sys.exit(1)
