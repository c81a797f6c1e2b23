"""`unionml list-scheduled-training-runs`, `list-scheduled-prediction-runs`, `list-model-versions`,
`fetch-model`, `fetch-predictions`: what the schedules ran on the cluster, and their results.

Executions are read from flyteadmin with flytekit's client, filtered as unionml does (by launch
plan name, newest first by creation). The kickoff time of a run is its `scheduled_at` (every run
the native scheduler starts has one); a run started by hand or by `backfill --remote` shows the
kickoff input it was given. Results are decoded with flytekit's type engine against the types of
the generated project's own workflows, so these two fetch commands import the project's package
(its requirements must be installed, as for `pyflyte register`).

One job, the list and fetch commands over flyteadmin's executions; their filters, paging and
decoding are shared among them, and their printers (`print_runs`, `print_model`, `print_predictions`,
`print_model_versions`) also print a flyte2 project's answers (operate/flyte2.py), so both targets say
the same: that is why it stays one module past 400 lines.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .. import codes
from .common import dump_json, fail, iso, out_and_schedule, project_or_exit
from .project import OperateError, Project, visible
from .remote import Cluster, admin_errors, cluster_options, connect, utc
from .unionml_saver import save_model

SUCCEEDED, FAILED, TIMED_OUT = 4, 6, 9  # flyteidl core.WorkflowExecution.Phase
NODE_FAILED, NODE_TIMED_OUT = 5, 8  # flyteidl core.NodeExecution.Phase
ERROR_WIDTH = 240  # characters of an error message a list shows


def _phase(value: int) -> str:
    from flytekit.models.core.execution import WorkflowExecutionPhase

    return WorkflowExecutionPhase.enum_to_string(value)


def _duration(execution) -> dt.timedelta | None:
    closure = execution.closure
    if utc(closure.started_at) is None:
        return None
    return closure.duration


def _kickoff(cluster: Cluster, execution, kickoff_input: str | None) -> dt.datetime | None:
    """scheduled_at, else the kickoff input the run was given (ListExecutions returns no inputs)."""
    scheduled = utc(execution.spec.metadata.scheduled_at)
    if scheduled is not None or not kickoff_input:
        return scheduled
    data = cluster.client.get_execution_data(execution.id)
    literal = data.full_inputs.literals.get(kickoff_input)
    if literal is None or literal.scalar is None:
        return None
    if literal.scalar.union is not None:  # Optional[datetime]
        literal = literal.scalar.union.value
    primitive = literal.scalar.primitive if literal.scalar is not None else None
    return utc(primitive.datetime) if primitive is not None else None


def one_line(text: str | None, width: int = ERROR_WIDTH) -> str | None:
    """A server's error message as one line: the exception line of a Python traceback (flytekit's user errors
    are `Traceback ...`, then `Message:`, the error, and `User error.`), else the first line; control characters
    escaped, cut at `width`."""
    if not text or not text.strip():
        return None
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    chosen = lines[0]
    if "Message:" in lines:
        after = lines[lines.index("Message:") + 1 :]
        chosen = after[0] if after else chosen
    elif any(line.startswith("Traceback (most recent call last)") for line in lines):
        exceptions = [line for line in lines if not line.startswith(("File ", "Traceback", "^", "~"))
                      and ": " in line and line.split(":", 1)[0].replace(".", "").isidentifier()]  # fmt: skip
        chosen = exceptions[-1] if exceptions else lines[-1]
    shown = visible(chosen)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _failure(cluster: Cluster, execution, workflows: dict) -> dict | None:
    """For a FAILED (or TIMED_OUT) execution: its error (one line), error code and the node that failed (its id,
    and the task it runs when the workflow says), read from flyteadmin (GetExecution, ListNodeExecutions);
    None otherwise."""
    if execution.closure.phase not in (FAILED, TIMED_OUT):
        return None
    # ListExecutions trims an error message to its first 100 bytes (flyteadmin's TrimErrorMessage): the whole
    # message is GetExecution's
    error = cluster.client.get_execution(execution.id).closure.error
    record = {"error": one_line(error.message) if error is not None else None,
              "error_code": (error.code or None) if error is not None else None,
              "failed_node": None, "failed_task": None}  # fmt: skip
    token = ""
    while True:
        nodes, token = cluster.client.list_node_executions(execution.id, limit=PAGE, token=token)
        failed = [n for n in nodes if n.closure.phase in (NODE_FAILED, NODE_TIMED_OUT)]
        if failed:
            node = min(
                failed, key=lambda n: utc(n.closure.created_at) or dt.datetime.max.replace(tzinfo=dt.timezone.utc)
            )
            record["failed_node"] = node.id.node_id
            record["failed_task"] = _task_of(cluster, execution, node.id.node_id, workflows)
            if record["error"] is None and node.closure.error is not None:
                record["error"] = one_line(node.closure.error.message)
            return record
        if not token:
            return record


def _task_of(cluster: Cluster, execution, node_id: str, workflows: dict) -> str | None:
    """The task a node of the execution's workflow runs (its launch plan's workflow: one GetLaunchPlan and one
    GetWorkflow per launch plan version listed)."""
    plan = execution.spec.launch_plan
    key = (plan.project, plan.domain, plan.name, plan.version)
    if key not in workflows:
        ident = cluster.client.get_launch_plan(plan).spec.workflow_id
        template = cluster.client.get_workflow(ident).closure.compiled_workflow.primary.template
        workflows[key] = {node.id: node.task_node.reference_id.name for node in template.nodes
                          if node.task_node is not None}  # fmt: skip
    return workflows[key].get(node_id)


def _mode(execution) -> str:
    return "schedule" if execution.spec.metadata.mode == 1 else "manual"


PAGE = 100  # rows per ListExecutions call


def _executions(cluster: Cluster, filters: list, limit: int) -> tuple[list, bool]:
    """The newest `limit` executions matching `filters`, and whether there are more. Read page by page (at most
    PAGE rows a call) and only as far as needed: `limit` rows and one more, to know. Always sorted (newest first,
    by creation): flyteadmin has no default ORDER BY, so pages of an unsorted list can repeat and skip rows."""
    from flytekit.models.admin.common import Sort

    rows: list = []
    token = ""
    while True:
        page, token = cluster.client.list_executions_paginated(
            cluster.project, cluster.domain, limit=min(PAGE, limit + 1 - len(rows)), token=token, filters=filters,
            sort_by=Sort("created_at", Sort.Direction.DESCENDING),
        )  # fmt: skip
        rows.extend(page)
        if not token or len(rows) > limit:
            return rows[:limit], len(rows) > limit


def _more(shown: int, what: str) -> None:
    """Say on stderr (stdout stays one table or one JSON document) that --limit cut the list."""
    click.echo(f"note: showing the newest {shown} {what}; there are more: pass a larger --limit (up to 10000)",
               err=True)  # fmt: skip


def _table(rows: list[dict[str, str]], columns: list[tuple[str, str]]) -> None:
    """Rows of text from flyteadmin, each cell on one line with its control characters escaped (an
    execution name holding ESC or a newline must neither drive the terminal nor forge a CI annotation)."""
    rows = [{key: visible(str(value)) for key, value in row.items()} for row in rows]
    widths = {key: max([len(title)] + [len(row[key]) for row in rows]) for key, title in columns}
    click.echo("  ".join(title.ljust(widths[key]) for key, title in columns).rstrip())
    for row in rows:
        click.echo("  ".join(row[key].ljust(widths[key]) for key, _ in columns).rstrip())


def _seconds(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def _text(value: dt.timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = value.total_seconds()
    return f"{seconds:.1f}s" if seconds < 60 else str(dt.timedelta(seconds=round(seconds)))


# --------------------------------------------------------------------------------------------------
# list-scheduled-training-runs / list-scheduled-prediction-runs


def _list_runs(out, schedule_name, limit, as_json, config, project, domain, kind: str) -> None:
    generated = project_or_exit(out, flyte2=True)
    command = f"list-scheduled-{kind}-runs"
    try:
        schedule = generated.schedule(schedule_name)
        if schedule.kind != kind:
            raise OperateError(f"{schedule_name!r} is a {schedule.kind} schedule",
                               f"use `unionml list-scheduled-{schedule.kind}-runs`", codes.UNKNOWN_SCHEDULE)  # fmt: skip
        if generated.target == "flyte2":
            from . import flyte2

            project, domain = flyte2.where(generated, project, domain)
            runs, more = flyte2.list_runs(generated, schedule, limit, config, project, domain, command)
            return print_runs(runs, more, as_json, schedule.name, project, domain)
        cluster = connect(config, project, domain, command, generated)
        project, domain = cluster.project, cluster.domain  # as namespace() chose them
        from flytekit.models import filters

        workflows: dict = {}
        with admin_errors(cluster):
            executions, more = _executions(cluster, [filters.Equal("launch_plan.name", schedule.name)], limit)
            runs = [
                {
                    "execution": e.id.name,
                    "kickoff": _kickoff(cluster, e, schedule.run_kickoff_input),
                    "phase": _phase(e.closure.phase),
                    "duration": _duration(e),
                    "version": e.spec.launch_plan.version,
                    "started_by": _mode(e),
                    "created_at": utc(e.closure.created_at),
                    **(_failure(cluster, e, workflows) or dict.fromkeys(FAILURE)),
                }
                for e in executions
            ]
    except OperateError as exc:
        fail(exc)
    print_runs(runs, more, as_json, schedule.name, project, domain)


def print_runs(runs: list[dict], more: bool, as_json: bool, schedule: str, project: str, domain: str) -> None:
    """The runs of a schedule as a table (or JSON): the same for a flyte1 and a flyte2 project."""
    if more:
        _more(len(runs), f"runs of {schedule}")
    if as_json:
        dump_json([{**run, "kickoff": run["kickoff"] and iso(run["kickoff"]), "duration": _seconds(run["duration"]),
                    "created_at": run["created_at"] and iso(run["created_at"])} for run in runs])  # fmt: skip
        return
    if not runs:
        click.echo(f"no runs of {schedule} in {project}/{domain}")
        return
    _table(
        [{"execution": r["execution"], "kickoff": iso(r["kickoff"]) if r["kickoff"] else "-", "phase": r["phase"],
          "duration": _text(r["duration"]), "version": r["version"], "started_by": r["started_by"]} for r in runs],
        [("execution", "EXECUTION"), ("kickoff", "KICKOFF (UTC)"), ("phase", "PHASE"), ("duration", "DURATION"),
         ("version", "VERSION"), ("started_by", "STARTED BY")],
    )  # fmt: skip
    failed = [r for r in runs if r["phase"] in ("FAILED", "TIMED_OUT")]
    if failed:
        click.echo("")
        for r in failed:  # under the table: one line a failed run, the node that failed and why
            where = f"node {r['failed_node']}" if r["failed_node"] else "no failed node reported"
            if r["failed_task"]:
                where += f" ({r['failed_task']})"
            click.echo(visible(f"{r['execution']} {r['phase']} at {where}: {r['error'] or 'no error message'}"))


FAILURE = ("error", "error_code", "failed_node", "failed_task")  # what a list says of a run that failed


def _runs_command(kind: str):
    @click.command(f"list-scheduled-{kind}-runs")
    @click.argument("words", nargs=-1, metavar="[OUT] SCHEDULE")
    @click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10000), help="At most this many.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @cluster_options
    def command(words, limit, as_json, config, project, domain) -> None:
        out, schedule = out_and_schedule(words)
        _list_runs(out, schedule, limit, as_json, config, project, domain, kind)

    command.help = (
        f"The executions of the {kind} schedule SCHEDULE of OUT, newest first: kickoff (scheduled) time, "
        "phase, duration, version; for a run that failed, the node that failed and its error (one line)."
    )
    return command


list_scheduled_training_runs = _runs_command("training")
list_scheduled_prediction_runs = _runs_command("prediction")


# --------------------------------------------------------------------------------------------------
# list-model-versions


@click.command("list-model-versions")
@click.argument("out", required=False, type=click.Path(file_okay=False))
@click.option("--app-version", default=None, help="Only models trained by this deployed version.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10000), help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@cluster_options
def list_model_versions(out, app_version, limit, as_json, config, project, domain) -> None:
    """Successful training executions of OUT (scheduled or not), newest first: usable as `model_version`."""
    generated = project_or_exit(out, flyte2=True)
    if generated.target == "flyte2":  # succeeded runs of the training tasks, through the flyte SDK
        from . import flyte2

        project, domain = flyte2.where(generated, project, domain)
        versions, more = flyte2.model_versions(generated, app_version, limit, config, project, domain)
        return print_model_versions(versions, more, as_json, generated.package, project, domain)
    plans = _training_plans(generated)
    try:
        cluster = connect(config, project, domain, "list-model-versions", generated)
        project, domain = cluster.project, cluster.domain  # as namespace() chose them
        from flytekit.models import filters

        conditions = [filters.ValueIn("launch_plan.name", plans), filters.Equal("phase", "SUCCEEDED")]
        if app_version:
            conditions.append(filters.Equal("launch_plan.version", app_version))
        with admin_errors(cluster):
            executions, more = _executions(cluster, conditions, limit)
            versions = [
                {
                    "model_version": e.id.name,
                    "launch_plan": e.spec.launch_plan.name,
                    "app_version": e.spec.launch_plan.version,
                    "kickoff": _kickoff(cluster, e, _kickoff_input(generated, e.spec.launch_plan.name)),
                    "created_at": utc(e.closure.created_at),
                }
                for e in executions
            ]
    except OperateError as exc:
        fail(exc)
    print_model_versions(versions, more, as_json, generated.package, project, domain)


def print_model_versions(versions: list[dict], more: bool, as_json: bool, package: str, project, domain) -> None:
    """The model versions as a table (or JSON): the same for a flyte1 and a flyte2 project."""
    if more:
        _more(len(versions), "model versions")
    if as_json:
        dump_json([{**v, "kickoff": v["kickoff"] and iso(v["kickoff"]), "created_at": v["created_at"] and iso(v["created_at"])}
                   for v in versions])  # fmt: skip
        return
    if not versions:
        click.echo(f"no successful training execution of {package} in {project}/{domain}")
        return
    _table(
        [{**v, "kickoff": iso(v["kickoff"]) if v["kickoff"] else "-", "created_at": iso(v["created_at"])}
         for v in versions],
        [("model_version", "MODEL VERSION"), ("launch_plan", "LAUNCH PLAN"), ("app_version", "APP VERSION"),
         ("kickoff", "KICKOFF (UTC)"), ("created_at", "CREATED (UTC)")],
    )  # fmt: skip


def _training_plans(generated: Project) -> list[str]:
    """Launch plans whose executions train a model: the training workflows' defaults and the training schedules."""
    names = [w for model in generated.models for w in model.training_workflows]
    return names + [s.name for s in generated.schedules if s.kind == "training"]


