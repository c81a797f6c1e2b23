"""The flytekit 1.x project: its files, requirements and README, from the views decided once.

This module decides every file the flyte1 target writes and hands the names, imports and literals
to the Jinja2 templates, which only lay out text. Python files are formatted with black, once each,
except launch plans whose every value has a certain black form (format.py writes them in black's
style directly).
"""

from __future__ import annotations

from typing import Any

from ..rules import launchplan_kwargs
from ..names import Imports, literal
from ..options import RenderOptions
from ..requirements import distribution, pinned
from ..rules.model_sources import model_flavor
from ..spec import App
from . import readme
from .contexts import workflow_context
from .escape import python_comment
from .format import argument, black_literal, check_files, fits, formatted_python
from .templates import header_for, template
from .views import SUPPORT_NAMES, ModelView, Plan

PYTHON_IMAGE = "python:3.11-slim"


#: Modules generated only when the app needs them, and what each is for (for the generated README).
SUPPORT_MODULES = {
    "dataset_defaults.py": "unionml's default loader, splitter, parser and feature loader",
    "kickoff.py": "the scheduled time of fixed-rate runs, read from the execution",
    "model_files.py": "model files shipped in `models/`, their sha256, and how to load them",
    "model_registry.py": "model versions: the model of a training execution, fetched at run time",
    "torch_models.py": "how PyTorch modules move between tasks (state dict + hyperparameters)",
    "keras_models.py": "how Keras models move between tasks (a `.keras` file)",
}


def render_files(
    app: App, options: RenderOptions, models: list[ModelView], plans: list[Plan]
) -> dict[str, str | bytes]:
    """Every generated file, by its POSIX path relative to the output directory."""
    files: dict[str, str | bytes] = {}
    pkg = app.package
    header = header_for(options.source)

    workflows = _render_workflows(app, models, header)
    files[f"{pkg}/__init__.py"] = formatted_python(f"# {python_comment(header)}\n")
    files[f"{pkg}/components.py"] = formatted_python(
        template("components.py.jinja").render(header=header, source=options.source, code=app.components_code)
    )
    files[f"{pkg}/workflows.py"] = formatted_python(workflows)
    preformatted = _preformatted_launch_plans(app, plans, header)  # in black's style already, or None
    files[f"{pkg}/launch_plans.py"] = preformatted or formatted_python(_render_launch_plans(app, plans, header))
    if any(m.uses_defaults for m in models):
        files[f"{pkg}/dataset_defaults.py"] = formatted_python(
            template("dataset_defaults.py.jinja").render(header=header)
        )
    if any(m.uses_kickoff for m in models):
        files[f"{pkg}/kickoff.py"] = formatted_python(template("kickoff.py.jinja").render(header=header))
    if any(m.loads_files for m in models):
        files[f"{pkg}/model_files.py"] = formatted_python(_render_model_files(app, models, header))
    if any(m.moves_torch_modules for m in models):
        files[f"{pkg}/torch_models.py"] = formatted_python(template("torch_models.py.jinja").render(header=header))
    if any(m.moves_keras_models for m in models):
        files[f"{pkg}/keras_models.py"] = formatted_python(template("keras_models.py.jinja").render(header=header))
    if any(m.fetches_versions for m in models):
        files[f"{pkg}/model_registry.py"] = formatted_python(template("model_registry.py.jinja").render(header=header))
    for path, data in app.local_files.items():
        files[path] = data  # modules next to the app that the components import, copied as they are
    for reference in app.model_references.values():
        if reference.kind == "file":
            files[f"{pkg}/{reference.vendored}"] = reference.data
    files["requirements.txt"] = template("requirements.txt.jinja").render(
        header=header, requirements=_requirements(app, models)
    )
    files["Dockerfile"] = template("Dockerfile.jinja").render(header=header, python_image=PYTHON_IMAGE)
    extras = [(f"{pkg}/{name}", text) for name, text in SUPPORT_MODULES.items() if f"{pkg}/{name}" in files]
    files["README.md"] = template("README.md.jinja").render(
        header=header,
        app=app,
        package=pkg,
        models=models,
        plans=plans,
        image=options.image,
        register_flags=_register_flags(app, options),
        source=options.source,
        extras=extras,
        local_files=sorted(app.local_files),
        **_readme_views(plans, files[f"{pkg}/workflows.py"]),
    )
    check_files(files)
    return dict(sorted(files.items()))


