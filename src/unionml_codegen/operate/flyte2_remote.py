"""The part of the flyte2 operate commands that runs in the flyte 2.x SDK's interpreter.

`operate/flyte2.py` runs this file by its path with that interpreter (never imported by unionml-codegen,
which runs beside flytekit; this file imports nothing of unionml-codegen but `unionml_saver.py`, loaded
by its path): a request as one JSON object on stdin, the answer as one JSON line on stdout,
`{"result": ...}` or `{"error": {...}}`. Whatever the SDK prints goes to stderr.

Every call to the control plane is the SDK's own: `flyte.init_from_config` (the config file, project and
domain the command was given), `flyte.deploy` of the project's environment, `flyte.remote.TriggerDetails`
and `Trigger.update`, `flyte.remote.Run` (its details, inputs and outputs), and, for the runs a trigger
started (which `Run.listall` does not filter by), the SDK client's `run_service.list_runs` scoped by the
trigger's name.
"""

from __future__ import annotations

import os
import sys

# run as a script, this file's directory is first on sys.path: its neighbours (project.py, remote.py, ...) must
# not stand in for modules of the same names the SDK or the project imports
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.realpath(entry or os.curdir) != HERE]

import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


class Refused(Exception):
    """What the command cannot do with what it found: `kind` names it for the caller's message."""

    def __init__(self, kind: str, message: str, **details: Any):
        super().__init__(message)
        self.kind, self.details = kind, details


def _init(request: dict) -> None:
    import flyte

    directory = Path(request["directory"]).resolve()
    flyte.init_from_config(request.get("config"), root_dir=directory, project=request["project"],
                           domain=request["domain"])  # fmt: skip


def _tasks_module(request: dict):
    directory = str(Path(request["directory"]).resolve())
    sys.path.insert(0, directory)
    try:
        return importlib.import_module(f"{request['package']}.tasks")
    except Exception as exc:
        raise Refused("load", f"cannot load {request['package']}.tasks: {type(exc).__name__}: {exc}") from None


def _environments(tasks) -> list:
    return [tasks.env, *tasks.env.depends_on]


def _task(tasks, name: str):
    for env in _environments(tasks):
        for task in env.tasks.values():
            if task.name == name:
                return task
    raise Refused("load", f"the project has no task {name}")


# deploy

#: The annotation deploy puts on every trigger it deploys (the package's name; Kubernetes annotations of the runs
#: the trigger starts): prune-schedules switches off only triggers whose copy on the control plane carries it.
MARK = "unionml-codegen/package"


def deploy(request: dict) -> dict:
    """`flyte.deploy` of the drivers' environment (it brings the work environment) at `version`, each trigger
    active as `active` names it; then each trigger read back and switched where it is not (a task of this
    version deployed before keeps the triggers it had: the SDK skips ALREADY_EXISTS)."""
    import flyte
    from flyte.remote import Trigger, TriggerDetails

    tasks = _tasks_module(request)
    wanted = set(request["active"])
    mark = {MARK: request["package"]}
    for env in _environments(tasks):
        for task in env.tasks.values():
            if task.triggers:
                task.triggers = tuple(
                    dataclasses.replace(
                        t, auto_activate=t.name in wanted, annotations={**(t.annotations or {}), **mark}
                    )
                    for t in task.triggers
                )
    _init(request)
    deployments = flyte.deploy(tasks.env, version=request["version"])
    deployed = sorted(entity.deployed_task.task_template.id.name for deployment in deployments
                      for env in deployment.envs.values() for entity in env.deployed_entities)  # fmt: skip
    triggers = []
    for name, task_name in request["triggers"]:
        details = TriggerDetails.get(name=name, task_name=task_name)
        active = name in wanted
        if details.is_active != active:
            Trigger.update(name, task_name, active)
            details = TriggerDetails.get(name=name, task_name=task_name)
        triggers.append({"name": name, "task": task_name, "active": details.is_active,
                         "version": details.pb2.spec.task_version})  # fmt: skip
    return {"tasks": deployed, "triggers": triggers}


# activate-schedules / deactivate-schedules


