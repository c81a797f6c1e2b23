"""`unionml run OUT SCHEDULE --at T`: one run of a launch plan, locally, as the native scheduler would start it.

The scheduler starts a launch plan's workflow with the plan's inputs: its fixed inputs, its default
inputs, and for a cron plan the kickoff time in the plan's kickoff input. flytekit's local shortcuts
do not: `pyflyte run PKG/launch_plans.py PLAN --time T` runs the plan's workflow with the WORKFLOW's
defaults wherever the signature has one, dropping the plan's fixed inputs (different hyperparameters,
different metrics, without a word). So this imports the generated project (reviewed code, never the
app), reads the plan's own literals (`fixed_inputs`, then the defaults of its parameters), turns them
into Python values with flytekit's type engine against the workflow's interface, adds the kickoff
time as a UTC datetime and calls the workflow. A fixed-rate plan, which the scheduler starts without a
kickoff input, gets the time through its workflow's `kickoff_time` input (the time it reads from the
execution's `scheduled_at` on a cluster).

A prediction schedule whose model is a model version (a training execution) looks it up in flyteadmin
even when run locally. A local execution has no project or domain of its own (flytekit calls it
local/local), so the generated `model_registry.py` looks in FLYTE_DEFAULT_PROJECT / FLYTE_DEFAULT_DOMAIN;
the run sets them to the project and domain the cluster commands would use (remote.py `namespace`: `-p/--project`
and `-d/--domain`, else the app's `model.remote(...)`, `[tool.unionml-codegen]`, those variables, flytesnacks /
development), and `-c/--config` sets FLYTECTL_CONFIG, the flytekit configuration it reaches flyteadmin with.

What the project's code prints while it is imported and run (an app's reader printing "Downloading...")
goes to stderr, from Python and from native code alike, so stdout carries only the command's own
output (`--json`: one document).

flytekit and the generated package are imported here only, on the first run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any

import click

from .common import TIME, dump_json, out_and_schedule, iso, project_or_exit
from .project import OperateError, Project, Schedule, visible
from .where import DOMAIN_HELP, PROJECT_HELP, namespace

PREVIEW_ITEMS = 20  # predictions shown in the text output (all of them with --json)


class RunFailed(Exception):
    """The user's code failed during a run: a readable summary, no traceback of ours."""


@dataclass
class Outcome:
    """One run of a schedule at one kickoff: what it gave, as JSON and as lines of text."""

    schedule: str
    kickoff: dt.datetime
    ok: bool
    outputs: dict[str, Any] = field(default_factory=dict)  # JSON-ready
    error: str | None = None
    execution: str | None = None  # a cluster execution's id (backfill --remote)

    def json(self) -> dict[str, Any]:
        record = {"schedule": self.schedule, "kickoff": iso(self.kickoff), "ok": self.ok}
        if self.execution is not None:
            record["execution"] = self.execution
        if self.ok:
            record["outputs"] = self.outputs
        else:
            record["error"] = self.error
        return record

    def lines(self) -> list[str]:
        if not self.ok:
            return [f"failed: {self.error}"]
        return _output_lines(self.outputs)


class LocalRunner:
    """Runs one schedule's launch plan in this process, kickoff after kickoff (the plan is imported once)."""

    where = "locally"

    def __init__(self, project: Project, schedule: Schedule, options: dict | None = None):
        self.project = project
        self.schedule = schedule
        options = options or {}
        where = namespace(project, options.get("project"), options.get("domain"))  # where a model version is
        self.options = {**options, "project": where.project, "domain": where.domain}
        self._plan = None

    def prepare(self) -> None:
        """Import flytekit and the generated project's launch plan; OperateError when that fails."""
        if self._plan is not None:
            return
        try:
            import flytekit  # noqa: F401
        except ImportError:
            raise OperateError(
                "`unionml run` runs the generated project with flytekit, which is not installed",
                f"pip install -r {self.project.directory / 'requirements.txt'}",
            ) from None
        directory = str(self.project.directory.resolve())
        if directory not in sys.path:
            sys.path.insert(0, directory)
        module_name = self.schedule.launch_plan_module
        try:
            with app_output_to_stderr():
                module = importlib.import_module(module_name)
        except ImportError as exc:
            raise OperateError(
                f"cannot import {module_name} from {self.project.directory}: {exc}",
                f"install the project's requirements: pip install -r {self.project.directory / 'requirements.txt'}",
            ) from None
        except Exception as exc:  # the generated project (or the app code it copies) fails on import
            raise OperateError(f"importing {module_name} failed: {_summary(exc)}", _regenerate(self.project)) from None
        plan = getattr(module, self.schedule.launch_plan_attribute, None)
        if plan is None or not hasattr(plan, "fixed_inputs"):
            raise OperateError(
                f"{module_name} has no launch plan {self.schedule.launch_plan_attribute!r}", _regenerate(self.project)
            )
        self._plan = plan

    def inputs(self, at: dt.datetime) -> dict[str, Any]:
        """The workflow's inputs at kickoff `at`, as the scheduler gives them (see the module doc)."""
        from flytekit.core.context_manager import FlyteContextManager
        from flytekit.core.type_engine import TypeEngine
        from flytekit.models.literals import LiteralMap

        self.prepare()
        plan = self._plan
        types = plan.workflow.python_interface.inputs
        literals = {
            name: parameter.default
            for name, parameter in plan.parameters.parameters.items()
            if parameter.default is not None
        }
        literals.update(plan.fixed_inputs.literals)
        literals.pop(self.schedule.run_kickoff_input or "", None)
        ctx = FlyteContextManager.current_context()
        inputs = TypeEngine.literal_map_to_kwargs(ctx, LiteralMap(literals), {name: types[name] for name in literals})
        if self.schedule.run_kickoff_input:
            inputs[self.schedule.run_kickoff_input] = at
        return inputs

    def run(self, at: dt.datetime) -> Outcome:
        self.prepare()
        inputs = self.inputs(at)
        try:
            with app_output_to_stderr(), lookup_environment(self.options):
                result = self._plan.workflow(**inputs)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            return Outcome(self.schedule.name, at, ok=False, error=_summary(exc))
        return Outcome(self.schedule.name, at, ok=True, outputs=self._outputs(result))

    def _outputs(self, result: Any) -> dict[str, Any]:
        if self.schedule.kind == "training":
            return {
                "model_object": type(result.model_object).__name__,
                "hyperparameters": jsonable(result.hyperparameters),
                "metrics": jsonable(result.metrics),
            }
        return {"predictions": jsonable(result)}


