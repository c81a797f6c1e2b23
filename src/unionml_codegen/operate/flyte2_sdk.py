"""What the flyte2 driver's operations share (flyte2_remote.py loads this file by its path, as
`unionml_flyte2_sdk`): the SDK initialized as the command was given, the project's tasks module, errors as
the caller words them, times and values as JSON. Runs in the flyte 2.x SDK's interpreter only.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from pathlib import Path
from typing import Any


class Refused(Exception):
    """What the command cannot do with what it found: `kind` names it for the caller's message."""

    def __init__(self, kind: str, message: str, **details: Any):
        super().__init__(message)
        self.kind, self.details = kind, details


def init(request: dict) -> None:
    import flyte

    directory = Path(request["directory"]).resolve()
    flyte.init_from_config(request.get("config"), root_dir=directory, project=request["project"],
                           domain=request["domain"])  # fmt: skip


def tasks_module(request: dict):
    directory = str(Path(request["directory"]).resolve())
    sys.path.insert(0, directory)
    try:
        return importlib.import_module(f"{request['package']}.tasks")
    except Exception as exc:
        raise Refused("load", f"cannot load {request['package']}.tasks: {type(exc).__name__}: {exc}") from None


def environments(tasks) -> list:
    return [tasks.env, *tasks.env.depends_on]


def task_named(tasks, name: str):
    for env in environments(tasks):
        for task in env.tasks.values():
            if task.name == name:
                return task
    raise Refused("load", f"the project has no task {name}")


def time_of(message, field: str) -> str | None:
    return getattr(message, field).ToDatetime(dt.timezone.utc).isoformat() if message.HasField(field) else None


def kickoff_of(run, kickoff_input: str | None) -> str | None:
    if not kickoff_input:
        return None
    literal = run.input_literals().get(kickoff_input)
    if literal is None or not literal.HasField("scalar"):
        return None
    return literal.scalar.primitive.datetime.ToDatetime(dt.timezone.utc).isoformat()


def ordered_metrics(metrics: dict) -> dict:
    """The metrics in unionml's order, train then test: a dict output comes back as a protobuf Struct, whose
    fields are a map (no order)."""
    first = [key for key in ("train", "test") if key in metrics]
    return {key: metrics[key] for key in first + sorted(set(metrics) - set(first))}


def plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return value.to_dict(orient="records")
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def error_of(exc: BaseException, subject: str | None = None) -> dict:
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


def absent(exc: BaseException) -> bool:
    """Whether a GetTriggerDetails error says there is no such trigger: NOT_FOUND, or the INTERNAL "trigger not
    found: ..." the open-source backend answers (runs/service/trigger_service.go checks for sql.ErrNoRows, which
    runs/repository/impl/trigger.go GetTrigger does not wrap)."""
    found = error_of(exc)
    if found["kind"] != "rpc":
        return False
    return found["code"] == "NOT_FOUND" or (found["code"] == "INTERNAL" and "trigger not found" in found["message"])
