"""The rules of a schedule: its name, its timing (cron or fixed rate), its kickoff input and its LaunchPlan settings.

Names must be what flyteadmin accepts and `pyflyte package` can write to a file; cron expressions
are parsed as flyteadmin's scheduler parses them (cron.py); fixed rates must be whole minutes a Go
duration can hold; `launchplan_kwargs` may carry only what a launch plan can (launchplan_kwargs.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re


from .. import codes
from . import launchplan_kwargs
from ..cron import CronError, parse_cron
from ..diagnostics import Diagnostics
from ..spec import KICKOFF_INPUT, App, Schedule

#: The longest fixed rate flyteadmin's scheduler can add to a time: a Go time.Duration (int64 nanoseconds).
MAX_FIXED_RATE = dt.timedelta(days=106_751)


#: What flyteadmin accepts as a launch plan name, kept to characters that are safe in file names.
LAUNCH_PLAN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")


#: `pyflyte package` writes each launch plan to a file named `<index>_<name>_3.pb` (index zero-padded
#: to the digits of the entity count); a file name has at most 255 bytes. 240 leaves room for any index.
MAX_SCHEDULE_NAME = 240


def check_name(schedule: Schedule, seen: dict[str, Schedule], diagnostics: Diagnostics) -> None:
    at = schedule.at("name")
    if not LAUNCH_PLAN_NAME.fullmatch(schedule.name):
        diagnostics.error(
            codes.INVALID_SCHEDULE_NAME,
            at,
            f"schedule name {schedule.name!r} is not a valid launch plan name",
            "use letters, digits, '_', '-' and '.', starting with a letter, digit or '_'",
        )
    elif len(schedule.name) > MAX_SCHEDULE_NAME:
        diagnostics.error(
            codes.SCHEDULE_NAME_TOO_LONG,
            at,
            f"schedule name is {len(schedule.name)} characters long; at most {MAX_SCHEDULE_NAME} are possible",
            "pyflyte package writes each launch plan to a file named `<index>_<name>_3.pb`, and a file name "
            "has at most 255 bytes; shorten the name",
        )
    first = seen.get(schedule.name)
    if first is not None:
        diagnostics.error(
            codes.DUPLICATE_SCHEDULE_NAME,
            at,
            f"schedule name '{schedule.name}' is already used by the {first.kind} schedule at line "
            f"{first.position.line}",
            "launch plan names are one namespace per Flyte project and domain; give each schedule its own name",
        )
    else:
        seen[schedule.name] = schedule


def check_launchplan_kwargs(app: App, schedule: Schedule, diagnostics: Diagnostics, target: str = "flyte1") -> None:
    for message, hint in launchplan_kwargs.problems(schedule.launchplan_kwargs):
        diagnostics.error(codes.INVALID_LAUNCHPLAN_KWARGS, schedule.at("launchplan_kwargs"), message, hint)
    fixed = schedule.launchplan_kwargs.get("fixed_inputs")
    if not isinstance(fixed, dict):
        return
    inputs = _workflow_inputs(app, schedule)
    for key in fixed:
        problem = _fixed_kickoff(schedule, key, target)
        if problem is not None:
            diagnostics.error(
                codes.FIXED_KICKOFF_TIME,
                schedule.at("launchplan_kwargs"),
                f"launchplan_kwargs['fixed_inputs'] fixes {key!r}, {problem}",
                f"drop {key!r} from fixed_inputs: each run gets the time it was scheduled for",
            )
        elif isinstance(key, str) and key not in inputs:
            diagnostics.error(
                codes.UNKNOWN_FIXED_INPUT,
                schedule.at("launchplan_kwargs"),
                f"launchplan_kwargs['fixed_inputs'] names {key!r}, which is not an input of the schedule's workflow",
                f"inputs: {', '.join(sorted(inputs))}",
            )


def _fixed_kickoff(schedule: Schedule, key: object, target: str = "flyte1") -> str | None:
    """Why fixing `key` would fix the kickoff time of a schedule, or None."""
    if schedule.reader_time_arg is None:
        return None
    if target == "flyte2":
        if key != schedule.reader_time_arg:
            return None
        return "the input this schedule's trigger binds to its fire time (flyte.TriggerTime)"
    if schedule.fixed_rate is None and key == schedule.reader_time_arg:
        return (
            "the kickoff time input of this cron schedule; flyteadmin refuses a launch plan whose "
            "kickoff_time_input_arg is fixed"
        )
    if schedule.fixed_rate is not None and key in (schedule.reader_time_arg, KICKOFF_INPUT):
        return (
            "the kickoff time of this fixed-rate schedule, which the workflow reads from each execution "
            "(a fixed value would give every run the same time)"
        )
    return None


def _workflow_inputs(app: App, schedule: Schedule) -> set[str]:
    model = app.models[schedule.model]
    reader = app.datasets[model.dataset].components.get("reader")
    names = {p.name for p in reader.function.parameters} if reader else set()
    if schedule.kind == "training":
        trainer = model.components.get("trainer")
        names |= {"hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs"}
        names |= {p.name for p in trainer.function.keyword_only} if trainer else set()
    return names


def checked_timing(schedule: Schedule, diagnostics: Diagnostics, target: str = "flyte1") -> Schedule:
    s = schedule
    if (s.expression is None) == (s.fixed_rate is None):
        diagnostics.error(
            codes.SCHEDULE_TIMING,
            s.position,
            f"schedule '{s.name}' needs exactly one of `expression` and `fixed_rate`",
            'e.g. `expression="0 0 * * *"` or `fixed_rate=timedelta(days=1)`',
        )
        return s
    if s.offset is not None and target == "flyte2":
        diagnostics.warning(
            codes.OFFSET_IGNORED,
            s.at("offset"),
            f"schedule '{s.name}': Flyte 2's `flyte.Cron` has no offset, so the trigger leaves it out",
            "shift the cron expression by the offset instead (e.g. '0 1 * * *' for '0 0 * * *' plus PT1H)",
        )
    elif s.offset is not None:
        diagnostics.warning(
            codes.OFFSET_IGNORED,
            s.at("offset"),
            f"schedule '{s.name}': Flyte's native scheduler ignores `offset`, so the launch plan leaves it out",
            "shift the cron expression by the offset instead (e.g. '0 1 * * *' for '0 0 * * *' plus PT1H)",
        )
    if s.fixed_rate is not None:
        if s.reader_time_arg is not None and target == "flyte1":  # Flyte 2 binds flyte.TriggerTime to it
            diagnostics.warning(
                codes.FIXED_RATE_KICKOFF,
                s.at("reader_time_arg"),
                f"schedule '{s.name}': Flyte's native scheduler gives fixed-rate runs no kickoff time input; the "
                f"generated workflow reads the time each run was scheduled for from the execution and passes it "
                f"as the reader's '{s.reader_time_arg}'",
                "use a cron `expression` to get the kickoff time as a launch plan input instead",
            )
        rate = s.fixed_rate
        if rate < dt.timedelta(minutes=1):
            diagnostics.error(
                codes.FIXED_RATE_TOO_SHORT,
                s.at("fixed_rate"),
                f"fixed rate {rate} is under one minute",
                "Flyte's shortest rate is 1 minute",
            )
        elif rate > MAX_FIXED_RATE:
            diagnostics.error(
                codes.FIXED_RATE_TOO_LONG,
                s.at("fixed_rate"),
                f"fixed rate {rate.days:,} days is longer than flyteadmin's scheduler can count",
                "the native scheduler computes the next kickoff as a Go duration (int64 nanoseconds), at most "
                "106,751 days; no schedule needs that long: use a cron expression for yearly runs",
            )
        elif rate % dt.timedelta(minutes=1):
            diagnostics.error(
                codes.FIXED_RATE_NOT_WHOLE,
                s.at("fixed_rate"),
                f"fixed rate {rate} is not a whole number of minutes",
                "Flyte stores rates in minutes, hours or days; round the rate to whole minutes",
            )
        return s
    text = s.expression or ""
    if text.strip().startswith("@every"):
        diagnostics.error(
            codes.UNSUPPORTED_CRON,
            s.at("expression"),
            (
                f"'{text}': flytekit does not accept `@every`"
                if target == "flyte1"
                else f"'{text}': flytekit, and so unionml, does not accept `@every`; in Flyte 2 a rate is a "
                "`flyte.FixedRate`"
            ),
            "use `fixed_rate=timedelta(...)` instead",
        )
        return s
    try:
        cron = parse_cron(text)
    except CronError as exc:
        diagnostics.error(exc.code, s.at("expression"), exc.message, exc.hint)
        return s
    for note in cron.rewrites:
        diagnostics.warning(
            codes.CRON_REWRITTEN, s.at("expression"), note, f"write {cron.expression!r} to silence this warning"
        )
    return dataclasses.replace(s, expression=cron.expression)