@contextlib.contextmanager
def lookup_environment(options: dict):
    """Inside the block, FLYTE_DEFAULT_PROJECT / FLYTE_DEFAULT_DOMAIN are --project / --domain and FLYTECTL_CONFIG
    is --config (when given): where, and through what configuration, the generated model_registry.py of a local
    run looks model versions up (see the module doc). The variables are restored afterwards.

    flytekit caches which config file the environment names (`get_config_file`, an lru_cache filled as soon as
    anything asks, importing the project included), so the cache is emptied on the way in and out: else --config
    would be ignored once flytekit had looked."""
    from .remote import forget_config_file

    wanted = {"FLYTE_DEFAULT_PROJECT": options.get("project"), "FLYTE_DEFAULT_DOMAIN": options.get("domain"),
              "FLYTECTL_CONFIG": options.get("config")}  # fmt: skip
    saved = {name: os.environ.get(name) for name in wanted}
    try:
        for name, value in wanted.items():
            if value:
                os.environ[name] = str(value)
        forget_config_file()
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        forget_config_file()


@contextlib.contextmanager
def app_output_to_stderr():
    """Inside the block, what is written to stdout goes to stderr: `print` (sys.stdout) and, where
    stdout is a file descriptor, what native code or a child process writes to descriptor 1."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1: only Python's stdout to move
        saved = None
    try:
        if saved is not None:
            os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


@click.command("run")
@click.argument("words", nargs=-1, metavar="[OUT] SCHEDULE")
@click.option("--at", "at", type=TIME, default=None,
              help="The kickoff time (ISO 8601, UTC when no zone is given); default: the last kickoff before now.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("-p", "--project", default=None,
              help="Where a model-version schedule looks its training execution up. " + PROJECT_HELP)  # fmt: skip
@click.option("-d", "--domain", default=None,
              help="Where a model-version schedule looks its training execution up. " + DOMAIN_HELP)  # fmt: skip
@click.option("-c", "--config", "config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="flytekit/flytectl config file to reach flyteadmin with (default: FLYTECTL_CONFIG, then "
              "~/.flyte/config.yaml).")  # fmt: skip
def run(words, at, as_json, project, domain, config) -> None:
    """Run the launch plan SCHEDULE of the generated project OUT locally, as the scheduler would at a kickoff.

    The plan's fixed inputs and defaults are used exactly (`pyflyte run PKG/launch_plans.py PLAN`
    drops the fixed inputs for the workflow's defaults), and the kickoff time reaches the reader as a
    UTC datetime. Prints the metrics of a training plan, the predictions of a prediction plan.
    A schedule whose model is a model version looks it up in flyteadmin, in --project / --domain.
    Exit 1 when the run fails, 2 when it cannot start.
    """
    from .common import fail

    options = {"project": project, "domain": domain, "config": config}
    out, schedule = out_and_schedule(words)
    project = project_or_exit(out, flyte2=True)
    try:
        plan = project.schedule(schedule)
    except OperateError as exc:
        fail(exc)
    at = at or last_kickoff(plan)
    if project.target == "flyte2":  # the trigger's task in the flyte SDK's local mode (operate/flyte2_local.py)
        from . import flyte2_local

        return flyte2_local.run_local(project, plan, at, as_json, config, options["project"], options["domain"])
    runner = LocalRunner(project, plan, options)
    try:
        runner.prepare()
        outcome = runner.run(at)
    except OperateError as exc:
        fail(exc)
    if as_json:
        dump_json(outcome.json())
    elif outcome.ok:
        click.echo(f"{plan.name} at {iso(at)} ({plan.kind}, {plan.workflow}, locally)")
        for line in outcome.lines():
            click.echo(f"  {line}")
    if not outcome.ok:
        click.echo(
            f"error: {plan.name} at {iso(at)} failed: {visible(str(outcome.error))}"
            f"{model_hint(plan, str(outcome.error))}",
            err=True,
        )
        sys.exit(1)


def model_hint(schedule: Schedule, error: str) -> str:
    """What to do when a run of a model-version schedule failed looking its model up: NOT_FOUND (the generated
    ModelVersionNotFound) names another place to look; not reaching flyteadmin names the configuration."""
    source = schedule.model_source
    if source is None or source.kind != "version":
        return ""
    if error.startswith("ModelVersionNotFound:"):
        return (
            "; pass the -p/--project and -d/--domain the training ran in (FLYTE_DEFAULT_PROJECT, FLYTE_DEFAULT_DOMAIN)"
        )
    if not error.startswith(("ModelVersionUnavailable:", "ModelVersionUnreadable:")):
        return ""
    return (
        f"; the model of this schedule is a training execution's (model_version={source.version!r}), which even a "
        "local run fetches from flyteadmin with flytekit's configuration (-c/--config, FLYTECTL_CONFIG, "
        "~/.flyte/config.yaml)"
    )


def last_kickoff(schedule: Schedule) -> dt.datetime:
    """The schedule's last kickoff at or before now (a fixed rate: now, to the second)."""
    from .kickoffs import kickoffs_between, rate

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if rate(schedule) is not None:
        return now
    for days in (1 / 24, 1, 32, 367, 5 * 366):  # the smallest window that holds one: few times to list
        found = kickoffs_between(schedule, now - dt.timedelta(days=days), now, limit=10**6)
        if found:
            return found[-1]
    return now