def _kickoff_input(generated: Project, launch_plan: str) -> str | None:
    for schedule in generated.schedules:
        if schedule.name == launch_plan:
            return schedule.run_kickoff_input
    return None


# --------------------------------------------------------------------------------------------------
# fetch-model / fetch-predictions


def _finished(cluster: Cluster, generated: Project, name: str, kind: str):
    """The execution `name`, succeeded, of one of the project's `kind` workflows, and that workflow's name."""
    execution = cluster.remote.fetch_execution(name=name)
    workflow = execution.flyte_workflow.id.name if execution.flyte_workflow is not None else ""
    wanted = {
        w for m in generated.models for w in (m.training_workflows if kind == "training" else m.prediction_workflows)
    }
    if workflow not in wanted:
        raise OperateError(
            f"execution {name} ran {workflow or 'no workflow'}, not a {kind} workflow of {generated.package}",
            f"`unionml list-scheduled-{kind}-runs` lists the {kind} runs",
            codes.EXECUTION_NOT_USABLE,
        )
    if execution.closure.phase != SUCCEEDED:
        raise OperateError(
            f"execution {name} is {_phase(execution.closure.phase)}: it has no outputs to fetch",
            "fetch a SUCCEEDED execution; `unionml list-scheduled-*-runs OUT SCHEDULE` shows why a run failed",
            codes.EXECUTION_NOT_USABLE,
        )
    return execution, workflow


