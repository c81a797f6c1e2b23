"""Check an `App` against unionml's rules and what Flyte will accept and run.

flytekit accepts much that flyteadmin refuses at registration, and some launch plans that
register never run right on the native scheduler (see docs/rules.md). Each rule here reports
at the line of the app that causes it. Spellings with one clear meaning are rewritten, with
a warning; the returned `App` carries the rewritten schedules.

The rules come in order: each schedule's name, timing and settings (schedules.py), its inputs
(inputs.py), the components and their task options and outputs (here), the models each prediction
schedule uses (model_sources.py), names that would clash (clashes.py), and the flyte2 target's own
rules (flyte2.py).
"""

from __future__ import annotations

import dataclasses

from pathlib import Path

from .. import codes
from .clashes import check_names
from ..diagnostics import Diagnostics
from .flyte_values import TASK_OPTION_TYPES, TASK_OPTIONS, FlyteType, check, read_annotation, unsupported_annotation
from .flyte2 import check_flyte2
from .inputs import (
    NOT_LITERAL,
    check_dataset_values,
    check_inputs,
    check_values,
    check_workflow_parameters,
    literal_value,
    with_defaults_checked,
)
from .model_sources import resolve_models
from .training import Training
from .schedules import check_launchplan_kwargs, check_name, checked_timing
from ..spec import App, Expression, Schedule


def validate(
    app: App,
    diagnostics: Diagnostics,
    bindings: dict[str, Path] | None = None,
    app_dir: Path | None = None,
    *,
    target: str = "flyte1",
    training: Training | None = None,
) -> App:
    """The app, checked for `target` (flyte1 or flyte2: the same rules, except where the two SDKs differ,
    rules/flyte2.py) and with its spellings rewritten and its models resolved."""
    seen: dict[str, Schedule] = {}
    schedules = []
    input_types: dict[tuple[str, str], dict[str, FlyteType]] = {}  # by (model, kind): the same for each schedule
    unpredicted = _components(app, diagnostics)
    if unpredicted:  # their predict workflows are left out (render/views.py, `ModelView.predicts`)
        app = dataclasses.replace(app, left_out=app.left_out | {(variable, "predict") for variable in unpredicted})
    app = with_defaults_checked(app, diagnostics)
    check_names(app, diagnostics)
    for schedule in app.schedules:
        check_name(schedule, seen, diagnostics)
        schedule = checked_timing(schedule, diagnostics, target)
        model = app.models.get(schedule.model)
        if model is None:
            continue
        check_inputs(app, model, schedule, diagnostics)
        schedule = check_values(app, schedule, diagnostics, input_types)
        schedules.append(schedule)
    app = dataclasses.replace(app, schedules=tuple(schedules))
    for schedule in app.schedules:
        check_launchplan_kwargs(app, schedule, diagnostics, target)
    if target == "flyte2":
        check_flyte2(app, diagnostics)
    references = resolve_models(app, bindings or {}, app_dir or Path("."), diagnostics, training)
    return dataclasses.replace(app, model_references=references)


def _components(app: App, diagnostics: Diagnostics) -> set[str]:
    """Checks the components; returns the models whose predict workflows are left out (_task_outputs)."""
    """Task options flytekit's `@task` takes, and input types it can carry."""
    check_workflow_parameters(app, diagnostics)
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
        check_dataset_values(app, dataset, diagnostics)
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


def _task_option_problem(key: str, code: Expression):
    ftype = TASK_OPTION_TYPES.get(key)
    value = literal_value(code) if ftype is not None else NOT_LITERAL
    if value is NOT_LITERAL:
        return None
    if ftype.kind == "list" and isinstance(value, tuple):
        value = list(value)
    problem = check(value, ftype, f"the task option `{key}=`")[1]
    if problem is None:
        return None
    return dataclasses.replace(problem, message=problem.message.replace("but the input is typed", "but it takes"))
