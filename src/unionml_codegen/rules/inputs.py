"""The rules of workflow inputs: a schedule's fixed values, and the components' defaults, against their annotations.

A launch plan's fixed inputs and a task's defaults must be values Flyte can carry for the type the
component declares (flyte_values.py); datetime inputs must be filled by the schedule or the run;
workflow parameters must not clash with the inputs the generated workflows add.
"""

from __future__ import annotations

import ast
import dataclasses


from .. import codes
from ..diagnostics import Diagnostics, Position
from .flyte_values import STRUCT, UNKNOWN, FlyteType, check, read_annotation, show
from ..names import literal
from ..spec import App, Expression, Component, ModelSpec, Parameter, Schedule

DATETIME_NAMES = frozenset({"datetime.datetime"})


def check_inputs(app: App, model: ModelSpec, schedule: Schedule, diagnostics: Diagnostics) -> None:
    dataset = app.datasets[model.dataset]
    reader = dataset.components.get("reader")
    trainer = model.components.get("trainer")
    if reader is None or trainer is None:
        return  # reported where the model is defined
    name = schedule.name
    time_arg = schedule.reader_time_arg
    if time_arg is not None:
        parameter = reader.function.parameter(time_arg)
        if parameter is None:
            diagnostics.error(
                codes.INVALID_READER_TIME_ARG,
                schedule.at("reader_time_arg"),
                f"reader_time_arg '{time_arg}' is not a parameter of the reader '{reader.function.name}'",
                f"the reader's parameters are: {', '.join(p.name for p in reader.function.parameters) or 'none'}",
            )
        elif not _is_datetime(app, parameter.annotation):
            shown = parameter.annotation.text if parameter.annotation else "no annotation"
            diagnostics.error(
                codes.INVALID_READER_TIME_ARG,
                schedule.at("reader_time_arg"),
                f"the reader's '{time_arg}' is annotated {shown}; a kickoff time must be a `datetime`",
                f"annotate the parameter `{time_arg}: datetime` (from datetime import datetime); flyteadmin "
                "refuses a kickoff input of any other type, Optional included",
            )
        elif time_arg in schedule.reader_kwargs:
            diagnostics.error(
                codes.INVALID_READER_TIME_ARG,
                schedule.at(time_arg),
                f"'{time_arg}' is the kickoff time input and cannot also be given a value",
                f"drop `{time_arg}=` from the schedule",
            )
        # a reader parameter named like the generated `kickoff_time` input: clashes.py
    reader_names = {p.name for p in reader.function.parameters}
    for key in schedule.reader_kwargs:
        if key not in reader_names:
            diagnostics.error(
                codes.UNKNOWN_SCHEDULE_ARGUMENT,
                schedule.at(key),
                f"'{key}' is neither a schedule option nor a parameter of the reader '{reader.function.name}'",
                f"the reader's parameters are: {', '.join(sorted(reader_names)) or 'none'}",
            )
    for parameter in reader.function.parameters:
        if parameter.kind in ("var_positional", "var_keyword") or parameter.annotation is None:
            continue  # reported once for the reader (check_workflow_parameters)
        if parameter.default is None and parameter.name not in schedule.reader_kwargs and parameter.name != time_arg:
            diagnostics.error(
                codes.UNBOUND_REQUIRED_INPUT,
                schedule.position,
                f"schedule '{name}' leaves the reader's required '{parameter.name}' unbound",
                f"pass `{parameter.name}=...` to the schedule, or use it as `reader_time_arg`; flyteadmin refuses a "
                "scheduled launch plan with an unbound required input",
            )
    if schedule.kind == "prediction":
        return
    keyword_only = {p.name: p for p in trainer.function.keyword_only}
    for key in schedule.trainer_kwargs:
        if key not in keyword_only:
            diagnostics.error(
                codes.UNKNOWN_TRAINER_KWARG,
                schedule.at("trainer_kwargs"),
                f"trainer_kwargs '{key}' is not a keyword-only parameter of the trainer '{trainer.function.name}'",
                "unionml passes trainer_kwargs to the trainer's parameters after `*`",
            )
    for parameter in keyword_only.values():
        if parameter.default is None and parameter.name not in schedule.trainer_kwargs:
            diagnostics.error(
                codes.UNBOUND_REQUIRED_INPUT,
                schedule.position,
                f"schedule '{name}' leaves the trainer's required '{parameter.name}' unbound",
                f"pass `trainer_kwargs={{{parameter.name!r}: ...}}`",
            )