def _workflow_outputs(generated: Project, workflow: str) -> dict[str, Any]:
    """The Python output types of one of the project's workflows, read from the generated package."""
    module_name, _, attribute = workflow.rpartition(".")
    root = str(generated.directory.resolve())
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # leave no __pycache__ in the generated project
    sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name)
        return dict(getattr(module, attribute).python_interface.outputs)
    except Exception as exc:
        raise OperateError(
            f"cannot load {workflow} from {generated.directory}: {type(exc).__name__}: {exc}",
            "install the project's requirements (requirements.txt) in this environment",
            codes.PROJECT_CANNOT_LOAD,
        ) from None
    finally:
        sys.dont_write_bytecode = previous
        if root in sys.path:
            sys.path.remove(root)


def save_like_unionml(model: Any, hyperparameters: dict, path: Path) -> str:
    """Write `model` as unionml 0.2.1's default saver does; returns the flavour written.

    The saver writes a temporary file beside `path`, renamed over it once complete: a failed write (a full
    disk, a parent that is a file) leaves no partial model, and whatever was at `path` stays as it was.
    Only a regular file (or nothing) at `path` is replaced, never a device such as /dev/full."""
    if os.path.lexists(path) and not (os.path.isfile(path) and not os.path.islink(path)):
        raise OperateError(f"{path} exists and is not a regular file", "give -o a file path to write the model to",
                           codes.CANNOT_SAVE_MODEL)  # fmt: skip
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise OperateError(f"cannot write {path}: {exc.strerror or exc}", "give -o a writable file path",
                           codes.CANNOT_SAVE_MODEL) from None  # fmt: skip
    try:
        flavour = _save(model, hyperparameters, Path(temporary))
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise OperateError(f"cannot write {path}: {exc.strerror or exc}", "nothing was written there",
                           codes.CANNOT_SAVE_MODEL) from None  # fmt: skip
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    return flavour


