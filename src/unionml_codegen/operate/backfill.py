"""`unionml backfill OUT SCHEDULE --from T1 --to T2`: every kickoff of a schedule in a range, in order.

The loop (`run_kickoffs`) takes any runner with `where`, `prepare()` and `run(kickoff) -> Outcome`
(local_run.py); `LocalRunner` runs each kickoff in this process as `unionml run` does (a flyte2 project's, each
kickoff's trigger task in the flyte SDK's local mode: flyte2_local.py). A runner that
starts one execution per kickoff on a cluster plugs in the same way (`--remote`, see `RUNNERS`).
It stops at the first failure unless `--continue-on-error`, and ends with a summary; exit 1 if any
kickoff failed, 2 when the backfill cannot start.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Callable, Protocol

import click

from .common import TIME, dump_json, out_and_schedule, fail, iso, project_or_exit
from .local_run import LocalRunner, Outcome
from .project import OperateError, Project, Schedule


class Runner(Protocol):
    where: str  # "locally", "on the cluster": for messages

    def prepare(self) -> None:
        """Everything a first run needs (imports, connections); raises OperateError."""

    def run(self, kickoff: dt.datetime) -> Outcome:
        """One kickoff; a failure of the run is an Outcome with ok=False, not an exception."""


#: How `backfill` makes its runner, by mode: "local" here; a cluster mode registers itself beside it,
#: with the command options it needs added to `backfill` (`backfill.params`).
def _local(project: Project, schedule: Schedule, options: dict) -> Runner:
    if project.target == "flyte2":
        from .flyte2_local import LocalRunner as Flyte2LocalRunner

        return Flyte2LocalRunner(project, schedule, options)
    return LocalRunner(project, schedule, options)


RUNNERS: dict[str, Callable[[Project, Schedule, dict], Runner]] = {"local": _local}


@click.command("backfill")
@click.argument("words", nargs=-1, metavar="[OUT] SCHEDULE")
@click.option("--from", "start", type=TIME, required=True, help="First time of the range (ISO 8601, UTC).")
@click.option("--to", "end", type=TIME, required=True, help="Last time of the range, included (ISO 8601, UTC).")
@click.option("--activated-at", "activated", type=TIME, default=None,
              help="Fixed-rate schedules: when the schedule was activated (its phase); default: a kickoff at --from.")  # fmt: skip
@click.option("--continue-on-error", is_flag=True, help="Run every kickoff even after one fails.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one record per kickoff and the summary.")
@click.pass_context
def backfill(ctx, words, start, end, activated, continue_on_error, as_json, **options) -> None:
    """Run the launch plan SCHEDULE of the generated project OUT at every kickoff from --from to --to.

    Locally, each kickoff runs as `unionml run OUT SCHEDULE --at KICKOFF` does (the plan's fixed
    inputs, the kickoff as a UTC datetime; a model version looked up in --project / --domain through
    --config), in order, with a progress bar on stderr. Stops at the
    first failure unless --continue-on-error; ends with a summary. Exit 1 if any kickoff failed.
    """
    from .kickoffs import KickoffError, kickoffs_between

    out, schedule = out_and_schedule(words)
    project = project_or_exit(out, flyte2=True)
    try:
        plan = project.schedule(schedule)
        kickoffs = kickoffs_between(plan, start, end, activated=activated)
    except (OperateError, KickoffError) as exc:
        fail(exc)
    mode = options.pop("mode", None) or "local"
    runner = RUNNERS[mode](project, plan, options)
    sys.exit(run_kickoffs(runner, plan, kickoffs, continue_on_error=continue_on_error, as_json=as_json))


def run_kickoffs(
    runner: Runner, schedule: Schedule, kickoffs: list[dt.datetime], *, continue_on_error: bool, as_json: bool
) -> int:
    """Runs the kickoffs in order, prints each outcome and a summary; the exit code.

    A runner with `streams = True` (the cluster's) has each kickoff's lines printed as it happens, and
    reports a status per kickoff (`started`, `already there`, `FAILED`): an interrupted backfill has said
    what it did, and a rerun resumes it."""
    if not kickoffs:
        click.echo(f"no kickoff of {schedule.name} ({schedule.cadence}) in the range", err=True)
        if as_json:
            dump_json({"schedule": schedule.name, "runs": [], "ok": 0, "failed": 0, "skipped": 0})
        return 0
    try:
        runner.prepare()
    except OperateError as exc:
        fail(exc)
    streams = getattr(runner, "streams", False)
    outcomes: list[Outcome] = []
    if streams:
        click.echo(getattr(runner, "heading")(), err=as_json)
        for kickoff in kickoffs:
            outcome = runner.run(kickoff)
            outcomes.append(outcome)
            if not as_json:
                _echo_outcome(outcome)
            if not outcome.ok and not continue_on_error:
                break
    else:
        label = f"{schedule.name}: {len(kickoffs)} kickoff{'s' if len(kickoffs) != 1 else ''} {runner.where}"
        with click.progressbar(
            kickoffs, label=label, file=sys.stderr, item_show_func=lambda t: iso(t) if t else None
        ) as bar:
            for kickoff in bar:
                outcome = runner.run(kickoff)
                outcomes.append(outcome)
                if not outcome.ok and not continue_on_error:
                    break
    ok = sum(o.ok for o in outcomes)
    failed = len(outcomes) - ok
    skipped = len(kickoffs) - len(outcomes)
    counts = {}
    if streams:
        statuses = [getattr(o, "status") for o in outcomes]
        counts = {"started": statuses.count("started"), "already_there": statuses.count("already there")}
    if as_json:
        record = {"schedule": schedule.name, **(getattr(runner, "summary")() if streams else {}),
                  "runs": [o.json() for o in outcomes], "ok": ok, **counts, "failed": failed, "skipped": skipped}  # fmt: skip
        dump_json(record)
    elif not streams:
        for outcome in outcomes:
            _echo_outcome(outcome)
    if streams:
        summary = (
            f"{schedule.name}: {counts['started']} started, {counts['already_there']} already there, {failed} failed"
        )
    else:
        summary = f"{schedule.name}: {ok} ok, {failed} failed"
    if skipped:
        summary += f", {skipped} not run (stopped at the first failure; --continue-on-error runs them all)"
    if streams and (failed or skipped):
        summary += "; rerun the same command to start the rest: kickoffs already started are not started again"
    click.echo(summary, err=as_json)  # after the runs; beside the JSON, on stderr
    return 1 if failed else 0


def _echo_outcome(outcome: Outcome) -> None:
    status = getattr(outcome, "status", None) or ("ok" if outcome.ok else "FAILED")
    click.echo(f"{iso(outcome.kickoff)}  {status}")
    for line in outcome.lines():
        click.echo(f"  {line}")