def jsonable(value: Any) -> Any:
    """A run's output as JSON can hold it: numbers, lists, dicts; data frames as records; else its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a pandas DataFrame
        return jsonable(value.to_dict(orient="records"))
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series
        return jsonable(value.tolist())
    return repr(value)


def _output_lines(outputs: dict[str, Any]) -> list[str]:
    if "metrics" in outputs:
        metrics = ", ".join(f"{key} {value}" for key, value in outputs["metrics"].items())
        return [
            f"model            {outputs['model_object']}",
            f"hyperparameters  {outputs['hyperparameters']}",
            f"metrics          {metrics}",
        ]
    predictions = outputs["predictions"]
    if isinstance(predictions, list):
        shown = ", ".join(str(p) for p in predictions[:PREVIEW_ITEMS])
        more = f", ... ({len(predictions) - PREVIEW_ITEMS} more; --json prints all)" if len(predictions) > 20 else ""
        return [f"predictions      {len(predictions)}: [{shown}{more}]"]
    return [f"predictions      {predictions}"]


def _summary(exc: BaseException) -> str:
    """The error of a run as its own code raised it: of the chain of exceptions (flytekit wraps the user's),
    the innermost one raised outside installed packages (the generated project, the app's code), else the
    outermost; with the last line of that code it went through."""
    chain, seen = [exc], {id(exc)}
    while True:  # the causes and contexts Python would show (`raise ... from None` shows neither)
        inner = chain[-1].__cause__ or (None if chain[-1].__suppress_context__ else chain[-1].__context__)
        if inner is None or id(inner) in seen:
            break
        chain.append(inner)
        seen.add(id(inner))

    def own_frames(error: BaseException):
        return [f for f in traceback.extract_tb(error.__traceback__) if _own(f.filename)]

    def raised_by_own_code(error: BaseException) -> bool:
        frames = traceback.extract_tb(error.__traceback__)
        return bool(frames) and _own(frames[-1].filename)

    root = next((error for error in reversed(chain) if raised_by_own_code(error)), chain[0])
    frames = own_frames(root)
    where = f" ({frames[-1].filename}:{frames[-1].lineno}, in {frames[-1].name})" if frames else ""
    lines = [line.strip() for line in str(root).splitlines() if line.strip()]
    return f"{type(root).__name__}: {lines[-1] if lines else ''}{where}"


def _own(filename: str) -> bool:
    """Whether a frame is the user's code (the generated project, the app's), not Python's or an installed package's."""
    import os
    import sysconfig

    if "site-packages" in filename or "dist-packages" in filename or filename.startswith("<"):
        return False
    path = os.path.realpath(filename)
    paths = sysconfig.get_paths()
    return not any(path.startswith(os.path.realpath(paths[key]) + os.sep) for key in ("stdlib", "platstdlib"))


def _regenerate(project: Project) -> str:
    return f"regenerate it with `unionml generate` (or `unionml generate APP.py -o {project.directory}`)"
