"""`unionml schedules OUT`: every schedule of a generated project with its next kickoffs, and the caveats."""

from __future__ import annotations

import datetime as dt

import click

from .common import TIME, dump_json, inputs_text, iso, project_or_exit
from .project import Schedule, visible


@click.command("schedules")
@click.argument("out", required=False, type=click.Path(file_okay=False))
@click.option("--now", type=TIME, default=None, help="List kickoffs after this time (ISO 8601, UTC) instead of now.")
@click.option("-n", "count", type=click.IntRange(0, 1000), default=3, show_default=True,
              help="How many kickoffs to list per schedule.")  # fmt: skip
@click.option("--activated-at", "activated", type=TIME, default=None,
              help="When fixed-rate schedules were activated (their phase); default: --now.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def schedules(out, now, count, activated, as_json) -> None:
    """List the schedules of the generated project OUT and their next kickoff times (UTC).

    OUT is found like `unionml generate` finds it: the argument, `output` in [tool.unionml-codegen]
    of pyproject.toml, or the generated project in or just below the current directory.
    """
    from .kickoffs import next_kickoffs

    project = project_or_exit(out)
    now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    rows = []
    for schedule in project.schedules:
        times = next_kickoffs(schedule, now, count, activated=activated)
        rows.append((schedule, times, caveats(schedule, now, activated)))
    if as_json:
        dump_json(
            {
                "project": str(project.directory),
                "package": project.package,
                "now": iso(now),
                "schedules": [_json(schedule, times, notes) for schedule, times, notes in rows],
            }
        )
        return
    _say(f"{project.directory}: {len(rows)} schedule{'s' if len(rows) != 1 else ''} of package "
               f"{project.package}; kickoffs after {iso(now)}, in UTC")  # fmt: skip
    for schedule, times, notes in rows:
        click.echo("")
        _say(f"{schedule.name}  ({schedule.kind}, model {schedule.model})")
        _say(f"  launch plan  {schedule.launch_plan} -> {schedule.workflow}")
        _say(f"  schedule     {schedule.cadence}{_kickoff(schedule)}")
        _say(f"  on deploy    {'activated' if schedule.activate_on_deploy else 'not activated'}")
        for index, text in enumerate(inputs_text(schedule)):
            _say(f"  {'fixed inputs' if index == 0 else '':13}{text}")
        if schedule.model_source is not None:
            _say(f"  model        {schedule.model_source.describe()}")
        _say(f"  next         {', '.join(iso(t) for t in times) or '-'}")
        for note in notes:
            _say(f"  note         {note}")


def caveats(schedule: Schedule, now: dt.datetime, activated: dt.datetime | None) -> list[str]:
    """What a reader of the kickoff times must know about this schedule."""
    from .kickoffs import rate

    notes = []
    if rate(schedule) is not None:
        at = iso(activated) if activated is not None else f"{iso(now)} (--now; give --activated-at)"
        notes.append(
            f"a fixed rate's phase follows the activation time, not the clock: times assume activation at {at}"
        )
    if schedule.fixed_rate is not None and schedule.time_input:
        notes.append(
            "the scheduler gives fixed-rate runs no kickoff input: the run reads its scheduled time from "
            f"flyteadmin and passes it as the reader's {schedule.time_input!r}"
        )
    if schedule.offset:
        notes.append(f"offset {schedule.offset!r} is ignored by Flyte's native scheduler")
    if schedule.cron is not None:
        notes.append("cron runs in the scheduler's time zone: these times are right for a scheduler on UTC")
    if not schedule.activate_on_deploy:
        notes.append("not activated on deploy (activate_on_deploy=False): `unionml activate-schedules` switches it on")
    return notes


def _kickoff(schedule: Schedule) -> str:
    if schedule.kickoff_input:
        return f"; kickoff time -> input {schedule.kickoff_input!r}"
    if schedule.run_kickoff_input:
        return f"; scheduled time -> reader's {schedule.time_input!r}"
    return ""


def _json(schedule: Schedule, times: list[dt.datetime], notes: list[str]) -> dict:
    return {
        "name": schedule.name,
        "kind": schedule.kind,
        "model": schedule.model,
        "launch_plan": schedule.launch_plan,
        "workflow": schedule.workflow,
        "cron": schedule.cron,
        "fixed_rate_seconds": int(schedule.fixed_rate.total_seconds()) if schedule.fixed_rate else None,
        "offset": schedule.offset,
        "kickoff_input": schedule.kickoff_input,
        "activate_on_deploy": schedule.activate_on_deploy,
        "fixed_inputs": schedule.fixed_inputs,
        "fixed_inputs_python": schedule.fixed_inputs_python,
        "model_source": _source(schedule),
        "next_kickoffs": [iso(t) for t in times],
        "caveats": notes,
    }


def _source(schedule: Schedule) -> dict | None:
    source = schedule.model_source
    if source is None:
        return None
    return {key: value for key, value in vars(source).items() if value is not None}


def _say(text: str) -> None:
    """A line of the listing: names and values come from the app (through the manifest), so control
    characters are escaped (a model named "x\\n::error title=CI::..." stays on its line)."""
    click.echo(visible(text))