def switch(request: dict) -> dict:
    """Switch each (trigger, task) to `active`, in order; stops at the first that cannot be switched, returning
    what was switched before it and the error."""
    from flyte.remote import Trigger, TriggerDetails

    _init(request)
    done = []
    for name, task_name in request["targets"]:
        try:
            details = TriggerDetails.get(name=name, task_name=task_name)
            version = details.pb2.spec.task_version
            if request.get("version") and request["version"] != version:
                raise Refused("version", f"trigger {name} runs version {version}, not {request['version']}",
                              name=name, deployed=version)  # fmt: skip
            before = details.is_active
            if before != request["active"]:
                Trigger.update(name, task_name, request["active"])
                details = TriggerDetails.get(name=name, task_name=task_name)
        except Exception as exc:
            found = _error(exc, name)
            if _absent(exc):
                found = {**found, "kind": "absent"}
            return {"switched": done, "error": found}
        done.append({"name": name, "was_active": before, "active": details.is_active, "version": version})
    return {"switched": done, "error": None}


# prune-schedules


def stale(request: dict) -> dict:
    """The ACTIVE triggers deploy deployed for this package (MARK on the control plane's copy, on a task of the
    package's environments, `prefixes`) that are not among its schedules now (`current`)."""
    from flyte.remote import Trigger, TriggerDetails

    _init(request)
    found = []
    for trigger in Trigger.listall():
        if not trigger.task_name.startswith(tuple(request["prefixes"])) or not trigger.is_active:
            continue
        if trigger.name in request["current"]:
            continue
        details = TriggerDetails.get(name=trigger.name, task_name=trigger.task_name)
        if dict(details.pb2.spec.run_spec.annotations.values).get(MARK) != request["package"]:
            continue
        found.append({"name": trigger.name, "task": trigger.task_name, "version": details.pb2.spec.task_version})
    return {"stale": sorted(found, key=lambda t: (t["name"], t["task"]))}


# list-scheduled-*-runs


def runs(request: dict) -> dict:
    """The newest `limit` runs trigger `trigger` of task `task` started, and whether there are more; each with
    its kickoff (its `kickoff_input`'s value), phase, times, version, and a failed run's error."""
    _init(request)
    return _trigger_runs(request["trigger"], request["task"], request["limit"], request.get("kickoff_input"))


def _trigger_runs(trigger: str, task: str, limit: int, kickoff_input: str | None) -> dict:
    from flyte._initialize import get_client, get_init_config
    from flyte.remote import Run
    from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
    from flyteidl2.workflow import run_definition_pb2, run_service_pb2

    cfg = get_init_config()
    name = identifier_pb2.TriggerName(org=cfg.org, project=cfg.project, domain=cfg.domain, name=trigger,
                                      task_name=task)  # fmt: skip
    found, token = [], ""

    async def page(token: str, size: int):
        return await get_client().run_service.list_runs(
            run_service_pb2.ListRunsRequest(
                trigger_name=name,
                request=list_pb2.ListRequest(limit=size, token=token,
                                             sort_by=list_pb2.Sort(key="created_at", direction=list_pb2.Sort.DESCENDING)),
            )
        )  # fmt: skip

    while True:
        answer = asyncio.run(page(token, min(100, limit + 1 - len(found))))
        found.extend(answer.runs)
        token = answer.token
        if not token or len(found) > limit:
            break
    rows = []
    for message in found[:limit]:
        action = message.action
        run = Run(pb2=message)
        status = action.status
        started = status.start_time.ToDatetime(dt.timezone.utc) if status.HasField("start_time") else None
        ended = status.end_time.ToDatetime(dt.timezone.utc) if status.HasField("end_time") else None
        phase = phase_pb2.ActionPhase.Name(status.phase).removeprefix("ACTION_PHASE_")
        row = {"run": action.id.run.name, "kickoff": _kickoff(run, kickoff_input), "phase": phase,
               "duration": (ended - started).total_seconds() if started and ended else None,
               "version": action.metadata.task.id.version,
               "started_by": "trigger" if action.metadata.source == run_definition_pb2.RUN_SOURCE_SCHEDULE_TRIGGER
               else "manual", "created_at": started.isoformat() if started else None,
               "error": None, "error_code": None, "failed_node": None, "failed_task": None}  # fmt: skip
        if phase in ("FAILED", "TIMED_OUT"):
            info = run.details().pb2.action.error_info
            row.update(error=info.message or None, error_code=run_definition_pb2.ErrorInfo.Kind.Name(info.kind),
                       failed_node=action.id.name, failed_task=action.metadata.task.id.name)  # fmt: skip
        rows.append(row)
    return {"runs": rows, "more": len(found) > limit}