def _save(model: Any, hyperparameters: dict, path: Path) -> str:
    flavour = save_model(model, hyperparameters, path)
    if flavour is not None:
        return flavour
    raise OperateError(
        f"cannot save a model of type {type(model).__module__}.{type(model).__qualname__} as unionml's default saver",
        "unionml saves scikit-learn, PyTorch and Keras models; fetch the output with FlyteRemote and save it yourself",
        codes.CANNOT_SAVE_MODEL,
    )


@click.command("fetch-model")
@click.argument("words", nargs=-1, metavar="[OUT] EXECUTION")
@click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="File to write the model to."
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics and hyperparameters as JSON.")
@cluster_options
def fetch_model(words, output, as_json, config, project, domain) -> None:
    """Write the model a training EXECUTION of OUT trained to FILE (-o), as unionml's saver writes it.

    The file is what `model_file=` of a prediction schedule and unionml's `model.load` read.
    Prints the run's metrics and hyperparameters.
    """
    out, execution = _out_and_execution(words)
    generated = project_or_exit(out, flyte2=True)
    if generated.target == "flyte2":
        from . import flyte2

        summary, model_class, flavour = flyte2.fetch_model(generated, execution, Path(output), config, project,
                                                           domain)  # fmt: skip
        return print_model(summary, model_class, flavour, output, as_json)
    try:
        fetched = _fetch(generated, execution, "training", config, project, domain, "fetch-model")
        model, hyperparameters, metrics = (fetched.output(n) for n in ("model_object", "hyperparameters", "metrics"))
        flavour = save_like_unionml(model, hyperparameters, Path(output))
    except OperateError as exc:
        fail(exc)
    run = fetched.run
    summary = {
        "execution": execution,
        "launch_plan": run.spec.launch_plan.name,
        "app_version": run.spec.launch_plan.version,
        "file": str(output),
        "model_type": f"{type(model).__module__}.{type(model).__qualname__}",
        "hyperparameters": hyperparameters,
        "metrics": metrics,
    }
    print_model(summary, type(model).__qualname__, flavour, output, as_json)