def _register_flags(app: App, options: RenderOptions) -> list[str]:
    """`-p PROJECT -d DOMAIN` for the README's `pyflyte register`, where the operate commands deploy (the app's
    model.remote(...), else [tool.unionml-codegen]; operate/remote.py `namespace`); none left to pyflyte's defaults."""
    remote = app.remote
    flags = []
    for flag, name in (("-p", "project"), ("-d", "domain")):
        value = (getattr(remote, name) if remote is not None else None) or getattr(options, name)
        if value:
            flags += [flag, value]
    return flags


def _readme_views(plans: list[Plan], workflows: str) -> dict[str, Any]:
    """What the README shows besides the tables: timings in words and the Mermaid diagrams (readme.py)."""
    nodes = [
        readme.PlanNode(
            name=p.schedule.name,
            workflow=p.workflow,
            when=f"cron {p.schedule.expression}: {p.words}" if p.schedule.expression is not None else p.words,
            kickoff=_kickoff_shown(p),
            fixed_inputs=p.fixed_inputs,
        )
        for p in plans
    ]
    return {
        "plans_diagram": readme.plans_diagram(nodes),
        "max_diagram_plans": readme.MAX_DIAGRAM_PLANS,
        "workflow_diagrams": readme.workflow_diagrams(workflows),
    }


def _kickoff_shown(plan: Plan) -> str | None:
    if plan.kickoff_input:
        return f"{plan.kickoff_input} = the kickoff time"
    if plan.schedule.fixed_rate and plan.schedule.reader_time_arg:
        return f"{plan.schedule.reader_time_arg} = the scheduled time"
    return None


def _render_workflows(app: App, models: list[ModelView], header: str) -> str:
    imports = Imports()
    n = models[0].support if models else {name: name for name in SUPPORT_NAMES}

    def support(module: str, name: str, level: int = 0) -> None:
        if module or level:
            imports.add_from(module, name, None if n[name] == name else n[name], level)
        else:
            imports.add_import(name, None if n[name] == name else n[name])

    for name in ("task", "workflow"):
        support("flytekit", name)
    support("typing", "NamedTuple")
    support("", "components", level=1)
    contexts = [workflow_context(app, view, imports) for view in models]
    for flag, module in (("uses_defaults", "dataset_defaults"), ("uses_kickoff", "kickoff"),
                         ("loads_files", "model_files"), ("fetches_versions", "model_registry"),
                         ("moves_torch_modules", "torch_models"), ("moves_keras_models", "keras_models")):  # fmt: skip
        if any(getattr(view, flag) for view in models):
            support("", module, level=1)
    if any(view.uses_kickoff for view in models):
        support("typing", "Optional")
        support("datetime", "datetime")
    if any(context.resources for context in contexts):
        support("flytekit", "Resources")
    if any(context.transfer for context in contexts):
        support("typing", "Annotated")
    callbacks = any(context.callbacks for context in contexts)
    if callbacks:
        support("", "logging")
    return template("workflows.py.jinja").render(
        header=header, imports=imports.render(), models=contexts, callbacks=callbacks, n=n
    )


