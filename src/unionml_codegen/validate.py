"""Check an `App` against unionml's rules and what Flyte will accept and run.

flytekit accepts much that flyteadmin refuses at registration, and some launch plans that
register never run right on the native scheduler (see docs/rules.md). Each rule here reports
at the line of the app that causes it. Spellings with one clear meaning are rewritten, with
a warning; the returned `App` carries the rewritten schedules.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import re

from pathlib import Path

from . import codes, launchplan_kwargs
from .clashes import check_names
from .cron import CronError, parse_cron
from .diagnostics import Diagnostics, Position
from .flyte_values import (
    STRUCT,
    TASK_OPTION_TYPES,
    TASK_OPTIONS,
    UNKNOWN,
    FlyteType,
    check,
    read_annotation,
    show,
    unsupported_annotation,
)
from .model_sources import resolve_models
from .render import KICKOFF_INPUT
from .names import literal
from .spec import App, Code, Component, ModelSpec, Parameter, Schedule

#: The longest fixed rate flyteadmin's scheduler can add to a time: a Go time.Duration (int64 nanoseconds).
MAX_FIXED_RATE = dt.timedelta(days=106_751)

#: What flyteadmin accepts as a launch plan name, kept to characters that are safe in file names.
LAUNCH_PLAN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")
#: `pyflyte package` writes each launch plan to a file named `<index>_<name>_3.pb` (index zero-padded
#: to the digits of the entity count); a file name has at most 255 bytes. 240 leaves room for any index.
MAX_SCHEDULE_NAME = 240
DATETIME_NAMES = frozenset({"datetime.datetime"})


def validate(
    app: App,
    diagnostics: Diagnostics,
    bindings: dict[str, Path] | None = None,
    app_dir: Path | None = None,
    *,
    target: str = "flyte1",
) -> App:
    """The app, checked for `target` (flyte1 or flyte2: the same rules, except where the two SDKs differ,
    flyte2_rules.py) and with its spellings rewritten and its models resolved."""
    seen: dict[str, Schedule] = {}
    schedules = []
    input_types: dict[tuple[str, str], dict[str, FlyteType]] = {}  # by (model, kind): the same for each schedule
    unpredicted = _components(app, diagnostics)
    if unpredicted:  # their predict workflows are left out (render.py, `_ModelView.predicts`)
        app = dataclasses.replace(app, left_out=app.left_out | {(variable, "predict") for variable in unpredicted})
    app = _defaults(app, diagnostics)
    check_names(app, diagnostics)
    for schedule in app.schedules:
        _name(schedule, seen, diagnostics)
        schedule = _timing(schedule, diagnostics, target)
        model = app.models.get(schedule.model)
        if model is None:
            continue
        _inputs(app, model, schedule, diagnostics)
        schedule = _values(app, schedule, diagnostics, input_types)
        schedules.append(schedule)
    app = dataclasses.replace(app, schedules=tuple(schedules))
    for schedule in app.schedules:
        _launchplan_kwargs(app, schedule, diagnostics, target)
    if target == "flyte2":
        from .flyte2_rules import check_flyte2

        check_flyte2(app, diagnostics)
    references = resolve_models(app, bindings or {}, app_dir or Path("."), diagnostics)
    return dataclasses.replace(app, model_references=references)


def _name(schedule: Schedule, seen: dict[str, Schedule], diagnostics: Diagnostics) -> None:
    at = schedule.at("name")
    if not LAUNCH_PLAN_NAME.fullmatch(schedule.name):
        diagnostics.error(
            codes.INVALID_SCHEDULE_NAME,
            at,
            f"schedule name {schedule.name!r} is not a valid launch plan name",
            "use letters, digits, '_', '-' and '.', starting with a letter, digit or '_'",
        )
    elif len(schedule.name) > MAX_SCHEDULE_NAME:
        diagnostics.error(
            codes.SCHEDULE_NAME_TOO_LONG,
            at,
            f"schedule name is {len(schedule.name)} characters long; at most {MAX_SCHEDULE_NAME} are possible",
            "pyflyte package writes each launch plan to a file named `<index>_<name>_3.pb`, and a file name "
            "has at most 255 bytes; shorten the name",
        )
    first = seen.get(schedule.name)
    if first is not None:
        diagnostics.error(
            codes.DUPLICATE_SCHEDULE_NAME,
            at,
            f"schedule name '{schedule.name}' is already used by the {first.kind} schedule at line "
            f"{first.position.line}",
            "launch plan names are one namespace per Flyte project and domain; give each schedule its own name",
        )
    else:
        seen[schedule.name] = schedule


def _launchplan_kwargs(app: App, schedule: Schedule, diagnostics: Diagnostics, target: str = "flyte1") -> None:
    for message, hint in launchplan_kwargs.problems(schedule.launchplan_kwargs):
        diagnostics.error(codes.INVALID_LAUNCHPLAN_KWARGS, schedule.at("launchplan_kwargs"), message, hint)
    fixed = schedule.launchplan_kwargs.get("fixed_inputs")
    if not isinstance(fixed, dict):
        return
    inputs = _workflow_inputs(app, schedule)
    for key in fixed:
        problem = _fixed_kickoff(schedule, key, target)
        if problem is not None:
            diagnostics.error(
                codes.FIXED_KICKOFF_TIME,
                schedule.at("launchplan_kwargs"),
                f"launchplan_kwargs['fixed_inputs'] fixes {key!r}, {problem}",
                f"drop {key!r} from fixed_inputs: each run gets the time it was scheduled for",
            )
        elif isinstance(key, str) and key not in inputs:
            diagnostics.error(
                codes.UNKNOWN_FIXED_INPUT,
                schedule.at("launchplan_kwargs"),
                f"launchplan_kwargs['fixed_inputs'] names {key!r}, which is not an input of the schedule's workflow",
                f"inputs: {', '.join(sorted(inputs))}",
            )


def _fixed_kickoff(schedule: Schedule, key: object, target: str = "flyte1") -> str | None:
    """Why fixing `key` would fix the kickoff time of a schedule, or None."""
    if schedule.reader_time_arg is None:
        return None
    if target == "flyte2":
        if key != schedule.reader_time_arg:
            return None
        return "the input this schedule's trigger binds to its fire time (flyte.TriggerTime)"
    if schedule.fixed_rate is None and key == schedule.reader_time_arg:
        return (
            "the kickoff time input of this cron schedule; flyteadmin refuses a launch plan whose "
            "kickoff_time_input_arg is fixed"
        )
    if schedule.fixed_rate is not None and key in (schedule.reader_time_arg, KICKOFF_INPUT):
        return (
            "the kickoff time of this fixed-rate schedule, which the workflow reads from each execution "
            "(a fixed value would give every run the same time)"
        )
    return None


def _workflow_inputs(app: App, schedule: Schedule) -> set[str]:
    model = app.models[schedule.model]
    reader = app.datasets[model.dataset].components.get("reader")
    names = {p.name for p in reader.function.parameters} if reader else set()
    if schedule.kind == "training":
        trainer = model.components.get("trainer")
        names |= {"hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs"}
        names |= {p.name for p in trainer.function.keyword_only} if trainer else set()
    return names


def _timing(schedule: Schedule, diagnostics: Diagnostics, target: str = "flyte1") -> Schedule:
    s = schedule
    if (s.expression is None) == (s.fixed_rate is None):
        diagnostics.error(
            codes.SCHEDULE_TIMING,
            s.position,
            f"schedule '{s.name}' needs exactly one of `expression` and `fixed_rate`",
            'e.g. `expression="0 0 * * *"` or `fixed_rate=timedelta(days=1)`',
        )
        return s
    if s.offset is not None and target == "flyte2":
        diagnostics.warning(
            codes.OFFSET_IGNORED,
            s.at("offset"),
            f"schedule '{s.name}': Flyte 2's `flyte.Cron` has no offset, so the trigger leaves it out",
            "shift the cron expression by the offset instead (e.g. '0 1 * * *' for '0 0 * * *' plus PT1H)",
        )
    elif s.offset is not None:
        diagnostics.warning(
            codes.OFFSET_IGNORED,
            s.at("offset"),
            f"schedule '{s.name}': Flyte's native scheduler ignores `offset`, so the launch plan leaves it out",
            "shift the cron expression by the offset instead (e.g. '0 1 * * *' for '0 0 * * *' plus PT1H)",
        )
    if s.fixed_rate is not None:
        if s.reader_time_arg is not None and target == "flyte1":  # Flyte 2 binds flyte.TriggerTime to it
            diagnostics.warning(
                codes.FIXED_RATE_KICKOFF,
                s.at("reader_time_arg"),
                f"schedule '{s.name}': Flyte's native scheduler gives fixed-rate runs no kickoff time input; the "
                f"generated workflow reads the time each run was scheduled for from the execution and passes it "
                f"as the reader's '{s.reader_time_arg}'",
                "use a cron `expression` to get the kickoff time as a launch plan input instead",
            )
        rate = s.fixed_rate
        if rate < dt.timedelta(minutes=1):
            diagnostics.error(
                codes.FIXED_RATE_TOO_SHORT,
                s.at("fixed_rate"),
                f"fixed rate {rate} is under one minute",
                "Flyte's shortest rate is 1 minute",
            )
        elif rate > MAX_FIXED_RATE:
            diagnostics.error(
                codes.FIXED_RATE_TOO_LONG,
                s.at("fixed_rate"),
                f"fixed rate {rate.days:,} days is longer than flyteadmin's scheduler can count",
                "the native scheduler computes the next kickoff as a Go duration (int64 nanoseconds), at most "
                "106,751 days; no schedule needs that long: use a cron expression for yearly runs",
            )
        elif rate % dt.timedelta(minutes=1):
            diagnostics.error(
                codes.FIXED_RATE_NOT_WHOLE,
                s.at("fixed_rate"),
                f"fixed rate {rate} is not a whole number of minutes",
                "Flyte stores rates in minutes, hours or days; round the rate to whole minutes",
            )
        return s
    text = s.expression or ""
    if text.strip().startswith("@every"):
        diagnostics.error(
            codes.UNSUPPORTED_CRON,
            s.at("expression"),
            (
                f"'{text}': flytekit does not accept `@every`"
                if target == "flyte1"
                else f"'{text}': flytekit, and so unionml, does not accept `@every`; in Flyte 2 a rate is a "
                "`flyte.FixedRate`"
            ),
            "use `fixed_rate=timedelta(...)` instead",
        )
        return s
    try:
        cron = parse_cron(text)
    except CronError as exc:
        diagnostics.error(exc.code, s.at("expression"), exc.message, exc.hint)
        return s
    for note in cron.rewrites:
        diagnostics.warning(
            codes.CRON_REWRITTEN, s.at("expression"), note, f"write {cron.expression!r} to silence this warning"
        )
    return dataclasses.replace(s, expression=cron.expression)


def _inputs(app: App, model: ModelSpec, schedule: Schedule, diagnostics: Diagnostics) -> None:
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
            continue  # reported once for the reader (_workflow_parameters)
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


def _workflow_parameters(app: App, diagnostics: Diagnostics) -> None:
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


def _components(app: App, diagnostics: Diagnostics) -> set[str]:
    """Checks the components; returns the models whose predict workflows are left out (_task_outputs)."""
    """Task options flytekit's `@task` takes, and input types it can carry."""
    _workflow_parameters(app, diagnostics)
    specs = [*app.datasets.values(), *app.models.values()]
    for spec in specs:
        for component in spec.components.values():
            keys = [key for key, _ in component.task_options]
            for key in keys:
                if key not in TASK_OPTIONS:
                    diagnostics.error(
                        codes.INVALID_TASK_OPTION,
                        component.position,
                        f"`{key}=` is not an option of flytekit's @task (flytekit 1.16)",
                        f"known options: {', '.join(sorted(TASK_OPTIONS))}",
                    )
            for key, code in component.task_options:
                problem = _task_option_problem(key, code)
                if problem is not None:
                    diagnostics.error(
                        codes.INVALID_TASK_OPTION,
                        component.position,
                        f"{problem.where} {problem.message}",
                        problem.hint,
                    )
            if "resources" in keys and {"requests", "limits"} & set(keys):
                diagnostics.error(
                    codes.INVALID_TASK_OPTION,
                    component.position,
                    "`resources=` cannot be given together with `requests=` or `limits=` (flytekit refuses it)",
                    "give either `resources=` or `requests=`/`limits=`",
                )
    checked: set[int] = set()
    for model in app.models.values():
        reader = app.datasets[model.dataset].components.get("reader")
        trainer = model.components.get("trainer")
        inputs = [*(reader.function.parameters if reader else ()), *(trainer.function.keyword_only if trainer else ())]
        for parameter in inputs:
            if id(parameter) in checked or parameter.annotation is None:
                continue
            checked.add(id(parameter))
            reason = unsupported_annotation(read_annotation(parameter.annotation, app.imports))
            if reason is not None:
                diagnostics.error(
                    codes.UNSUPPORTED_TYPE,
                    parameter.position,
                    f"'{parameter.name}' cannot become a workflow input: {reason}",
                    "annotate it with a parameterized type, e.g. List[int] or Dict[str, float]",
                )
    unpredicted = _task_outputs(app, diagnostics)
    for dataset in app.datasets.values():
        _dataset_values(app, dataset, diagnostics)
    return unpredicted


