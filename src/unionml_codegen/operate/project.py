"""A generated project as the operate commands see it: its manifest's `project` and `schedules` sections.

The project directory is found the way `unionml generate` finds its output (config.py): the OUT
argument; else `output` in `[tool.unionml-codegen]` of the nearest pyproject.toml; else the one
generated project whose manifest is in the current directory or just below it. Nothing here
imports the app, the generated package or flytekit.

A pull request can change the manifest and the generated files, so before any command acts on them
the project is verified to be exactly what `unionml generate` writes from its app now (`verify`: the
same render and comparison as `--check`, spared only by this machine's cache): a manifest naming
another package, a schedule switched on, or a launch plan module the generator did not write is
refused, never acted on.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import click

from .. import codes
from ..diagnostics import visible  # noqa: F401 (the operate modules print through it)
from ..output import MANIFEST, read_manifest

REGENERATE = "regenerate it with `unionml generate` (or `unionml generate APP.py -o {out}`)"


class OperateError(Exception):
    """Why an operate command cannot go on: one line for the user with its code (codes.py, the operating
    range; OPERATE_FAILED when the raiser names none), and a hint. Exit code 2 (common.fail prints it)."""

    def __init__(self, message: str, hint: str | None = None, code: codes.Code | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code or codes.OPERATE_FAILED

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class ModelSource:
    """Where a prediction schedule's model comes from (spec.ModelReference, as the manifest records it)."""

    kind: Literal["file", "uri", "version"]
    source: str | None = None  # file: the path the app (or --model) gave
    vendored: str | None = None  # file: the copy in the project, relative to the project directory
    sha256: str | None = None
    size: int | None = None
    uri: str | None = None  # uri
    version: str | None = None  # version: a training execution, or "latest"
    app_version: str | None = None
    latest: bool = False

    def describe(self) -> str:
        if self.kind == "file":
            return f"{self.source} (vendored as {self.vendored}, sha256 {(self.sha256 or '')[:12]}…)"
        if self.kind == "uri":
            return f"{self.uri} (read at run time)"
        if self.latest:
            return "the latest successful training execution (model_version='latest')"
        return f"model version {self.version}" + (f" of app version {self.app_version}" if self.app_version else "")


@dataclass(frozen=True)
class Schedule:
    """One launch plan of the project, named as the app's schedule."""

    name: str
    kind: Literal["training", "prediction"]
    model: str
    launch_plan_module: str  # e.g. digits.launch_plans
    launch_plan_attribute: str
    workflow: str  # the registered name of the workflow the plan runs, e.g. digits.workflows.digits_classifier_train
    time_workflow: str | None  # fixed-rate plans: the workflow taking the reader's time directly, if the project has it
    time_input: str | None  # the reader's time argument (reader_time_arg)
    run_kickoff_input: str | None  # the input of `workflow` a local run passes the kickoff time to
    cron: str | None
    fixed_rate: dt.timedelta | None
    offset: str | None  # given in the app; the native scheduler ignores it
    kickoff_input: str | None  # cron plans: the input the scheduler fills with the kickoff time
    activate_on_deploy: bool
    fixed_inputs: dict[str, Any]  # JSON-representable fixed inputs
    fixed_inputs_python: dict[str, str]  # the others, as the Python literals in launch_plans.py
    model_source: ModelSource | None
    outputs: tuple[str, ...]

    @property
    def cadence(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron!r}"
        return f"every {_duration(self.fixed_rate)}"

    @property
    def launch_plan(self) -> str:
        return f"{self.launch_plan_module}.{self.launch_plan_attribute}"


@dataclass(frozen=True)
class ModelWorkflows:
    name: str
    training_workflow: str
    prediction_workflow: str | None
    training_workflows: tuple[str, ...]
    prediction_workflows: tuple[str, ...]


@dataclass(frozen=True)
class Project:
    directory: Path
    package: str
    app: str  # the app's path relative to the project directory
    image: str | None
    generator: str | None
    models: tuple[ModelWorkflows, ...]
    schedules: tuple[Schedule, ...]
    target: str = "flyte1"  # flyte2: operated through the flyte SDK in its own interpreter (operate/flyte2.py)
    #: where it deploys (operate/remote.py `namespace`): the app's model.remote(...) (the manifest's `remote`:
    #: project, domain, config_file, unread), and project / domain of [tool.unionml-codegen] (its `options`)
    remote: dict[str, Any] = field(default_factory=dict)
    configured: dict[str, str] = field(default_factory=dict)

    def schedule(self, name: str) -> Schedule:
        for schedule in self.schedules:
            if schedule.name == name:
                return schedule
        known = ", ".join(s.name for s in self.schedules) or "none"
        raise OperateError(
            f"{self.directory} has no schedule {name!r}",
            f"its schedules: {known} (`unionml schedules {self.directory}` lists them)",
            codes.UNKNOWN_SCHEDULE,
        )

    def named(self, names: tuple[str, ...] | list[str]) -> tuple[Schedule, ...]:
        """The schedules of `names` in the order given, or all of them when none is named."""
        return tuple(self.schedule(name) for name in names) if names else self.schedules


