"""What the flyte2 target refuses or writes differently from flyte1 (the `flyte` 2.x SDK).

Both targets share extraction and validate.py's rules; this module adds the rules where Flyte 2 differs,
read from the SDK's source (flyte 2.12):

- task options: `@env.task` takes `cache` (a `flyte.Cache`), `retries`, `timeout` and
  `interruptible`; resources belong to the `TaskEnvironment`, and flytekit's other options
  (pod templates, secrets, images per task...) have no place in the generated tasks;
- `launchplan_kwargs`: a `flyte.Trigger` carries `labels`, `annotations`, `overwrite_cache` and
  `max_action_concurrency` (unionml's `max_parallelism`, which Flyte 2 takes as 0 or at least 2);
  the other launch plan settings have no trigger field;
- a trigger's default is converted with the type its task declares (render/flyte2.py writes it as
  `trigger_inputs.Typed`), by the SDK's union transformer where the type is a union: a value that more
  than one member takes, when its own type is none of them (`[]` for `Union[List[int], List[str]]`),
  the SDK refuses as ambiguous, so the generator refuses it at the schedule;
- a reader that is a flytekit SQL task object cannot run under Flyte 2: the target runs a
  SQLite3Task's query itself (render/flyte2.py), so it needs the query, the database's uri and
  `compressed` as constants, pandas' DataFrame as the output, and no other task options; a
  SQLAlchemyTask (credentials, drivers) it refuses.
"""

from __future__ import annotations

import ast
from typing import Any

from .. import codes
from ..diagnostics import Diagnostics
from ..spec import App, Component, Schedule, SqlTask
from .flyte_values import PYTHON_TYPES, UNKNOWN, FlyteType, check, show
from .inputs import schedule_input_types

#: flytekit `@task` options the flyte2 target carries over, and what each becomes.
TASK_OPTIONS = ("cache", "cache_version", "cache_serialize", "cache_ignore_input_vars", "retries", "timeout",
                "interruptible")  # fmt: skip
RESOURCE_OPTIONS = ("requests", "limits", "resources")
#: `launchplan_kwargs` a trigger has a field for.
TRIGGER_SETTINGS = ("labels", "annotations", "overwrite_cache", "max_parallelism", "fixed_inputs")


def check_flyte2(app: App, diagnostics: Diagnostics) -> None:
    for spec in [*app.datasets.values(), *app.models.values()]:
        for component in spec.components.values():
            _task_options(component, diagnostics)
    for dataset in app.datasets.values():
        if dataset.sql_task is not None:
            _sql_task(dataset.sql_task, diagnostics)
    for schedule in app.schedules:
        kwargs = schedule.launchplan_kwargs
        others = [key for key in kwargs if key not in TRIGGER_SETTINGS]
        if others:
            diagnostics.error(
                codes.FLYTE2_TRIGGER_SETTING,
                schedule.at("launchplan_kwargs"),
                f"launchplan_kwargs {', '.join(repr(k) for k in others)}: a Flyte 2 trigger has no such setting",
                "the flyte2 target carries labels, annotations, overwrite_cache, max_parallelism (as "
                "max_action_concurrency) and fixed_inputs; drop the others or generate with --target flyte1",
            )
        _trigger_values(app, schedule, diagnostics)
        if kwargs.get("max_parallelism") == 1:
            diagnostics.error(
                codes.FLYTE2_TRIGGER_SETTING,
                schedule.at("launchplan_kwargs"),
                "launchplan_kwargs['max_parallelism'] is 1; Flyte 2's max_action_concurrency must be at least 2 "
                "(one slot is held by the run's own task while its tasks run)",
                "give 2 or more",
            )


def _task_options(component: Component, diagnostics: Diagnostics) -> None:
    keys = [key for key, _ in component.task_options]
    resources = [key for key in keys if key in RESOURCE_OPTIONS]
    if resources:
        diagnostics.error(
            codes.FLYTE2_TASK_OPTION,
            component.position,
            f"`{resources[0]}=` of the {component.role}: Flyte 2 gives resources to a TaskEnvironment, not to "
            "one task",
            "drop it: the generated environment requests unionml's cpu=1, mem=1Gi for every task; or generate "
            "with --target flyte1",
        )
    others = [key for key in keys if key not in TASK_OPTIONS and key not in RESOURCE_OPTIONS]
    if others:
        diagnostics.error(
            codes.FLYTE2_TASK_OPTION,
            component.position,
            f"`{others[0]}=` of the {component.role} is a flytekit 1.x task option the flyte2 target does not carry",
            f"the flyte2 target carries {', '.join(TASK_OPTIONS)}; drop the others or generate with --target flyte1",
        )
    options = dict(component.task_options)
    cache = options.get("cache")
    if cache is not None and cache.text not in ("True", "False"):
        diagnostics.error(
            codes.FLYTE2_TASK_OPTION,
            component.position,
            f"`cache={cache.text}` of the {component.role}: the flyte2 target needs True or False to choose the "
            "flyte.Cache behaviour",
            "write cache=True or cache=False",
        )
    for key in ("cache_version", "cache_serialize", "cache_ignore_input_vars"):
        if key in options and (cache is None or cache.text != "True"):
            diagnostics.error(
                codes.FLYTE2_TASK_OPTION,
                component.position,
                f"`{key}=` of the {component.role} without `cache=True`",
                "give cache=True too, or drop it",
            )


