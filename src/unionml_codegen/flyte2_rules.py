"""What the flyte2 target refuses or writes differently from flyte1 (the `flyte` 2.x SDK).

Both targets share extraction and validate.py; this module adds the rules where Flyte 2 differs,
read from the SDK's source (flyte 2.12):

- task options: `@env.task` takes `cache` (a `flyte.Cache`), `retries`, `timeout` and
  `interruptible`; resources belong to the `TaskEnvironment`, and flytekit's other options
  (pod templates, secrets, images per task...) have no place in the generated tasks;
- `launchplan_kwargs`: a `flyte.Trigger` carries `labels`, `annotations`, `overwrite_cache` and
  `max_action_concurrency` (unionml's `max_parallelism`, which Flyte 2 takes as 0 or at least 2);
  the other launch plan settings have no trigger field;
- a reader that is a flytekit task object (`Dataset.from_sqlite_task`) cannot run under Flyte 2.
"""

from __future__ import annotations

from . import codes
from .diagnostics import Diagnostics
from .spec import App, Component

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
        if dataset.reader_is_task:
            reader = dataset.components["reader"]
            diagnostics.error(
                codes.FLYTE2_TASK_READER,
                reader.position,
                f"the dataset '{dataset.name}' reads with a flytekit task ({reader.function.name}); the flyte2 "
                "target cannot run a flytekit 1.x task",
                "read the data with a plain `@dataset.reader` function, or generate with --target flyte1",
            )
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
