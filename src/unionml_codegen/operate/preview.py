"""`unionml schedules OUT`: every schedule of a generated project with its next kickoffs, and the caveats;
with `--remote`, the cluster's state of each: the ACTIVE version (or none), the last run and the next kickoff
of what flyteadmin has registered.

The next kickoff on the cluster is computed from the ACTIVE version's own schedule as flyteadmin stores it
(which may differ from the project's, when an older version is ACTIVE): a cron's next time after now; a
fixed rate's phase follows the time the version was activated, which flyteadmin's API does not return, so
it is taken from the version's last scheduled run (`scheduled_at + k * rate`, exact under the native
scheduler); with no scheduled run yet it is not known, and the command says so.
"""

from __future__ import annotations

import datetime as dt

import click

from .common import TIME, dump_json, fail, inputs_text, iso, project_or_exit
from .project import OperateError, Project, Schedule, visible
from .remote import cluster_options


@click.command("schedules")
@click.argument("out", required=False, type=click.Path(file_okay=False))
@click.option("--now", type=TIME, default=None, help="List kickoffs after this time (ISO 8601, UTC) instead of now.")
@click.option("-n", "count", type=click.IntRange(0, 1000), default=3, show_default=True,
              help="How many kickoffs to list per schedule.")  # fmt: skip
@click.option("--activated-at", "activated", type=TIME, default=None,
              help="When fixed-rate schedules were activated (their phase); default: --now.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--remote", is_flag=True,
              help="Show the cluster's state of each schedule instead: the ACTIVE version, the last run, the next "
                   "kickoff (flyteadmin, through flytekit's configuration).")  # fmt: skip
@cluster_options
def schedules(out, now, count, activated, as_json, remote, config, project, domain) -> None:
    """List the schedules of the generated project OUT and their next kickoff times (UTC).

    OUT is found like `unionml generate` finds it: the argument, `output` in [tool.unionml-codegen]
    of pyproject.toml, or the generated project in or just below the current directory. What the
    manifest says is the project's intent; --remote shows what the cluster runs.
    """
    from .kickoffs import next_kickoffs

    generated = project_or_exit(out, flyte2=True)
    now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    flyte2 = generated.target == "flyte2"  # Flyte 2's triggers: their own notes and state (operate/flyte2_schedules)
    if flyte2:
        from . import flyte2_schedules
    if remote:
        (flyte2_schedules.remote_state if flyte2 else _remote_state)(generated, now, as_json, config, project, domain)
        return
    project = generated
    rows = []
    for schedule in project.schedules:
        times = next_kickoffs(schedule, now, count, activated=activated)
        rows.append((schedule, times, (flyte2_schedules.caveats if flyte2 else caveats)(schedule, now, activated)))
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
        _say(f"  {'trigger' if flyte2 else 'launch plan':13}{schedule.launch_plan} -> {schedule.workflow}")
        _say(f"  schedule     {schedule.cadence}{_kickoff(schedule)}")
        _say(f"  on deploy    {'activated' if schedule.activate_on_deploy else 'not activated'}")
        for index, text in enumerate(inputs_text(schedule)):
            label = "defaults" if flyte2 else "fixed inputs"  # a trigger's inputs are defaults a run may override
            _say(f"  {label if index == 0 else '':13}{text}")
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


# --------------------------------------------------------------------------------------------------
# --remote: the cluster's state

ACTIVE = 1  # flyteidl admin.LaunchPlanState
RATE_UNITS = {0: 60, 1: 3600, 2: 86400}  # flyteidl admin.FixedRateUnit: MINUTE, HOUR, DAY


def _remote_state(generated: Project, now: dt.datetime, as_json: bool, config, project, domain) -> None:
    from .remote import admin_errors, connect

    try:
        cluster = connect(config, project, domain, "schedules --remote", generated)
        project, domain = cluster.project, cluster.domain  # as namespace() chose them
        with admin_errors(cluster):
            states = [_state(cluster, schedule, now) for schedule in generated.schedules]
    except OperateError as exc:
        fail(exc)
    if as_json:
        dump_json({"project": str(generated.directory), "package": generated.package, "flyte_project": project,
                   "domain": domain, "endpoint": cluster.endpoint, "now": iso(now), "schedules": states})  # fmt: skip
        return
    _say(f"{generated.directory}: {len(states)} schedule{'s' if len(states) != 1 else ''} of package "
         f"{generated.package} in {project}/{domain} (flyteadmin at {cluster.endpoint}), at {iso(now)}")  # fmt: skip
    print_states(states)


def print_states(states: list[dict]) -> None:
    """`schedules --remote`'s table and notes, for both targets (a flyte2 trigger has one version or none)."""
    rows = []
    for state in states:
        last = state["last_run"]
        rows.append({
            "name": state["name"],
            "active": state["active_version"] or ("several" if state.get("active_versions") else "none"),
            "last": f"{last['execution']} {last['phase']}" if last else "-",
            "kickoff": (last["kickoff"] or "-") if last else "-",
            "next": state["next_kickoff"] or "-",
        })  # fmt: skip
    columns = [("name", "SCHEDULE"), ("active", "ACTIVE VERSION"), ("last", "LAST RUN"),
               ("kickoff", "LAST KICKOFF (UTC)"), ("next", "NEXT KICKOFF (UTC)")]  # fmt: skip
    widths = {key: max([len(title)] + [len(visible(row[key])) for row in rows]) for key, title in columns}
    _say("  ".join(title.ljust(widths[key]) for key, title in columns).rstrip())
    for row in rows:
        _say("  ".join(visible(row[key]).ljust(widths[key]) for key, _ in columns).rstrip())
    for state in states:
        for note in state["notes"]:
            _say(f"note: {state['name']}: {note}")


