"""Render a checked `App` into the generated project's files, and the manifest's record of them.

views.py decides every name and launch plan once; flyte1.py and flyte2.py lay out each target's
files from them (contexts.py builds what the templates show, templates.py and format.py turn it
into text); record.py writes the manifest's project and schedules sections from the same views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..options import DEFAULT_TARGET, RenderOptions
from ..spec import App
from . import flyte1, flyte2
from .record import schedules_record
from .views import launch_plans, model_views

__all__ = ["Rendered", "render_project"]


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str | bytes]  # every generated file but the manifest, by POSIX path in OUT
    record: dict[str, Any]  # what the manifest records about the project and its schedules (record.py)


def render_project(app: App, options: RenderOptions, target: str = DEFAULT_TARGET) -> Rendered:
    """The project for `target`, and the manifest's record of its schedules, which the operate commands read."""
    if target == "flyte2":
        views, triggers = flyte2.views_and_triggers(app)
        variables = {trigger.plan.schedule.name: trigger.variable for trigger in triggers}
        record = schedules_record(app, views, [trigger.plan for trigger in triggers],
                                  flyte2=(flyte2.environment_name(app.package), variables))  # fmt: skip
        return Rendered(flyte2.render_files(app, options), record)
    views = model_views(app)
    plans = launch_plans(app, views)
    return Rendered(flyte1.render_files(app, options, views, plans), schedules_record(app, views, plans))
