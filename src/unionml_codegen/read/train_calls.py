"""The models an app trains in memory: `model.train(...)`, `model.save(...)`, and the schedules that use them.

unionml gives a prediction schedule the model of a `model.train(...)` that ran when the app was imported in
three ways (the scheduling guide shows each): no model argument (the last call's `model.artifact`),
`model_object=NAME` where `NAME, _ = model.train(...)` unpacked a call's result, and `model_file=EXPR` where
`model.save(EXPR, ...)` wrote the last call's model. This module follows those calls at the top level and
ties each such schedule to its call (`ModelTraining`), with the call's arguments evaluated as the generator
evaluates every other value (values.py), so that `--train-models` can run the same training itself
(rules/training.py). A name or path used again after something else may have changed it is not followed:
the schedule keeps the error that its model is not known (codes.MODEL_NOT_STATIC).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

import libcst as cst

from .bindings import Bindings, free_names
from ..spec import ModelTraining, Schedule, TrainCall
from .values import NotStatic

#: `Model.train`'s parameters before its `**reader_kwargs`, in order (unionml 0.2.1).
TRAIN_PARAMETERS = ("hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs", "trainer_kwargs")


@dataclasses.dataclass(frozen=True)
class _Saved:
    """A `model.save(FILE, **kwargs)` of the last trained model: the file's expression and what it names."""

    text: str
    names: tuple[tuple[str, object], ...]  # the state of each name FILE uses, when it was saved
    training: ModelTraining


class TrainCalls:
    """What the app's top-level `model.train(...)` and `model.save(...)` calls leave, per model variable."""

    def __init__(self, bindings: Bindings):
        self.bindings = bindings
        self.last: dict[str, TrainCall] = {}  # model variable -> its last train call
        self.objects: dict[str, tuple[TrainCall, tuple[tuple[str, object], ...]]] = {}  # unpacked model objects
        self.saved: list[_Saved] = []
        self._call: tuple[cst.Call, TrainCall] | None = None  # the train call of the statement being read

    def train(self, model: str, call: cst.Call) -> None:
        arguments, problem = self._arguments(call)
        record = TrainCall(model, self.bindings.pos(call), arguments, problem)
        self.last[model] = record
        self._call = (call, record)

    def assigned(self, targets: Iterable[cst.AssignTarget], value: cst.BaseExpression) -> None:
        """`trained, metrics = model.train(...)`: `trained` is that call's model object."""
        if self._call is None or self._call[0] is not value:
            return
        for target in targets:
            node = target.target
            if isinstance(node, (cst.Tuple, cst.List)) and len(node.elements) == 2:
                first = node.elements[0]
                if isinstance(first, cst.Element) and isinstance(first.value, cst.Name):
                    name = first.value.value
                    self.objects[name] = (self._call[1], self._state([name]))

    def save(self, model: str, call: cst.Call) -> None:
        """`model.save(FILE, **kwargs)`: FILE holds the model of the model's last train call."""
        train = self.last.get(model)
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        file = next((arg for arg in call.args if arg.keyword is not None and arg.keyword.value == "file"), None)
        file = file or (positional[0] if positional else None)
        if train is None or file is None:
            return
        kwargs: dict[str, Any] = {}
        problem = None
        for arg in call.args:
            if arg is file:
                continue
            if arg.star or arg.keyword is None:
                problem = (self.bindings.pos(arg), "model.save(...) is given positional or unpacked arguments")
                break
            try:
                kwargs[arg.keyword.value] = self.bindings.evaluator().evaluate(arg.value)
            except NotStatic as exc:
                problem = (self.bindings.pos(exc.node), f"model.save(..., {arg.keyword.value}=...): {exc.reason}")
                break
        text = self.bindings.code(file.value).text
        names = sorted(free_names(file.value))
        training = ModelTraining(train, "model_file", kwargs, problem)
        self.saved.append(_Saved(text, self._state(names), training))

    def attach(self, schedule: Schedule) -> Schedule:
        """The prediction schedule with the train call its model comes from, when it comes from one."""
        source = schedule.model_source
        if schedule.kind != "prediction" or source is None:
            return schedule
        training = None
        model_object, model_file = source.get("model_object"), source.get("model_file")
        if source.get("model_version") is not None or isinstance(model_file, str):
            return schedule
        if model_object is not None:
            found = self.objects.get(model_object.text.strip())
            if found is not None and found[1] == self._state([model_object.text.strip()]):
                training = ModelTraining(found[0], "model_object")
        elif model_file is not None:
            for saved in reversed(self.saved):
                if saved.text == model_file.text and saved.names == self._state([n for n, _ in saved.names]):
                    training = saved.training
                    break
        elif schedule.model in self.last:
            training = ModelTraining(self.last[schedule.model], "artifact")
        if training is None or training.call.model != schedule.model:
            return schedule
        return dataclasses.replace(schedule, model_training=training)

    def _state(self, names: Iterable[str]) -> tuple[tuple[str, object], ...]:
        """What the walker knows of each name now: a name rebound or changed since reads differently."""
        bindings = self.bindings
        return tuple(
            (name, ("unknown", bindings.unknown[name]) if name in bindings.unknown else
             ("constant", id(bindings.constants[name])) if name in bindings.constants else ("unbound", None))
            for name in names
        )  # fmt: skip

    def _arguments(self, call: cst.Call) -> tuple[dict[str, Any] | None, tuple | None]:
        """The call's arguments by `Model.train`'s parameters, or None and where and why one cannot be known."""
        bindings = self.bindings
        values: dict[str, Any] = {name: {} for name in TRAIN_PARAMETERS}
        reader: dict[str, Any] = {}
        index = 0
        for arg in call.args:
            try:
                value = bindings.evaluator().evaluate(arg.value)
            except NotStatic as exc:
                shown = f"{arg.keyword.value}=" if arg.keyword is not None else "**" if arg.star == "**" else ""
                return None, (bindings.pos(exc.node), f"`{shown}{bindings.code(arg.value).text}`: {exc.reason}")
            if arg.star == "*":
                return None, (bindings.pos(arg), "model.train(...) is given unpacked positional arguments (`*args`)")
            if arg.star == "**":
                if not isinstance(value, dict):
                    return None, (bindings.pos(arg), "`**` unpacks a value that is not a dict")
                pairs = list(value.items())
            elif arg.keyword is None:
                if index >= len(TRAIN_PARAMETERS):
                    return None, (bindings.pos(arg), "model.train(...) takes at most five positional arguments")
                pairs = [(TRAIN_PARAMETERS[index], value)]
                index += 1
            else:
                pairs = [(arg.keyword.value, value)]
            for key, item in pairs:
                if key in TRAIN_PARAMETERS:
                    if item is not None and not isinstance(item, dict):
                        return None, (bindings.pos(arg), f"`{key}` must be a dict, not {type(item).__name__}")
                    values[key] = item or {}
                else:
                    reader[key] = item
        values["reader_kwargs"] = reader
        return values, None
