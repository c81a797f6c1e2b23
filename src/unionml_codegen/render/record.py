"""What the manifest records about the generated project's schedules, for the commands that operate it.

`unionml schedules`, `run`, `backfill`, `deploy`, ... read the generated project's manifest, never
the app: everything they need about a schedule is written here, in the app's order, as plain JSON.

- `project`: the package, and per model its training and prediction workflows (registered names);
- `schedules`: per schedule its name and kind, the model, the launch plan (module and attribute),
  the workflow it runs, the input a local run passes the kickoff time to, the schedule (a cron string
  or a fixed rate in seconds, and an offset the scheduler ignores), the kickoff input (cron plans),
  `activate_on_deploy`, the fixed inputs, the model source of a prediction schedule and the outputs.

Fixed inputs that JSON cannot hold exactly (a `datetime`, a `timedelta`, a tuple, a float that is not
finite, a dict with keys that are not strings) are left out of `fixed_inputs` and recorded in
`fixed_inputs_python` as the Python literal the launch plan has, so nothing is silently changed.
"""

from __future__ import annotations

from typing import Any

from ..names import json_and_python
from ..spec import App
from .views import ModelView, Plan

#: The outputs of a training workflow, unionml's `{model}.train` (DESIGN.md), and of a prediction workflow.
TRAINING_OUTPUTS = ("model_object", "hyperparameters", "metrics")
PREDICTION_OUTPUTS = ("o0",)


def schedules_record(
    app: App, views: list[ModelView], plans: list[Plan], flyte2: tuple[str, dict[str, str]] | None = None
) -> dict[str, Any]:
    """The `project` and `schedules` sections of the manifest, from the views the files were rendered from.

    `flyte2`: the drivers' environment name and each schedule's trigger variable in triggers.py, for a
    flyte2 project: a "workflow" is then the task a trigger runs, registered as `ENVIRONMENT.FUNCTION`
    (the work tasks' environment is `ENVIRONMENT-work`), and the "launch plan" is the trigger."""
    package = app.package
    by_model = {view.model.variable: view for view in views}

    def registered(name: str, work: bool = False) -> str:
        if flyte2 is not None:
            return f"{flyte2[0]}{'-work' if work else ''}.{name}"
        return f"{package}.workflows.{name}"

    models = []
    for view in views:
        training = [registered(v.name) for v in view.variants.values() if v.purpose == "train"]
        prediction = [registered(v.name) for v in view.variants.values() if v.purpose != "train"]
        if view.serves_features:
            prediction.insert(1, registered(view.predict_from_features_workflow, work=flyte2 is not None))
        models.append(
            {
                "name": view.model.name,
                "training_workflow": registered(view.variants[("train", None)].name),
                # null when the predict workflows are left out (views.ModelView.predicts)
                "prediction_workflow": registered(view.variants[("predict", None)].name) if view.predicts else None,
                "training_workflows": training,
                "prediction_workflows": prediction,
            }
        )
    schedules = []
    for plan in plans:
        s = plan.schedule
        view = by_model[s.model]
        variant = view.variant(s)
        direct = view.variants.get((variant.purpose, None)) if variant.time_arg else None
        if s.expression is not None:
            schedule: dict[str, Any] = {"cron": s.expression}
        else:
            schedule = {"fixed_rate_seconds": int(s.fixed_rate.total_seconds())}
        schedule["offset"] = s.offset
        fixed, python = json_and_python(plan.fixed_inputs)
        schedules.append(
            {
                "name": s.name,
                "kind": s.kind,
                "model": view.model.name,
                "launch_plan": (
                    {"module": f"{package}.triggers", "attribute": flyte2[1][s.name]}
                    if flyte2 is not None
                    else {"module": f"{package}.launch_plans", "attribute": plan.variable}
                ),
                "workflow": registered(plan.workflow),
                # fixed-rate plans: the workflow that takes the reader's time as an input (None when the
                # project has none: then a run passes the time to the plan's workflow as `run_kickoff_input`)
                "time_workflow": registered(direct.name) if direct is not None else None,
                "time_input": s.reader_time_arg,
                "run_kickoff_input": plan.run_kickoff,
                "schedule": schedule,
                "kickoff_input": plan.kickoff_input,
                "activate_on_deploy": s.activate_on_deploy,
                "fixed_inputs": fixed,
                "fixed_inputs_python": python,
                "model_source": _model_source(app, s.name) if s.kind == "prediction" else None,
                "outputs": list(TRAINING_OUTPUTS if s.kind == "training" else PREDICTION_OUTPUTS),
            }
        )
    return {"project": {"package": package, "models": models}, "schedules": schedules}


def _model_source(app: App, name: str) -> dict[str, Any]:
    reference = app.model_references[name]
    if reference.kind == "file":
        return {
            "kind": "file",
            "source": reference.source,
            "vendored": f"{app.package}/{reference.vendored}",
            "sha256": reference.sha256,
            "size": reference.size,
        }
    if reference.kind == "uri":
        return {"kind": "uri", "uri": reference.source}
    return {
        "kind": "version",
        "version": reference.source,
        "app_version": reference.app_version or "",
        "latest": reference.source == "latest",
    }