def print_model(summary: dict, model_class: str, flavour: str, output, as_json: bool) -> None:
    """What fetch-model says of the model it wrote: the same for a flyte1 and a flyte2 project."""
    # a map literal comes back from the control plane in no set order: unionml's (train, then test), the rest sorted
    metrics = {key: summary["metrics"][key] for key in sorted(summary["metrics"], key=lambda k: (k != "train",
                                                                                              k != "test", k))}  # fmt: skip
    summary = {**summary, "metrics": metrics}
    execution, hyperparameters = summary["execution"], summary["hyperparameters"]
    if as_json:
        dump_json(summary)
        return
    click.echo(f"wrote {output}: {model_class} ({flavour}) trained by execution {execution} "
               f"({summary['launch_plan']}, version {summary['app_version']})")  # fmt: skip
    click.echo(f"hyperparameters: {json.dumps(hyperparameters, sort_keys=True, default=str)}")
    click.echo("metrics: " + ", ".join(f"{key} {value}" for key, value in metrics.items()))


@click.command("fetch-predictions")
@click.argument("words", nargs=-1, metavar="[OUT] EXECUTION")
@click.option("--json", "as_json", is_flag=True, help="Print the predictions as JSON.")
@cluster_options
def fetch_predictions(words, as_json, config, project, domain) -> None:
    """Print the predictions a prediction EXECUTION of OUT produced."""
    out, execution = _out_and_execution(words)
    generated = project_or_exit(out, flyte2=True)
    if generated.target == "flyte2":
        from . import flyte2

        fetched = flyte2.fetch_predictions(generated, execution, config, project, domain)
        return print_predictions(execution, fetched["task"], fetched["version"], fetched["count"],
                                 fetched["text"], fetched["predictions"], as_json)  # fmt: skip
    try:
        fetched = _fetch(generated, execution, "prediction", config, project, domain, "fetch-predictions")
        [output_name] = fetched.types
        predictions = fetched.output(output_name)
    except OperateError as exc:
        fail(exc)
    run = fetched.run
    count = len(predictions) if hasattr(predictions, "__len__") else 1
    text = predictions.to_string() if hasattr(predictions, "to_string") else None
    print_predictions(execution, run.spec.launch_plan.name, run.spec.launch_plan.version, count, text,
                      _jsonable(predictions), as_json)  # fmt: skip