def find_project(out: str | os.PathLike | None, cwd: Path | None = None) -> Path:
    """The generated project's directory, from OUT, pyproject.toml or the manifests around (module doc)."""
    from ..config import ConfigError, discover, find_pyproject, load_config, shown_path

    here = Path.cwd()
    cwd = here if cwd is None else Path(os.path.abspath(cwd))
    if out is not None:
        return Path(out) if cwd == here else Path(shown_path(cwd / out, here))
    try:
        pyproject = find_pyproject(cwd)
        config = load_config(pyproject) if pyproject is not None else None
        if config is not None and config.output is not None:
            return Path(shown_path(config.output, here))
        found = discover(cwd)
    except ConfigError as exc:
        raise OperateError(exc.message, code=exc.code) from None
    operable = [settings for settings in found if _target(read_manifest(settings.output)) == "flyte1"]
    found = operable or found  # a flyte2 project beside a flyte1 one of the same app is not a choice to make
    if len(found) == 1:
        return Path(shown_path(found[0].output, here))
    if not found:
        raise OperateError(
            "no generated project here",
            f"name its directory (OUT), set output in [tool.unionml-codegen] of pyproject.toml, or run this in "
            f"the directory that holds it (the one with {MANIFEST})",
            codes.PROJECT_NOT_FOUND,
        )
    names = ", ".join(shown_path(settings.output, cwd) for settings in found)
    raise OperateError(
        f"several generated projects here ({names})", "name the one to use (OUT)", codes.PROJECT_NOT_FOUND
    )


#: The commands that operate a flyte2 project (operate/flyte2.py); the others refuse one (PROJECT_NOT_OPERABLE).
FLYTE2_COMMANDS = ("deploy", "list-scheduled-training-runs", "list-scheduled-prediction-runs", "fetch-model",
                   "fetch-predictions", "activate-schedules", "deactivate-schedules", "prune-schedules",
                   "schedules", "run", "backfill", "list-model-versions")  # fmt: skip


def load_project(
    out: str | os.PathLike | None = None, cwd: Path | None = None, *, verify: bool = True, flyte2: bool = False
) -> Project:
    """The project found from `out` (see `find_project`), loaded from its manifest once it is verified
    to be what the generator writes from its app now (`verify=False` only reads the manifest: tests).
    A flyte2 project only for a command that operates one (`flyte2=True`)."""
    directory = find_project(out, cwd)
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise OperateError(
            f"{directory} {what}", "give the directory `unionml generate` wrote (its -o OUT)", codes.PROJECT_NOT_FOUND
        )
    manifest = read_manifest(directory)
    if manifest is None:
        raise OperateError(
            f"{directory} has no readable {MANIFEST}: it is not a project generated by `unionml generate`",
            "give the directory `unionml generate` wrote (its -o OUT), or " + REGENERATE.format(out=directory),
            codes.PROJECT_NOT_FOUND,
        )
    target = _target(manifest)
    if target != "flyte1" and not (target == "flyte2" and flyte2):
        context = click.get_current_context(silent=True)
        command = f"`unionml {context.info_name}`" if context is not None else "this command"
        also = f" (of these, {', '.join(FLYTE2_COMMANDS)} do)" if target == "flyte2" else ""
        raise OperateError(
            f"{directory} is a project for --target {target}; {command} operates flytekit (flyte1) projects "
            f"only{also}",
            "generate the app without --target (or --target flyte1) into another directory to operate it with this",
            codes.PROJECT_NOT_OPERABLE,
        )
    if "schedules" not in manifest:
        raise OperateError(
            f"{directory / MANIFEST} was written by an older unionml-codegen and does not record the schedules",
            REGENERATE.format(out=directory),
            codes.PROJECT_NOT_OPERABLE,
        )
    if verify:
        verify_project(directory)
    try:
        return _project(directory, manifest)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise OperateError(
            f"{directory / MANIFEST} is damaged ({type(exc).__name__}: {visible(str(exc))})",
            REGENERATE.format(out=directory),
            codes.PROJECT_NOT_OPERABLE,
        ) from None


def verify_project(directory: Path) -> None:
    """Refuse a project that is not, byte for byte, what `unionml generate -o DIRECTORY` writes now
    (its app, options and model files as its manifest names them, each kept inside the project)."""
    from ..output.cache import configured
    from ..config import ConfigError, Settings, resolve
    from ..diagnostics import AppError
    from ..generate import generate
    from ..output import WriteRefused

    regenerate = f"run `unionml generate -o {directory}`, review what it changes, and commit it"
    try:
        [target] = resolve(Settings(output=directory))
        result = generate(target.app, target.output, target.options(), check=True, cache=configured())
    except ConfigError as exc:
        raise OperateError(
            f"{directory} cannot be verified: {visible(exc.message)}", regenerate, codes.PROJECT_NOT_VERIFIED
        ) from None
    except AppError as exc:
        count = len(exc.diagnostics.errors)
        raise OperateError(
            f"{directory} cannot be verified: its app has {count} error{'s' if count != 1 else ''}",
            f"`unionml generate -o {directory} --check` shows them",
            codes.PROJECT_NOT_VERIFIED,
        ) from None
    except (WriteRefused, OSError, ValueError) as exc:
        raise OperateError(
            f"{directory} cannot be verified: {visible(str(exc))}", regenerate, codes.PROJECT_NOT_VERIFIED
        ) from None
    drift = result.drift
    if drift is not None and not drift.clean:
        found = drift.summary().splitlines()
        shown = "; ".join(" ".join(line.split()) for line in found[:4]) + ("; ..." if len(found) > 4 else "")
        raise OperateError(
            f"{directory} is not what `unionml generate` writes from {target.app} now ({shown}); "
            "no command acts on a project the generator did not write",
            regenerate,
            codes.PROJECT_NOT_VERIFIED,
        )