def _is_datetime(app: App, annotation) -> bool:
    if annotation is None:
        return False
    text = annotation.text
    head, _, attribute = text.partition(".")
    binding = app.imports.get(head)
    if binding is None:
        return False
    if attribute:
        return binding.name is None and f"{binding.module}.{attribute}" in DATETIME_NAMES
    return binding.name is not None and f"{binding.module}.{binding.name}" in DATETIME_NAMES


def check_workflow_parameters(app: App, diagnostics: Diagnostics) -> None:
    """Every reader parameter and keyword-only trainer parameter is an input of the generated
    workflows, with or without a schedule: each needs a name and a type."""
    for model in app.models.values():
        trainer = model.components.get("trainer")
        for parameter in trainer.function.keyword_only if trainer else ():
            if parameter.annotation is None:
                diagnostics.error(
                    codes.UNTYPED_WORKFLOW_INPUT,
                    parameter.position,
                    f"the trainer's keyword-only parameter '{parameter.name}' has no type annotation",
                    "it becomes an input of the train workflow, and Flyte needs the type of every input; annotate it",
                )
    for dataset in app.datasets.values():
        reader = dataset.components.get("reader")
        for parameter in reader.function.parameters if reader else ():
            if parameter.kind in ("var_positional", "var_keyword"):
                diagnostics.error(
                    codes.UNTYPED_WORKFLOW_INPUT,
                    parameter.position,
                    f"the reader's *{parameter.name} cannot become a workflow input",
                    "give the reader named parameters",
                )
            elif parameter.annotation is None:
                diagnostics.error(
                    codes.UNTYPED_WORKFLOW_INPUT,
                    parameter.position,
                    f"the reader parameter '{parameter.name}' has no type annotation",
                    "Flyte needs the type of every workflow input; annotate it",
                )


def with_defaults_checked(app: App, diagnostics: Diagnostics) -> App:
    """Defaults of workflow inputs (reader parameters, keyword-only trainer parameters) are written into
    the generated task and workflow signatures, where flytekit converts them like fixed values. Literal
    defaults are checked against the annotation; an int default of a float input is written as a float
    (and a tuple for a list as a list), since flytekit refuses the int."""

    def fixed(component: Component, inputs: set[str]) -> Component:
        parameters = tuple(
            _default(app, p, diagnostics) if p.name in inputs else p for p in component.function.parameters
        )
        if parameters == component.function.parameters:
            return component
        return dataclasses.replace(component, function=dataclasses.replace(component.function, parameters=parameters))

    datasets = {}
    for key, dataset in app.datasets.items():
        reader = dataset.components.get("reader")
        if reader is not None:
            reader = fixed(reader, {p.name for p in reader.function.parameters})
            dataset = dataclasses.replace(dataset, components={**dataset.components, "reader": reader})
        datasets[key] = dataset
    models = {}
    for key, model in app.models.items():
        trainer = model.components.get("trainer")
        if trainer is not None:
            trainer = fixed(trainer, {p.name for p in trainer.function.keyword_only})
            model = dataclasses.replace(model, components={**model.components, "trainer": trainer})
        models[key] = model
    return dataclasses.replace(app, datasets=datasets, models=models)


NOT_LITERAL = object()