def _render_launch_plans(app: App, plans: list[Plan], header: str) -> str:
    imports = Imports()
    imports.add_from("flytekit", "LaunchPlan")
    imports.add_from("", "workflows", level=1)
    rendered = []
    for plan in plans:
        s = plan.schedule
        if s.expression is not None:
            imports.add_from("flytekit", "CronSchedule")
            arguments = [f"schedule={literal(s.expression)}"]  # an offset is dropped: see rules/schedules.py
            if plan.kickoff_input:
                arguments.append(f"kickoff_time_input_arg={literal(plan.kickoff_input)}")
            schedule = f"CronSchedule({', '.join(arguments)})"
        else:
            imports.add_from("flytekit", "FixedRate")
            schedule = f"FixedRate(duration={literal(s.fixed_rate, imports)})"
        rendered.append(
            {
                "plan": plan,
                "name": literal(s.name),
                "schedule": schedule,
                "fixed_inputs": literal(plan.fixed_inputs, imports),
                "auto_activate": literal(s.activate_on_deploy),
                "options": launchplan_kwargs.arguments(s.launchplan_kwargs, imports),
            }
        )
    return template("launch_plans.py.jinja").render(header=header, imports=imports.render(), plans=rendered)


def _preformatted_launch_plans(app: App, plans: list[Plan], header: str) -> str | None:
    """launch_plans.py as `_render_launch_plans` and black would write it, for plans whose every value
    has a certain black form (format.py); None otherwise, and black formats the file."""
    imports = Imports()
    imports.add_from("flytekit", "LaunchPlan")
    imports.add_from("", "workflows", level=1)
    rendered = []
    for plan in plans:
        s = plan.schedule
        if launchplan_kwargs.arguments(s.launchplan_kwargs, Imports()):
            return None
        literal(plan.fixed_inputs, imports)  # for the imports its values need
        if s.expression is not None:
            imports.add_from("flytekit", "CronSchedule")
            texts = [("schedule", s.expression)] + (
                [("kickoff_time_input_arg", plan.kickoff_input)] * bool(plan.kickoff_input)
            )
            values = [(key, black_literal(value)) for key, value in texts]
            if any(text is None for _, text in values):
                return None
            schedule = f"CronSchedule({', '.join(f'{key}={text}' for key, text in values)})"
        else:
            imports.add_from("flytekit", "FixedRate")
            duration = black_literal(s.fixed_rate)
            if duration is None:
                return None
            imports.add_from("datetime", "timedelta")
            schedule = f"FixedRate(duration={duration})"
        name, fixed_inputs, activate = (black_literal(v) for v in (s.name, plan.fixed_inputs, s.activate_on_deploy))
        if name is None or fixed_inputs is None or activate is None:
            return None
        fixed_inputs = argument("fixed_inputs", fixed_inputs, plan.fixed_inputs)
        if fixed_inputs is None:
            return None
        rendered.append(
            {"plan": plan, "name": name, "schedule": schedule, "fixed_inputs": fixed_inputs,
             "auto_activate": activate, "options": []}
        )  # fmt: skip
    code = template("launch_plans.py.jinja").render(header=header, imports=imports.render(), plans=rendered)
    return code if fits(code) else None


def _render_model_files(app: App, models: list[ModelView], header: str) -> str:
    vendored = {
        r.vendored: {"source": r.source, "sha256": r.sha256, "size": r.size}
        for r in app.model_references.values()
        if r.kind == "file"
    }
    flavors = {model_flavor(app, m.model) for m in models if m.loads_files}
    return template("model_files.py.jinja").render(
        header=header, manifest=literal(dict(sorted(vendored.items()))), flavors=sorted(flavors)
    )


def _requirements(app: App, models: list[ModelView]) -> list[str]:
    names = {distribution(module) for module in app.third_party_modules} - {"flytekit"}
    names.add("flytekit>=1.16,<2")  # the app's own flytekit import too: one line, the versions the project supports
    flavors = {model_flavor(app, m.model) for m in models if m.loads_files}
    flavors |= {model_flavor(app, m.model) for m in models if m.moves_torch_modules or m.moves_keras_models}
    names |= {{"sklearn": "joblib", "pytorch": "torch", "keras": "keras"}[f] for f in flavors if f != "custom"}
    if "pandas" in app.third_party_modules:
        names.add("pyarrow")  # flytekit writes DataFrames between tasks as parquet
    # the versions the app's own project pins (requirements.py); flytekit keeps the range the project supports
    lines = {name if name.startswith("flytekit") else pinned(name, app.requirement_pins) for name in names}
    return sorted(lines, key=str.lower)
