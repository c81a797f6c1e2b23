"""What the operate commands share: loading the project, errors (`error: MESSAGE [UMG7xx]` and a hint line,
exit 2), the command-line habits of unionml 0.2.1 and flytectl answered with what to type, times on the
command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from typing import Any, Callable, Iterator, NoReturn

import click

from .. import codes
from .project import OperateError, Project, load_project, visible


def project_or_exit(out: str | None, flyte2: bool = False) -> Project:
    """The project, or a one-line error (with its hint) and exit 2 (a flyte2 project only with `flyte2`)."""
    try:
        return load_project(out, flyte2=flyte2)
    except OperateError as exc:
        fail(exc)


def fail(exc: OperateError | Exception | str, code: int = 2) -> NoReturn:
    """`error: MESSAGE [CODE]` on stderr, then `  hint: HINT` when there is one; exit `code`. Control characters
    are escaped: a message may quote a server's reply, a file name or the app."""
    if isinstance(exc, OperateError):
        message, hint, tag = exc.message, exc.hint, exc.code
    else:  # a KickoffError of a backfill range, a message
        message, hint, tag = str(exc), None, codes.OPERATE_FAILED
    click.echo(f"error: {codes.tagged(visible(message), tag)}", err=True)
    if hint:
        click.echo(f"  hint: {visible(hint)}", err=True)
    sys.exit(code)


#: What unionml 0.2.1's own commands and flytectl take that these commands do not (the option as typed, the
#: commands it is checked on, or None for all), and what to type instead.
HABITS: list[tuple[tuple[str, ...], tuple[str, ...] | None, str]] = [
    (
        ("-o", "--output"),
        (
            "schedules",
            "list-scheduled-training-runs",
            "list-scheduled-prediction-runs",
            "list-model-versions",
            "fetch-predictions",
            "backfill",
        ),
        "`-o json` is flytectl's form: these commands print JSON with --json",
    ),
    (("--output-file",), ("fetch-model",), "unionml's --output-file is -o FILE here"),
    (
        ("--output-file", "--output-format"),
        ("fetch-predictions",),
        "fetch-predictions prints the predictions (--json for JSON); redirect them to a file",
    ),
    (
        ("--model-version", "-m"),
        ("fetch-model",),
        "the model version is the training EXECUTION: `unionml fetch-model OUT EXECUTION -o FILE` "
        "(`unionml list-model-versions OUT` lists them)",
    ),
    (
        ("--prediction-id", "-m"),
        ("fetch-predictions",),
        "the prediction id is the EXECUTION: `unionml fetch-predictions OUT EXECUTION` "
        "(`unionml list-scheduled-prediction-runs OUT SCHEDULE` lists them)",
    ),
    (
        ("--app-version", "-v"),
        ("deploy", "activate-schedules", "deactivate-schedules", "backfill"),
        "the deployed version is --version V here",
    ),
    (
        ("--allow-uncommitted", "--patch"),
        ("deploy",),
        "unionml's deploy builds and pushes an image; here build the generated Dockerfile, then "
        "`unionml deploy OUT --version V --image IMAGE`",
    ),
    (("--schedule",), ("deploy",), "deploy activates the schedules the app says to by default; --no-schedule none"),
    (
        ("--schedule-name", "--name"),
        ("list-scheduled-training-runs", "list-scheduled-prediction-runs"),
        "name the schedule as an argument: `unionml list-scheduled-training-runs OUT SCHEDULE`",
    ),
    (("--name",), ("run", "backfill"), "name the schedule as an argument: `unionml backfill OUT SCHEDULE ...`"),
    (("-i", "--inputs"), None, "a schedule's inputs are fixed in its launch plan; regenerate the app to change them"),
]


def _option_of(exc: click.UsageError) -> str | None:
    if isinstance(exc, click.NoSuchOption):
        return exc.option_name
    if isinstance(exc, click.BadOptionUsage):
        return exc.option_name
    return None


def usage_failure(exc: click.UsageError) -> NoReturn:
    """A command line an operate command cannot take, as every operate error: one line with its code, a hint
    (the form meant, for the habits of unionml 0.2.1 and flytectl; else click's suggestion and --help), exit 2."""
    ctx = exc.ctx
    name = ctx.command.name if ctx is not None and ctx.command is not None else None
    message = exc.format_message()
    option = _option_of(exc)
    hint = None
    if option is not None:
        for spellings, commands, text in HABITS:
            if option in spellings and (commands is None or name in commands):
                hint = text
                break
    if isinstance(exc, click.MissingParameter) and name == "deploy" and getattr(exc.param, "name", None) == "version":
        hint = ("give every registered entity a version, the image's as a rule: "
                "`unionml deploy OUT --version $(git rev-parse --short HEAD)`")  # fmt: skip
    if isinstance(exc, click.NoSuchOption):
        message = f"no such option {option}"  # click's "Did you mean" becomes the hint
        if hint is None and exc.possibilities:
            hint = f"did you mean {' or '.join(sorted(exc.possibilities))}? (`unionml {name} --help`)"
    if hint is None:
        hint = f"`unionml {name} --help` shows what it takes" if name else "`unionml --help` lists the commands"
    shown = f"unionml {name}: " if name else ""
    message = message.strip().rstrip(".")
    fail(OperateError(shown + message[:1].lower() + message[1:], hint, codes.INVALID_COMMAND_LINE))


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


def interactive() -> bool:
    """Whether a person watches: stdout and stderr are both terminals (not CI, a pipe or a file)."""
    return sys.stdout.isatty() and sys.stderr.isatty()


@contextlib.contextmanager
def progress(label: str, total: int, plain: str | None = None) -> Iterator[Callable[..., None]]:
    """Progress of a long operation of `total` steps; yields `step(description=None)`, called after each.

    On a terminal (`interactive`): a rich progress bar on stderr, removed at the end; what the command prints
    on stdout meanwhile appears above it. Otherwise no bar and no escape codes: the line `plain` on stderr at
    the start (when given), and the command's own lines, each printed as it happens, are the progress."""
    if not interactive() or total <= 0:
        if plain:
            click.echo(visible(plain), err=True)
        yield lambda description=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(file=sys.stderr), transient=True, redirect_stdout=True,
                  redirect_stderr=False) as bar:  # fmt: skip
        task = bar.add_task(visible(label), total=total)

        def step(description: str | None = None) -> None:
            bar.update(task, advance=1, **({"description": visible(description)} if description else {}))

        yield step