def _kickoff(run, kickoff_input: str | None) -> str | None:
    if not kickoff_input:
        return None
    literal = run.input_literals().get(kickoff_input)
    if literal is None or not literal.HasField("scalar"):
        return None
    return literal.scalar.primitive.datetime.ToDatetime(dt.timezone.utc).isoformat()


# schedules --remote


def _seconds(rate) -> int | None:
    """A FixedRate's interval in seconds (None for a unit this SDK does not name)."""
    from flyteidl2.task import common_pb2

    unit = common_pb2.FixedRateUnit.Name(rate.unit).removeprefix("FIXED_RATE_UNIT_")
    size = {"MINUTE": 60, "HOUR": 3600, "DAY": 86400}.get(unit)
    return rate.value * size if size else None


def _time(message, field: str) -> str | None:
    return getattr(message, field).ToDatetime(dt.timezone.utc).isoformat() if message.HasField(field) else None


def states(request: dict) -> dict:
    """Each (trigger, task, kickoff input)'s state: deployed or not, active, its task version, its schedule as
    the control plane stores it, its times (deployed, updated, last triggered) and its last run."""
    from flyte.remote import TriggerDetails

    _init(request)
    found = []
    for name, task_name, kickoff_input in request["targets"]:
        try:
            details = TriggerDetails.get(name=name, task_name=task_name)
        except Exception as exc:
            if not _absent(exc):
                raise
            found.append({"name": name, "deployed": False})
            continue
        schedule, status = details.pb2.automation_spec.schedule, details.pb2.status
        kind = schedule.WhichOneof("expression")
        last = _trigger_runs(name, task_name, 1, kickoff_input)["runs"]
        found.append({
            "name": name, "deployed": True, "active": details.is_active, "version": details.pb2.spec.task_version,
            "cron": schedule.cron.expression if kind == "cron" else schedule.cron_expression or None,
            "timezone": (schedule.cron.timezone or "UTC") if kind == "cron" else None,
            "rate_seconds": _seconds(schedule.rate) if kind == "rate" else None,
            "start_time": _time(schedule.rate, "start_time") if kind == "rate" else None,
            "deployed_at": _time(status, "deployed_at"), "updated_at": _time(status, "updated_at"),
            "triggered_at": _time(status, "triggered_at"), "last_run": last[0] if last else None,
        })  # fmt: skip
    return {"states": found}


# fetch-model / fetch-predictions


def fetch(request: dict) -> dict:
    """The outputs of run `run`, a SUCCEEDED run of one of `tasks`: the model written to `model_file` (unionml's
    saver) with the metrics and hyperparameters, or the predictions as JSON and as text."""
    from flyte.remote import Run

    tasks = _tasks_module(request)
    _init(request)
    run = Run.get(request["run"])
    action = run.pb2.action
    task_name, version = action.metadata.task.id.name, action.metadata.task.id.version
    if task_name not in request["tasks"]:
        raise Refused("usable", f"run {request['run']} ran {task_name or 'no task'}", task=task_name)
    if run.phase.upper() != "SUCCEEDED":
        raise Refused("phase", f"run {request['run']} is {run.phase.upper()}", phase=run.phase.upper())
    types = dict(_task(tasks, task_name).native_interface.outputs)
    outputs = run.typed_outputs(types)
    summary = {"run": request["run"], "task": task_name, "version": version}
    if request["kind"] == "training":
        model, hyperparameters, metrics = (outputs[name] for name in ("model_object", "hyperparameters", "metrics"))
        saver = _load_saver()
        flavour = saver.save_model(model, hyperparameters, Path(request["model_file"]))
        model_type = f"{type(model).__module__}.{type(model).__qualname__}"
        if flavour is None:
            raise Refused("save", f"cannot save a model of type {model_type} as unionml's default saver")
        return {**summary, "flavour": flavour, "model_type": model_type, "model_class": type(model).__qualname__,
                "hyperparameters": hyperparameters, "metrics": _metrics(_plain(metrics))}  # fmt: skip
    [predictions] = outputs.values()
    return {**summary, "count": len(predictions) if hasattr(predictions, "__len__") else 1,
            "text": predictions.to_string() if hasattr(predictions, "to_string") else None,
            "predictions": _plain(predictions)}  # fmt: skip