def _sql_task(task: SqlTask, diagnostics: Diagnostics) -> None:
    """What the flyte2 target needs to run a SQL task's query without flytekit."""
    otherwise = "or generate with --target flyte1 (which keeps the flytekit task)"
    if task.kind != "sqlite":
        diagnostics.error(
            codes.FLYTE2_TASK_READER,
            task.position,
            f"the SQL task '{task.variable}' is a SQLAlchemyTask; the flyte2 target runs SQLite queries only",
            f"read the data with a plain `@dataset.reader` function (e.g. with sqlalchemy and pandas), {otherwise}",
        )
        return
    for argument, why, position in task.unreadable:
        diagnostics.error(
            codes.FLYTE2_TASK_READER,
            position,
            f"the SQLite3Task '{task.variable}': {why}; the flyte2 target writes the query and the database into "
            "the reader task it runs instead",
            f"give `{argument}` as a literal or a module-level constant assigned from literals, {otherwise}",
        )
    if not task.returns_dataframe:
        diagnostics.error(
            codes.FLYTE2_TASK_READER,
            task.position,
            f"the SQLite3Task '{task.variable}' does not read its results as a pandas DataFrame; the flyte2 target "
            "reads them with pandas.read_sql_query",
            f"pass `output_schema_type=pd.DataFrame`, {otherwise}",
        )
    for argument, position in task.other_arguments:
        diagnostics.error(
            codes.FLYTE2_TASK_READER,
            position,
            f"`{argument}=` of the SQLite3Task '{task.variable}' is a flytekit task option the flyte2 target does "
            "not carry",
            f"drop it, {otherwise}",
        )


def _trigger_values(app: App, schedule: Schedule, diagnostics: Diagnostics) -> None:
    """The schedule's values the flyte SDK would refuse when `flyte deploy` converts the trigger's defaults."""
    if schedule.model not in app.models:
        return
    types = schedule_input_types(app, schedule)
    given = [(name, value, f"the reader's {name}", schedule.at(name)) for name, value in schedule.reader_kwargs.items()]
    given += [(name, value, f"trainer_kwargs[{name!r}]", schedule.at("trainer_kwargs"))
              for name, value in schedule.trainer_kwargs.items()]  # fmt: skip
    fixed = schedule.launchplan_kwargs.get("fixed_inputs")
    if isinstance(fixed, dict):
        given += [(name, value, f"launchplan_kwargs['fixed_inputs'][{name!r}]", schedule.at("launchplan_kwargs"))
                  for name, value in fixed.items()]  # fmt: skip
    for name, value, where, at in given:
        found = _ambiguous(value, types.get(name, UNKNOWN), "")
        if found is None:
            continue
        path, union, members = found
        diagnostics.error(
            codes.FLYTE2_TRIGGER_INPUT,
            at,
            f"{where}{path} is {_shown(_at(value, path) if path else value)}, which more than one member of "
            f"`{union.text}` takes ({', '.join(f'`{m.text}`' for m in members)}); the flyte SDK refuses such a "
            "union value as ambiguous when it converts the trigger",
            "type the input with one of them, or give a value only one of them takes (or generate with "
            "--target flyte1)",
        )


def _ambiguous(value: Any, ftype: FlyteType, path: str) -> tuple[str, FlyteType, list[FlyteType]] | None:
    """Where in `value` a union of `ftype` gets a value that several members take, as the flyte SDK's union
    transformer tries them: a member of the value's own type wins outright; otherwise every member that
    converts the value is a match, and more than one is refused (flyte 2.12, types/_type_engine.py)."""
    if ftype.kind == "list" and isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _ambiguous(item, ftype.args[0], f"{path}[{index}]")
            if found:
                return found
    elif ftype.kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            found = _ambiguous(item, ftype.args[1], f"{path}[{key!r}]")
            if found:
                return found
    elif ftype.kind == "union":
        own = [m for m in ftype.args if _own_type(value, m)]
        members = own[:1] or [m for m in ftype.args if check(value, m, "")[1] is None]
        if len(members) > 1:
            return path, ftype, members
        if members:
            return _ambiguous(value, members[0], path)
    return None


def _own_type(value: Any, member: FlyteType) -> bool:
    """Whether `member` is the value's own Python type, which the SDK's union transformer picks first."""
    if member.kind == "none":
        return value is None
    if member.kind == "struct":
        return type(value) is dict and member.text == "dict"
    return member.kind in PYTHON_TYPES and type(value) is PYTHON_TYPES[member.kind]


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{text} ({show(value)})" if len(text) <= 40 and isinstance(value, (list, dict)) else show(value)


def _at(value: Any, path: str) -> Any:
    """The part of `value` at `path` (as `_ambiguous` spells it: `[0]`, `['key']`)."""
    for step in path.removeprefix("[").removesuffix("]").split("]["):
        value = value[ast.literal_eval(step)]
    return value
