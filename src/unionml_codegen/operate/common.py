"""What the operate commands share: loading the project with a one-line error, times on the command line."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from .project import OperateError, Project, load_project, visible


def project_or_exit(out: str | None) -> Project:
    """The project, or a one-line error (with its hint) and exit 2."""
    try:
        return load_project(out)
    except OperateError as exc:
        fail(exc)


def fail(exc: OperateError | str, code: int = 2):
    """One line on stderr, control characters escaped: a message may quote a server's reply or a file."""
    click.echo(f"error: {visible(str(exc))}", err=True)
    sys.exit(code)


def out_and_schedule(words: tuple[str, ...]) -> tuple[str | None, str]:
    """`[OUT] SCHEDULE` on the command line: the project directory may be left out (it is then found)."""
    if len(words) == 1:
        return None, words[0]
    if len(words) == 2:
        return words[0], words[1]
    raise click.UsageError(f"expected [OUT] SCHEDULE, got {len(words)} argument{'s' if len(words) != 1 else ''}")


class Time(click.ParamType):
    """An ISO 8601 time on the command line; UTC when it names no zone."""

    name = "TIME"

    def convert(self, value, param, ctx) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        from .kickoffs import parse_time

        try:
            return parse_time(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME = Time()


def iso(time: dt.datetime) -> str:
    """A UTC time as `2026-11-29T00:00:00Z`."""
    return time.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat() + "Z"


def dump_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def inputs_text(schedule) -> list[str]:
    """The fixed inputs of a schedule, one `name=value` each, as JSON (Python literals where JSON cannot say)."""
    parts = [f"{name}={json.dumps(value, sort_keys=True)}" for name, value in schedule.fixed_inputs.items()]
    parts += [f"{name}={text}" for name, text in schedule.fixed_inputs_python.items()]
    return parts or ["none"]