#: Components whose return annotation becomes a task output type in the generated workflows.
TASK_OUTPUTS = {"dataset": ("reader",), "model": ("trainer", "predictor")}


def _task_outputs(app: App, diagnostics: Diagnostics) -> set[str]:
    """A bare `list` or a tuple returned by the reader, trainer or predictor would become a task output
    that `pyflyte package` refuses (a local run does not notice); unionml passes the same annotation to
    flytekit, so the app fails there too. A predictor's output is needed only by the predict workflows:
    when no schedule predicts with the model, they are left out with a warning (unionml 0.2.1 trains
    such an app; only its predict workflow fails), and the model is returned."""
    unpredicted: set[str] = set()
    predicting = {schedule.model for schedule in app.schedules if schedule.kind == "prediction"}
    for kind, specs in (("dataset", app.datasets.values()), ("model", app.models.values())):
        for spec in specs:
            for role in TASK_OUTPUTS[kind]:
                component = spec.components.get(role)
                returns = component.function.returns if component else None
                if returns is None or (role == "reader" and spec.reader_is_task):
                    continue
                reason = unsupported_annotation(read_annotation(returns, app.imports))
                if reason is None:
                    continue
                what = f"the {kind} {role} '{component.function.name}' returns `{returns.text}`"
                if role == "predictor" and spec.variable not in predicting:
                    unpredicted.add(spec.variable)
                    diagnostics.warning(
                        codes.PREDICTIONS_LEFT_OUT,
                        component.function.position,
                        f"{what}, which a predict task cannot output ({reason}); no schedule predicts with the model "
                        f"'{spec.name}', so its predict workflows are left out of the project",
                        "annotate it with a parameterized type, e.g. `List[float]` (from typing), to keep them",
                    )
                    continue
                diagnostics.error(
                    codes.UNSUPPORTED_TYPE,
                    component.function.position,
                    f"{what}, which becomes a task output: {reason}",
                    "annotate it with a parameterized type, e.g. `List[float]` (from typing)",
                )
    return unpredicted