def print_predictions(execution: str, plan: str, version: str, count: int, text: str | None, plain, as_json: bool):
    """What fetch-predictions prints: the same for a flyte1 and a flyte2 project."""
    if as_json:
        dump_json(plain)
        return
    click.echo(f"{count} predictions of execution {execution} ({plan}, version {version}):")
    click.echo(text if text is not None else json.dumps(plain))


@dataclass(frozen=True)
class _Fetched:
    """A finished execution of one of the project's workflows, and the Python types of its outputs."""

    execution: str
    run: Any  # flytekit's FlyteWorkflowExecution
    cluster: Cluster
    types: dict[str, Any]

    def output(self, name: str) -> Any:
        with admin_errors(self.cluster):
            return self.run.outputs.get(name, as_type=self.types[name])


def _fetch(generated: Project, execution: str, kind: str, config, project, domain, command: str) -> _Fetched:
    """EXECUTION of a `kind` ("training", "prediction") workflow of the project, finished; OperateError if not."""
    cluster = connect(config, project, domain, command, generated)
    with admin_errors(cluster):
        run, workflow = _finished(cluster, generated, execution, kind)
    return _Fetched(execution, run, cluster, _workflow_outputs(generated, workflow))


def _out_and_execution(words: tuple[str, ...]) -> tuple[str | None, str]:
    """`[OUT] EXECUTION`: the project directory may be left out (it is then found)."""
    if len(words) in (1, 2):
        return (None, words[0]) if len(words) == 1 else (words[0], words[1])
    raise click.UsageError(f"expected [OUT] EXECUTION, got {len(words)} argument{'s' if len(words) != 1 else ''}")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return value.to_dict(orient="records")
    if hasattr(value, "tolist"):  # numpy
        return value.tolist()
    return value