def literal_value(code: Expression):
    """The value of a plain literal (numbers, strings, displays of them, unary minus), or NOT_LITERAL."""
    try:  # never runs anything, and bounded: no names, calls or operators
        return ast.literal_eval(code.text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NOT_LITERAL


def _default(app: App, parameter: Parameter, diagnostics: Diagnostics) -> Parameter:
    if parameter.default is None or parameter.annotation is None:
        return parameter
    value = literal_value(parameter.default)
    if value is NOT_LITERAL:
        return parameter
    ftype = read_annotation(parameter.annotation, app.imports)
    converted, problem = check(value, ftype, f"the default of '{parameter.name}'")
    if problem is not None:
        diagnostics.error(
            codes.VALUE_TYPE_MISMATCH, parameter.position, f"{problem.where} {problem.message}", problem.hint
        )
        return parameter
    if literal(converted) != literal(value):
        return dataclasses.replace(parameter, default=Expression(literal(converted), parameter.default.names))
    return parameter


def check_dataset_values(app: App, dataset, diagnostics: Diagnostics) -> None:
    """`Dataset(...)` arguments become the splitter's and parser's default kwargs (dict inputs)."""
    for key, value in {**dataset.splitter_defaults, **dataset.parser_defaults}.items():
        _, problem = check({key: value}, STRUCT, "Dataset(...)")
        if problem is not None:
            diagnostics.error(
                codes.VALUE_TYPE_MISMATCH, dataset.position, f"{problem.where} {problem.message}", problem.hint
            )


def check_values(
    app: App, schedule: Schedule, diagnostics: Diagnostics, input_types: dict[tuple[str, str], dict[str, FlyteType]]
) -> Schedule:
    """Each value the schedule fixes, checked against the input it fills (and written as that type wants)."""
    key = (schedule.model, schedule.kind)
    types = input_types[key] if key in input_types else input_types.setdefault(key, schedule_input_types(app, schedule))
    changes: dict[str, object] = {}

    def checked(value, ftype: FlyteType, where: str, at: Position):
        value, problem = check(value, ftype, where)
        if problem is not None:
            diagnostics.error(codes.VALUE_TYPE_MISMATCH, at, f"{problem.where} {problem.message}", problem.hint)
        return value

    for key in ("hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs"):
        value = getattr(schedule, key)
        if not value:
            continue
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            diagnostics.error(
                codes.NON_STRING_KEYS,
                schedule.at(key),
                f"{key} has the key {show(bad[0])}; its keys must be strings",
                "the keys are keyword argument names",
            )
            continue
        changes[key] = checked(value, STRUCT, key, schedule.at(key))
    changes["reader_kwargs"] = {
        key: checked(value, types.get(key, UNKNOWN), f"the reader's {key}", schedule.at(key))
        for key, value in schedule.reader_kwargs.items()
    }
    changes["trainer_kwargs"] = {
        key: checked(value, types.get(key, UNKNOWN), f"trainer_kwargs[{key!r}]", schedule.at("trainer_kwargs"))
        for key, value in schedule.trainer_kwargs.items()
    }
    plan_kwargs = dict(schedule.launchplan_kwargs)
    for key, value in plan_kwargs.items():
        where = f"launchplan_kwargs[{key!r}]"
        if key == "fixed_inputs" and isinstance(value, dict):
            plan_kwargs[key] = {
                name: checked(item, types.get(name, UNKNOWN), f"{where}[{name!r}]", schedule.at("launchplan_kwargs"))
                for name, item in value.items()
            }
        else:
            checked(value, UNKNOWN, where, schedule.at("launchplan_kwargs"))
    changes["launchplan_kwargs"] = plan_kwargs
    for key, value in (schedule.model_source or {}).items():
        if isinstance(value, str):
            checked(value, UNKNOWN, f"`{key}`", schedule.at(key))
    return dataclasses.replace(schedule, **changes)


def schedule_input_types(app: App, schedule: Schedule) -> dict[str, FlyteType]:
    """The types of the inputs of the workflow a schedule's launch plan runs, by name."""
    model = app.models[schedule.model]
    reader = app.datasets[model.dataset].components.get("reader")
    types: dict[str, FlyteType] = {}
    parameters = list(reader.function.parameters) if reader else []
    if schedule.kind == "training":
        trainer = model.components.get("trainer")
        parameters += list(trainer.function.keyword_only) if trainer else []
        types.update(dict.fromkeys(("hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs"), STRUCT))
    for parameter in parameters:
        types[parameter.name] = read_annotation(parameter.annotation, app.imports)
    return types