def _target(manifest: dict[str, Any] | None) -> str:
    options = manifest.get("options") if manifest and isinstance(manifest.get("options"), dict) else {}
    target = options.get("target", "flyte1")
    return target if isinstance(target, str) else "?"


def _project(directory: Path, manifest: dict[str, Any]) -> Project:
    section = _dict(manifest["project"])
    options = manifest.get("options") if isinstance(manifest.get("options"), dict) else {}
    models = tuple(
        ModelWorkflows(
            name=_str(m["name"]),
            training_workflow=_str(m["training_workflow"]),
            prediction_workflow=_optional_str(m["prediction_workflow"]),  # None: a training-only app (UMG119)
            training_workflows=tuple(_str(w) for w in _list(m["training_workflows"])),
            prediction_workflows=tuple(_str(w) for w in _list(m["prediction_workflows"])),
        )
        for m in map(_dict, _list(section["models"]))
    )
    schedules = tuple(_schedule(_dict(s)) for s in _list(manifest["schedules"]))
    names = [s.name for s in schedules]
    if len(set(names)) != len(names):
        raise ValueError("two schedules have one name")
    remote = manifest.get("remote") if isinstance(manifest.get("remote"), dict) else {}
    return Project(
        remote=dict(remote),
        configured={key: options[key] for key in ("project", "domain") if isinstance(options.get(key), str)},
        target=_target(manifest),
        directory=directory,
        package=_str(section["package"]),
        app=_str(manifest["app"]),
        image=options.get("image") if isinstance(options.get("image"), str) else None,
        generator=manifest.get("generator") if isinstance(manifest.get("generator"), str) else None,
        models=models,
        schedules=schedules,
    )


def _schedule(record: dict[str, Any]) -> Schedule:
    cadence = _dict(record["schedule"])
    cron, seconds = cadence.get("cron"), cadence.get("fixed_rate_seconds")
    if (cron is None) == (seconds is None):
        raise ValueError(f"schedule {record.get('name')!r}: give a cron or a fixed rate")
    if seconds is not None and (not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0):
        raise ValueError(f"schedule {record.get('name')!r}: fixed_rate_seconds must be a positive integer")
    kind = record["kind"]
    if kind not in ("training", "prediction"):
        raise ValueError(f"schedule {record.get('name')!r}: unknown kind {kind!r}")
    plan = _dict(record["launch_plan"])
    source = record.get("model_source")
    return Schedule(
        name=_str(record["name"]),
        kind=kind,
        model=_str(record["model"]),
        launch_plan_module=_str(plan["module"]),
        launch_plan_attribute=_str(plan["attribute"]),
        workflow=_str(record["workflow"]),
        time_workflow=_optional_str(record.get("time_workflow")),
        time_input=_optional_str(record.get("time_input")),
        run_kickoff_input=_optional_str(record.get("run_kickoff_input")),
        cron=_str(cron) if cron is not None else None,
        fixed_rate=dt.timedelta(seconds=seconds) if seconds is not None else None,
        offset=_optional_str(cadence.get("offset")),
        kickoff_input=_optional_str(record.get("kickoff_input")),
        activate_on_deploy=_bool(record["activate_on_deploy"]),
        fixed_inputs=_dict(record["fixed_inputs"]),
        fixed_inputs_python={k: _str(v) for k, v in _dict(record.get("fixed_inputs_python", {})).items()},
        model_source=_model_source(_dict(source)) if source is not None else None,
        outputs=tuple(_str(o) for o in _list(record["outputs"])),
    )


def _model_source(record: dict[str, Any]) -> ModelSource:
    kind = record["kind"]
    if kind not in ("file", "uri", "version"):
        raise ValueError(f"unknown model source {kind!r}")
    size = record.get("size")
    return ModelSource(
        kind=kind,
        source=_optional_str(record.get("source")),
        vendored=_optional_str(record.get("vendored")),
        sha256=_optional_str(record.get("sha256")),
        size=size if isinstance(size, int) else None,
        uri=_optional_str(record.get("uri")),
        version=_optional_str(record.get("version")),
        app_version=_optional_str(record.get("app_version") or None),
        latest=bool(record.get("latest", False)),
    )


def _dict(value: Any) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected a non-empty string, got {value!r}")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "?"
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