def _state(cluster, schedule: Schedule, now: dt.datetime) -> dict:
    """One schedule's state on the cluster (see the module doc)."""
    from flytekit.models import filters

    from .kickoffs import next_kickoffs
    from .remote import launch_plan_versions
    from .runs import _executions, _kickoff, _mode, _phase
    from .remote import utc

    plans = launch_plan_versions(cluster, schedule.name)  # newest registered first
    active = [plan for plan in plans if plan.closure.state == ACTIVE]
    notes: list[str] = []
    record: dict = {"name": schedule.name, "kind": schedule.kind, "deployed_versions": [p.id.version for p in plans],
                    "active_version": active[0].id.version if len(active) == 1 else None,
                    "active_versions": [p.id.version for p in active], "registered_schedule": None,
                    "matches_project": None, "last_run": None, "next_kickoff": None, "notes": notes}  # fmt: skip
    if not plans:
        notes.append(f"not deployed in {cluster.project}/{cluster.domain}")
    elif not active:
        notes.append("deployed, no version ACTIVE: it does not fire (`unionml activate-schedules` switches it on)")
    elif len(active) > 1:
        notes.append(f"{len(active)} versions ACTIVE ({', '.join(record['active_versions'])}): each fires; "
                     f"`unionml activate-schedules OUT {schedule.name} --version V` keeps one")  # fmt: skip
    executions, _ = _executions(cluster, [filters.Equal("launch_plan.name", schedule.name)], 1)
    if executions:
        last = executions[0]
        kickoff = _kickoff(cluster, last, schedule.run_kickoff_input)
        record["last_run"] = {"execution": last.id.name, "phase": _phase(last.closure.phase),
                              "version": last.spec.launch_plan.version, "started_by": _mode(last),
                              "kickoff": iso(kickoff) if kickoff else None,
                              "created_at": iso(utc(last.closure.created_at)) if utc(last.closure.created_at) else None}  # fmt: skip
    if len(active) != 1:
        return record
    plan = active[0]
    registered = _registered_cadence(plan)
    if registered is None:
        notes.append(f"version {plan.id.version} has no schedule")
        return record
    record["registered_schedule"] = {"cron": registered.cron, "fixed_rate_seconds":
                                     int(registered.fixed_rate.total_seconds()) if registered.fixed_rate else None}  # fmt: skip
    record["matches_project"] = (registered.cron, registered.fixed_rate) == (schedule.cron, schedule.fixed_rate)
    if not record["matches_project"]:
        notes.append(f"the ACTIVE version {plan.id.version} runs {registered.describe()}, the project "
                     f"{schedule.cadence}: deploy and activate the project's version to change it")  # fmt: skip
    if registered.fixed_rate is None:
        record["next_kickoff"] = iso(next_kickoffs(registered, now, 1)[0])
        return record
    scheduled, _ = _executions(cluster, [filters.Equal("launch_plan.name", schedule.name),
                                         filters.Equal("launch_plan.version", plan.id.version),
                                         filters.Equal("mode", "1")], 1)  # fmt: skip
    anchor = utc(scheduled[0].spec.metadata.scheduled_at) if scheduled else None
    if anchor is None:
        notes.append("a fixed rate's kickoffs follow the time it was activated, which flyteadmin does not say: "
                     "the next kickoff is known once it has run on schedule")  # fmt: skip
        return record
    record["next_kickoff"] = iso(next_kickoffs(registered, now, 1, activated=anchor)[0])
    return record


class _Registered:
    """A launch plan's schedule as flyteadmin stores it, with the fields kickoffs.py reads."""

    def __init__(self, cron: str | None, fixed_rate: dt.timedelta | None):
        self.cron, self.fixed_rate = cron, fixed_rate

    def describe(self) -> str:
        return f"cron {self.cron!r}" if self.cron is not None else f"every {int(self.fixed_rate.total_seconds())} s"


def _registered_cadence(plan) -> _Registered | None:
    schedule = plan.spec.entity_metadata.schedule if plan.spec.entity_metadata is not None else None
    if schedule is None:
        return None
    if schedule.rate is not None and schedule.rate.value:
        return _Registered(None, dt.timedelta(seconds=schedule.rate.value * RATE_UNITS.get(schedule.rate.unit, 60)))
    cron = schedule.cron_schedule.schedule if schedule.cron_schedule is not None else schedule.cron_expression
    return _Registered(cron, None) if cron else None


def _say(text: str) -> None:
    """A line of the listing: names and values come from the app (through the manifest), so control
    characters are escaped (a model named "x\\n::error title=CI::..." stays on its line)."""
    click.echo(visible(text))
