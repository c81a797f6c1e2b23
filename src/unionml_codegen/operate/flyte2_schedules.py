"""`unionml schedules` of a flyte2 project: its triggers' next kickoffs, and with `--remote` the control plane's
state of each (through the flyte SDK, operate/flyte2.py).

Flyte 2's kickoff rules, as the flyte 2.12 SDK and the open-source backend (flyteorg/flyte, `runs/`) show them:
- `flyte.Cron(expression, timezone=...)`: the project writes timezone="UTC" (the scheduler parses the
  expression with robfig/cron's `ParseStandard`: `runs/scheduler/core/schedule_time.go`, `ParseSchedule`), so
  the times here are exact;
- `flyte.FixedRate(minutes, start_time=None)`: a constant delay (`cron.ConstantDelaySchedule`, same file) from
  the trigger's last fire (`triggered_at`), else from when it was deployed (`deployed_at`: every deploy sets it
  anew): `StartTime` and `startTimeFallback`. With a start time, the first slot after that point. The SDK says
  the same from its side: "the first trigger occurs `interval_minutes` after deployment/activation"
  (`flyte/_trigger.py`, `FixedRate`). Switching a trigger on does not move its phase.
The local preview takes that time from --activated-at (else --now); `--remote` from the trigger's status.
"""

from __future__ import annotations

import datetime as dt

import click

from .common import dump_json, fail, iso
from .kickoffs import next_kickoffs
from .project import OperateError, Project, Schedule, visible


def caveats(schedule: Schedule, now: dt.datetime, activated: dt.datetime | None) -> list[str]:
    """What a reader of a trigger's kickoff times must know (the flyte1 notes about Flyte 1's scheduler, its time
    zone and the kickoff input of a fixed rate do not apply)."""
    notes = []
    if schedule.fixed_rate is not None:
        at = iso(activated) if activated is not None else f"{iso(now)} (--now; give --activated-at)"
        notes.append("a Flyte 2 fixed rate first fires one interval after the trigger is deployed or switched on, "
                     f"then every interval: times assume that happened at {at}")  # fmt: skip
    if schedule.offset:
        notes.append(f"offset {schedule.offset!r} has no place in a flyte.Trigger: it is not applied")
    if not schedule.activate_on_deploy:
        notes.append("not activated on deploy (activate_on_deploy=False): `unionml activate-schedules` switches it on")
    return notes


def remote_state(generated: Project, now: dt.datetime, as_json: bool, config, project, domain) -> None:
    from . import flyte2

    project, domain = flyte2.where(generated, project, domain)
    try:
        found = flyte2.call("states", generated, config, project, domain,
                            targets=[[s.name, s.workflow, s.run_kickoff_input] for s in generated.schedules])  # fmt: skip
    except OperateError as exc:
        fail(exc)
    states = [_state(schedule, state, now) for schedule, state in zip(generated.schedules, found["states"])]
    if as_json:
        dump_json({"project": str(generated.directory), "package": generated.package, "flyte_project": project,
                   "domain": domain, "now": iso(now), "schedules": states})  # fmt: skip
        return
    _say(f"{generated.directory}: {len(states)} schedule{'s' if len(states) != 1 else ''} of package "
         f"{generated.package} in {project}/{domain} (the Flyte 2 control plane), at {iso(now)}")  # fmt: skip
    from .preview import print_states

    print_states(states)


class _Cadence:
    """A trigger's schedule as the control plane stores it, with the fields kickoffs.py reads."""

    def __init__(self, cron: str | None, fixed_rate: dt.timedelta | None):
        self.cron, self.fixed_rate = cron, fixed_rate


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _state(schedule: Schedule, found: dict, now: dt.datetime) -> dict:
    notes: list[str] = []
    record = {"name": schedule.name, "kind": schedule.kind, "task": schedule.workflow, "deployed": found["deployed"],
              "active_version": None, "deployed_version": found.get("version"), "registered_schedule": None,
              "matches_project": None, "last_run": None, "next_kickoff": None, "notes": notes}  # fmt: skip
    if not found["deployed"]:
        notes.append(f"not deployed (no trigger {schedule.name} on {schedule.workflow})")
        return record
    last = found["last_run"]
    if last is not None:
        record["last_run"] = {"execution": last["run"], "phase": last["phase"], "version": last["version"],
                              "started_by": "schedule" if last["started_by"] == "trigger" else "manual",
                              "kickoff": iso(_when(last["kickoff"])) if last["kickoff"] else None}  # fmt: skip
    rate = dt.timedelta(seconds=found["rate_seconds"]) if found["rate_seconds"] else None
    if found["cron"] is None and rate is None:
        notes.append("the deployed trigger has a schedule this command cannot read")
        return record
    cadence = _Cadence(found["cron"], rate)
    record["registered_schedule"] = {"cron": cadence.cron, "timezone": found["timezone"],
                                     "fixed_rate_seconds": int(rate.total_seconds()) if rate else None}  # fmt: skip
    record["matches_project"] = (cadence.cron, cadence.fixed_rate) == (schedule.cron, schedule.fixed_rate)
    if not record["matches_project"]:
        shown = f"cron {cadence.cron!r}" if cadence.cron else f"every {int(rate.total_seconds())} s"
        notes.append(f"the deployed trigger runs {shown}, the project {schedule.cadence}: deploy the project to "
                     "change it")  # fmt: skip
    if not found["active"]:
        notes.append("deployed, not active: it does not fire (`unionml activate-schedules` switches it on)")
        return record
    record["active_version"] = found["version"]
    if cadence.cron is not None:
        if found["timezone"] not in ("UTC", "Etc/UTC"):
            notes.append(f"the cron runs in {found['timezone']}: the times shown are UTC's")
        record["next_kickoff"] = iso(next_kickoffs(cadence, now, 1)[0])
        return record
    last = _when(found["triggered_at"]) or _when(found["deployed_at"])  # startTimeFallback
    if last is None:
        notes.append("the control plane says neither when the trigger last fired nor when it was deployed: its "
                     "next kickoff is not known")  # fmt: skip
        return record
    start = _when(found["start_time"])
    anchor = last if start is None else (start if start > last else last - (last - start) % rate)
    record["next_kickoff"] = iso(next_kickoffs(cadence, max(now, last), 1, activated=anchor)[0])
    return record


def _say(text: str) -> None:
    click.echo(visible(text))
