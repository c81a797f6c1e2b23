"""Read one `model.schedule_training(...)`/`model.schedule_prediction(...)` call into a `Schedule`.

Arguments are evaluated with the constants known at the call (`bindings`); keywords that are
not schedule options are the reader's keyword arguments, as in unionml.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import libcst as cst

from .. import codes
from .bindings import Bindings
from ..diagnostics import Diagnostics, Position
from ..spec import Expression, Schedule
from .values import NotStatic

_TRAINING_ARGS = {
    "expression", "offset", "fixed_rate", "reader_time_arg", "activate_on_deploy", "launchplan_kwargs",
    "hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs", "trainer_kwargs",
}  # fmt: skip
_PREDICTION_ARGS = {
    "expression", "offset", "fixed_rate", "reader_time_arg", "activate_on_deploy", "launchplan_kwargs",
    "model_object", "model_version", "app_version", "model_file", "loader_kwargs",
}  # fmt: skip
_DICT_ARGS = ("launchplan_kwargs", "hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs",
              "trainer_kwargs")  # fmt: skip


def read_schedule(
    bindings: Bindings, model: str, kind: str, call: cst.Call, train_call: Position | None
) -> Schedule | None:
    """The schedule `call` of the model variable `model`, or None after reporting why not."""
    method = f"{model}.schedule_{kind}"
    arguments = _arguments(bindings, method, kind, call)
    if arguments is None:
        return None
    values, positions, reader_kwargs = arguments
    if not _well_typed(values, positions, bindings.diagnostics):
        return None
    return Schedule(
        kind=kind,  # type: ignore[arg-type]
        name=values["name"],
        model=model,
        expression=values.get("expression"),
        offset=values.get("offset"),
        fixed_rate=values.get("fixed_rate"),
        reader_time_arg=values.get("reader_time_arg"),
        activate_on_deploy=values.get("activate_on_deploy", True),
        launchplan_kwargs=values.get("launchplan_kwargs") or {},
        hyperparameters=values.get("hyperparameters") or {},
        loader_kwargs=values.get("loader_kwargs") or {},
        splitter_kwargs=values.get("splitter_kwargs") or {},
        parser_kwargs=values.get("parser_kwargs") or {},
        trainer_kwargs=values.get("trainer_kwargs") or {},
        reader_kwargs=reader_kwargs,
        position=bindings.pos(call),
        argument_positions=positions,
        model_source=_model_source(values) if kind == "prediction" else None,
        model_train_call=train_call,
    )


def _arguments(
    bindings: Bindings, method: str, kind: str, call: cst.Call
) -> tuple[dict[str, Any], dict[str, Position], dict[str, Any]] | None:
    """The call's schedule options, where each was given, and the reader's keyword arguments (the
    keywords that are not options, as in unionml); None after reporting a value that cannot be read."""
    diagnostics = bindings.diagnostics
    known = _TRAINING_ARGS if kind == "training" else _PREDICTION_ARGS
    values: dict[str, Any] = {}
    positions: dict[str, Position] = {}
    reader_kwargs: dict[str, Any] = {}
    ok = True
    for index, arg in enumerate(call.args):
        if arg.star == "**":
            good, mapping = bindings.evaluate(arg.value)
            if good and isinstance(mapping, dict):
                for key, value in mapping.items():
                    target = values if key in known or key == "name" else reader_kwargs
                    target[key] = value
                    positions[key] = bindings.pos(arg)
            ok = ok and good
            continue
        if arg.star == "*" or (arg.keyword is None and index > 0):
            diagnostics.error(
                codes.INVALID_SCHEDULE_ARGUMENT,
                bindings.pos(arg),
                f"{method}(...) takes only the name positionally",
                "pass every other argument by keyword",
            )
            ok = False
            continue
        key = "name" if arg.keyword is None else arg.keyword.value
        positions[key] = bindings.pos(arg.value)
        if key == "model_object":
            values[key] = bindings.code(arg.value)
            continue
        if key == "model_file" and kind == "prediction":
            try:  # a path computed at run time is reported with the other unknowable models
                values[key] = bindings.evaluator().evaluate(arg.value)
            except NotStatic:
                values[key] = bindings.code(arg.value)
            continue
        good, value = bindings.evaluate(arg.value)
        ok = ok and good
        (values if key in known or key == "name" else reader_kwargs)[key] = value
    if "name" not in values:
        diagnostics.error(
            codes.INVALID_SCHEDULE_ARGUMENT,
            bindings.pos(call),
            f"{method}(...) needs a name",
            'e.g. `name="daily_training"`',
        )
        return None
    return (values, positions, reader_kwargs) if ok else None


def _well_typed(values: dict[str, Any], positions: dict[str, Position], diagnostics: Diagnostics) -> bool:
    """Whether each option has the type unionml gives it meaning with; else the first one that has not is reported."""
    if not isinstance(values["name"], str):
        diagnostics.error(
            codes.INVALID_SCHEDULE_ARGUMENT,
            positions["name"],
            "a schedule name must be a string",
            'e.g. `"daily_training"`',
        )
        return False
    for key in _DICT_ARGS:
        if values.get(key) is not None and not isinstance(values[key], dict):
            diagnostics.error(
                codes.INVALID_SCHEDULE_ARGUMENT, positions[key], f"`{key}` must be a dict", f"e.g. `{key}={{...}}`"
            )
            return False
    if values.get("fixed_rate") is not None and not isinstance(values["fixed_rate"], dt.timedelta):
        diagnostics.error(
            codes.INVALID_SCHEDULE_ARGUMENT,
            positions["fixed_rate"],
            "`fixed_rate` must be a timedelta",
            "e.g. `fixed_rate=timedelta(hours=1)`",
        )
        return False
    activate = values.get("activate_on_deploy", True)
    if not isinstance(activate, bool):
        diagnostics.error(
            codes.INVALID_SCHEDULE_ARGUMENT,
            positions["activate_on_deploy"],
            f"`activate_on_deploy` must be True or False, not {activate!r}",
            "unionml only tests it for truth, so a string like 'no' would activate the schedule; write True or False",
        )
        return False
    for key in ("expression", "offset", "reader_time_arg", "model_version", "app_version", "model_file"):
        if values.get(key) is not None and not isinstance(values[key], (str, Expression)):
            diagnostics.error(codes.INVALID_SCHEDULE_ARGUMENT, positions[key], f"`{key}` must be a string", "")
            return False
    return True


def _model_source(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in ("model_object", "model_version", "app_version", "model_file") if key in values}
