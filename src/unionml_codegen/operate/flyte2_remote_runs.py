"""The flyte2 driver's operations on runs (flyte2_remote.py loads this file by its path): the runs a trigger
started, the succeeded runs of the training tasks, the outputs of a run, the state of each trigger with its
last run, and a trigger's task run in the SDK's local mode. Runs in the flyte 2.x SDK's interpreter only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import importlib.util
from pathlib import Path

import unionml_flyte2_sdk as sdk


def runs(request: dict) -> dict:
    """The newest `limit` runs trigger `trigger` of task `task` started, and whether there are more; each with
    its kickoff (its `kickoff_input`'s value), phase, times, version, and a failed run's error."""
    sdk.init(request)
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
        row = {"run": action.id.run.name, "kickoff": sdk.kickoff_of(run, kickoff_input), "phase": phase,
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


def model_versions(request: dict) -> dict:
    """The newest `limit` SUCCEEDED runs of the training tasks (`tasks`: each with the input its kickoff time is
    in), of task version `app_version` when given, and whether there are more (`Run.listall`)."""
    from flyte.remote import Run

    sdk.init(request)
    limit, rows = request["limit"], []
    for task, kickoff_input in request["tasks"]:
        for run in Run.listall(in_phase=("succeeded",), task_name=task, task_version=request.get("app_version"),
                               sort_by=("created_at", "desc"), limit=limit + 1):  # fmt: skip
            action = run.pb2.action
            rows.append({"model_version": action.id.run.name, "launch_plan": action.metadata.task.id.name,
                         "app_version": action.metadata.task.id.version, "kickoff": sdk.kickoff_of(run, kickoff_input),
                         "created_at": sdk.time_of(action.status, "start_time")})  # fmt: skip
    rows.sort(key=lambda row: (row["created_at"] or "", row["model_version"]), reverse=True)
    return {"versions": rows[:limit], "more": len(rows) > limit}


def _seconds(rate) -> int | None:
    """A FixedRate's interval in seconds (None for a unit this SDK does not name)."""
    from flyteidl2.task import common_pb2

    unit = common_pb2.FixedRateUnit.Name(rate.unit).removeprefix("FIXED_RATE_UNIT_")
    size = {"MINUTE": 60, "HOUR": 3600, "DAY": 86400}.get(unit)
    return rate.value * size if size else None


def states(request: dict) -> dict:
    """Each (trigger, task, kickoff input)'s state: deployed or not, active, its task version, its schedule as
    the control plane stores it, its times (deployed, updated, last triggered) and its last run."""
    from flyte.remote import TriggerDetails

    sdk.init(request)
    found = []
    for name, task_name, kickoff_input in request["targets"]:
        try:
            details = TriggerDetails.get(name=name, task_name=task_name)
        except Exception as exc:
            if not sdk.absent(exc):
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
            "start_time": sdk.time_of(schedule.rate, "start_time") if kind == "rate" else None,
            "deployed_at": sdk.time_of(status, "deployed_at"), "updated_at": sdk.time_of(status, "updated_at"),
            "triggered_at": sdk.time_of(status, "triggered_at"), "last_run": last[0] if last else None,
        })  # fmt: skip
    return {"states": found}


def fetch(request: dict) -> dict:
    """The outputs of run `run`, a SUCCEEDED run of one of `tasks`: the model written to `model_file` (unionml's
    saver) with the metrics and hyperparameters, or the predictions as JSON and as text."""
    from flyte.remote import Run

    tasks = sdk.tasks_module(request)
    sdk.init(request)
    run = Run.get(request["run"])
    action = run.pb2.action
    task_name, version = action.metadata.task.id.name, action.metadata.task.id.version
    if task_name not in request["tasks"]:
        raise sdk.Refused("usable", f"run {request['run']} ran {task_name or 'no task'}", task=task_name)
    if run.phase.upper() != "SUCCEEDED":
        raise sdk.Refused("phase", f"run {request['run']} is {run.phase.upper()}", phase=run.phase.upper())
    types = dict(sdk.task_named(tasks, task_name).native_interface.outputs)
    outputs = run.typed_outputs(types)
    summary = {"run": request["run"], "task": task_name, "version": version}
    if request["kind"] == "training":
        model, hyperparameters, metrics = (outputs[name] for name in ("model_object", "hyperparameters", "metrics"))
        saver = _load_saver()
        flavour = saver.save_model(model, hyperparameters, Path(request["model_file"]))
        model_type = f"{type(model).__module__}.{type(model).__qualname__}"
        if flavour is None:
            raise sdk.Refused("save", f"cannot save a model of type {model_type} as unionml's default saver")
        return {**summary, "flavour": flavour, "model_type": model_type, "model_class": type(model).__qualname__,
                "hyperparameters": hyperparameters, "metrics": sdk.ordered_metrics(sdk.plain(metrics))}  # fmt: skip
    [predictions] = outputs.values()
    return {**summary, "count": len(predictions) if hasattr(predictions, "__len__") else 1,
            "text": predictions.to_string() if hasattr(predictions, "to_string") else None,
            "predictions": sdk.plain(predictions)}  # fmt: skip


def _load_saver():
    path = Path(__file__).with_name("unionml_saver.py")
    spec = importlib.util.spec_from_file_location("unionml_saver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_local(request: dict) -> dict:
    """The task of trigger `trigger` (an attribute of PACKAGE.triggers) run in the SDK's local mode with the
    trigger's inputs at fire time `at` (the project's own `trigger_inputs.run_inputs`); a model-version schedule
    looks its training run up on the control plane, so the SDK is initialized first."""
    import flyte

    tasks = sdk.tasks_module(request)
    package = request["package"]
    triggers = importlib.import_module(f"{package}.triggers")
    trigger_inputs = importlib.import_module(f"{package}.trigger_inputs")
    task = sdk.task_named(tasks, request["task"])
    inputs = trigger_inputs.run_inputs(getattr(triggers, request["trigger"]), dt.datetime.fromisoformat(request["at"]))
    if request.get("remote_model"):
        sdk.init(request)
    try:
        outputs = flyte.with_runcontext(mode="local").run(task, **inputs).outputs()
    except Exception as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return {"ok": False, "error": f"{type(exc).__name__}: {lines[-1] if lines else ''}"}
    if request["kind"] == "training":
        model, hyperparameters, metrics = outputs
        return {"ok": True, "outputs": {"model_object": type(model).__name__, "hyperparameters": sdk.plain(hyperparameters),
                                        "metrics": sdk.ordered_metrics(sdk.plain(metrics))}}  # fmt: skip
    predictions = outputs[0] if isinstance(outputs, tuple) else outputs
    return {"ok": True, "outputs": {"predictions": sdk.plain(predictions)}}