def _metrics(metrics: dict) -> dict:
    """The metrics in unionml's order, train then test: a dict output comes back as a protobuf Struct, whose
    fields are a map (no order)."""
    first = [key for key in ("train", "test") if key in metrics]
    return {key: metrics[key] for key in first + sorted(set(metrics) - set(first))}


def _load_saver():
    path = Path(__file__).with_name("unionml_saver.py")
    spec = importlib.util.spec_from_file_location("unionml_saver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return value.to_dict(orient="records")
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


# run (locally)


def run_local(request: dict) -> dict:
    """The task of trigger `trigger` (an attribute of PACKAGE.triggers) run in the SDK's local mode with the
    trigger's inputs at fire time `at` (the project's own `trigger_inputs.run_inputs`); a model-version schedule
    looks its training run up on the control plane, so the SDK is initialized first."""
    import flyte

    tasks = _tasks_module(request)
    package = request["package"]
    triggers = importlib.import_module(f"{package}.triggers")
    trigger_inputs = importlib.import_module(f"{package}.trigger_inputs")
    task = _task(tasks, request["task"])
    inputs = trigger_inputs.run_inputs(getattr(triggers, request["trigger"]), dt.datetime.fromisoformat(request["at"]))
    if request.get("remote_model"):
        _init(request)
    try:
        outputs = flyte.with_runcontext(mode="local").run(task, **inputs).outputs()
    except Exception as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return {"ok": False, "error": f"{type(exc).__name__}: {lines[-1] if lines else ''}"}
    if request["kind"] == "training":
        model, hyperparameters, metrics = outputs
        return {"ok": True, "outputs": {"model_object": type(model).__name__, "hyperparameters": _plain(hyperparameters),
                                        "metrics": _metrics(_plain(metrics))}}  # fmt: skip
    predictions = outputs[0] if isinstance(outputs, tuple) else outputs
    return {"ok": True, "outputs": {"predictions": _plain(predictions)}}


# the protocol


def _error(exc: BaseException, subject: str | None = None) -> dict:
    """An error as the caller words it: a refusal, the control plane's answer (its Connect code), or another."""
    if isinstance(exc, Refused):
        return {"kind": exc.kind, "message": str(exc), "subject": subject, **exc.details}
    from connectrpc.errors import ConnectError

    seen, current = set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectError):
            return {"kind": "rpc", "code": current.code.name, "message": current.message, "subject": subject}
        current = current.__cause__ or current.__context__
    return {"kind": "error", "message": f"{type(exc).__name__}: {exc}", "subject": subject}


def _absent(exc: BaseException) -> bool:
    """Whether a GetTriggerDetails error says there is no such trigger: NOT_FOUND, or the INTERNAL "trigger not
    found: ..." the open-source backend answers (runs/service/trigger_service.go checks for sql.ErrNoRows, which
    runs/repository/impl/trigger.go GetTrigger does not wrap)."""
    found = _error(exc)
    if found["kind"] != "rpc":
        return False
    return found["code"] == "NOT_FOUND" or (found["code"] == "INTERNAL" and "trigger not found" in found["message"])


OPERATIONS = {
    "deploy": deploy,
    "switch": switch,
    "stale": stale,
    "runs": runs,
    "states": states,
    "fetch": fetch,
    "run_local": run_local,
}


def main() -> None:
    request = json.load(sys.stdin)
    answer_to = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what the SDK prints goes to stderr: stdout carries the answer only
    sys.stdout = sys.stderr
    sys.dont_write_bytecode = True  # leave no __pycache__ in the generated project
    try:
        import flyte  # noqa: F401
    except ImportError as exc:
        answer_to.write(json.dumps({"error": {"kind": "sdk", "message": f"{type(exc).__name__}: {exc}"}}) + "\n")
        return
    try:
        answer = {"result": OPERATIONS[request["op"]](request)}
    except Exception as exc:
        answer = {"error": _error(exc)}
    answer_to.write(json.dumps(answer, default=str) + "\n")
    answer_to.flush()


if __name__ == "__main__":
    main()