def _defaults(app: App, diagnostics: Diagnostics) -> App:
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


_NOT_LITERAL = object()


def _literal_value(code: Code):
    """The value of a plain literal (numbers, strings, displays of them, unary minus), or _NOT_LITERAL."""
    try:  # never runs anything, and bounded: no names, calls or operators
        return ast.literal_eval(code.text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _task_option_problem(key: str, code: Code):
    ftype = TASK_OPTION_TYPES.get(key)
    value = _literal_value(code) if ftype is not None else _NOT_LITERAL
    if value is _NOT_LITERAL:
        return None
    if ftype.kind == "list" and isinstance(value, tuple):
        value = list(value)
    problem = check(value, ftype, f"the task option `{key}=`")[1]
    if problem is None:
        return None
    return dataclasses.replace(problem, message=problem.message.replace("but the input is typed", "but it takes"))


def _default(app: App, parameter: Parameter, diagnostics: Diagnostics) -> Parameter:
    if parameter.default is None or parameter.annotation is None:
        return parameter
    value = _literal_value(parameter.default)
    if value is _NOT_LITERAL:
        return parameter
    ftype = read_annotation(parameter.annotation, app.imports)
    converted, problem = check(value, ftype, f"the default of '{parameter.name}'")
    if problem is not None:
        diagnostics.error(
            codes.VALUE_TYPE_MISMATCH, parameter.position, f"{problem.where} {problem.message}", problem.hint
        )
        return parameter
    if literal(converted) != literal(value):
        return dataclasses.replace(parameter, default=Code(literal(converted), parameter.default.names))
    return parameter


def _dataset_values(app: App, dataset, diagnostics: Diagnostics) -> None:
    """`Dataset(...)` arguments become the splitter's and parser's default kwargs (dict inputs)."""
    for key, value in {**dataset.splitter_defaults, **dataset.parser_defaults}.items():
        _, problem = check({key: value}, STRUCT, "Dataset(...)")
        if problem is not None:
            diagnostics.error(
                codes.VALUE_TYPE_MISMATCH, dataset.position, f"{problem.where} {problem.message}", problem.hint
            )


def _values(
    app: App, schedule: Schedule, diagnostics: Diagnostics, input_types: dict[tuple[str, str], dict[str, FlyteType]]
) -> Schedule:
    """Each value the schedule fixes, checked against the input it fills (and written as that type wants)."""
    key = (schedule.model, schedule.kind)
    types = input_types[key] if key in input_types else input_types.setdefault(key, _input_types(app, schedule))
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


def _input_types(app: App, schedule: Schedule) -> dict[str, FlyteType]:
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
