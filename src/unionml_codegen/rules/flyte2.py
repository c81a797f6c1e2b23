"""What the flyte2 target refuses or writes differently from flyte1 (the `flyte` 2.x SDK).

Both targets share extraction and validate.py's rules; this module adds the rules where Flyte 2 differs,
read from the SDK's source (flyte 2.12):

- task options: `@env.task` takes `cache` (a `flyte.Cache`), `retries`, `timeout` and
  `interruptible`; resources belong to the `TaskEnvironment`, and flytekit's other options
  (pod templates, secrets, images per task...) have no place in the generated tasks;
- `launchplan_kwargs`: a `flyte.Trigger` carries `labels`, `annotations`, `overwrite_cache` and
  `max_action_concurrency` (unionml's `max_parallelism`, which Flyte 2 takes as 0 or at least 2);
  the other launch plan settings have no trigger field;
- a reader that is a flytekit SQL task object cannot run under Flyte 2: the target runs a
  SQLite3Task's query itself (render/flyte2.py), so it needs the query, the database's uri and
  `compressed` as constants, pandas' DataFrame as the output, and no other task options; a
  SQLAlchemyTask (credentials, drivers) it refuses.
"""

from __future__ import annotations

from .. import codes
from ..diagnostics import Diagnostics
from ..spec import App, Component, SqlTask

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
