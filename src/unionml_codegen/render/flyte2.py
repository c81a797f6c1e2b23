"""Render the flyte2 target: the same validated `App` as a project for the `flyte` 2.x SDK.

Only rendering differs from the flyte1 target (flyte1.py), and this module reuses the decisions
both share: the names of every task (views.py, one namespace), the app code copied into them
(contexts.py), the dataset steps, and each schedule's fixed inputs (`launch_plans`). What changes:

- one `flyte.TaskEnvironment` per app (image from the project's requirements.txt, unionml's
  cpu=1/mem=1Gi as its resources) holds every task; flyte1's workflows become tasks that call the
  reader and training (or prediction) tasks, named as the workflows were;
- each schedule is one `flyte.Trigger` (triggers.py), named as the schedule, on the task its schedule
  runs: the reader's time argument is bound to `flyte.TriggerTime` for cron and fixed-rate
  schedules alike (Flyte 2 fills it at every fire), so no workflow reads the time from the execution;
- the generated modules import the package by its absolute name, as `flyte deploy PKG/tasks.py`
  loads tasks.py as a file;
- a dataset read by a flytekit SQLite3Task gets a reader task that runs the task's query with sqlite3
  and pandas as flytekit does (sqlite_query.py), from the query and database read statically;
- PyTorch and Keras models cross task boundaries as the SDK moves any type it has no transformer
  for, pickled (flyte1 needs transformers of its own, torch_models.py and keras_models.py, since
  flytekit's PyTorch transformer loads modules with `weights_only=True` and its Keras one needs
  tensorflow); the tasks run in one image, so the pickle's Python and classes match.

One job, the flyte2 project's files, kept in one module (just over 400 lines) because each file's context
reads the same per-model decisions; what it shares with flyte1 is in views.py and contexts.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..names import Imports, Namespace, identifier, literal
from ..options import RenderOptions
from ..requirements import distribution, pinned
from ..rules.flyte_values import read_annotation
from ..rules.model_sources import model_flavor
from ..spec import App, Component, Expression, SqlTask
from .contexts import CodeCopier, ModelContext, code_version, model_context
from .escape import markdown_code, python_comment
from .format import check_files, formatted_python
from .templates import header_for, template
from .views import ModelView, Plan, launch_plans, model_views

#: The flyte SDK the generated project is written for (and the range its requirements allow).
FLYTE_REQUIREMENT = "flyte>=2.12,<3"
PYTHON_VERSION = (3, 11)  # the task image's Python, as flyte1's Dockerfile (python:3.11-slim)
#: unionml's requests and limits for its tasks, as Flyte 2 spells them (on the work tasks' TaskEnvironment)
RESOURCES = 'Resources(cpu="1", memory="1Gi")'
#: The drivers' (the tasks named as unionml's workflows): a quarter of a CPU, as they compute nothing but wait
#: for the work tasks; the work's memory, as each imports the same modules (466 MiB for a Keras app on torch)
#: and the SDK hands it the data and the model passing between its tasks.
DRIVER_RESOURCES = 'Resources(cpu="250m", memory="1Gi")'
SUPPORT_MODULES = {
    "triggers.py": "one `flyte.Trigger` per schedule, named as the schedule",
    "trigger_inputs.py": "trigger defaults converted with their declared types, and the inputs a fire runs with",
    "dataset_defaults.py": "unionml's default loader, splitter, parser and feature loader",
    "model_files.py": "model files shipped in `models/`, their sha256, and how to load them",
    "model_registry.py": "model versions: the model of a training run, fetched at run time",
    "sqlite_query.py": "the app's SQLite queries, run as flytekit's SQLite3Task runs them",
}
#: Module-level names tasks.py binds itself, claimed before any model's names.
SUPPORT_NAMES = (
    "flyte", "env", "work_env", "Path", "NamedTuple", "Optional", "Annotated", "datetime", "logging",
    "logger", "after_prediction", "components", "dataset_defaults", "model_files", "model_registry",
    "sqlite_query", "triggers",
)  # fmt: skip
SUPPORT_IMPORTS = {
    "flyte": ("flyte", None), "Path": ("pathlib", "Path"),
    "NamedTuple": ("typing", "NamedTuple"), "Optional": ("typing", "Optional"), "Annotated": ("typing", "Annotated"),
    "datetime": ("datetime", "datetime"), "logging": ("logging", None),
}  # fmt: skip
#: Names triggers.py imports; trigger variables never take one of them.
TRIGGERS_IMPORTS = frozenset({"flyte", "datetime", "timedelta", "date"})


def render_files(app: App, options: RenderOptions) -> dict[str, str | bytes]:
    """Every generated file, by its POSIX path relative to the output directory."""
    files: dict[str, str | bytes] = {}
    pkg = app.package
    header = header_for(options.source, "Flyte 2")
    models, triggers = views_and_triggers(app)

    files[f"{pkg}/__init__.py"] = formatted_python(f"# {python_comment(header)}\n")
    files[f"{pkg}/components.py"] = formatted_python(
        template("components.py.jinja").render(header=header, source=options.source, code=app.components_code)
    )
    files[f"{pkg}/tasks.py"] = formatted_python(_render_tasks(app, models, triggers, header))
    files[f"{pkg}/triggers.py"] = formatted_python(_render_triggers(app, triggers, header))
    if triggers:
        files[f"{pkg}/trigger_inputs.py"] = formatted_python(
            template("flyte2/trigger_inputs.py.jinja").render(header=header)
        )
    if any(m.uses_defaults for m in models):
        files[f"{pkg}/dataset_defaults.py"] = formatted_python(
            template("dataset_defaults.py.jinja").render(header=header)
        )
    if any(m.loads_files for m in models):
        files[f"{pkg}/model_files.py"] = formatted_python(_render_model_files(app, models, header))
    if any(m.fetches_versions for m in models):
        files[f"{pkg}/model_registry.py"] = formatted_python(
            template("flyte2/model_registry.py.jinja").render(header=header)
        )
    if any(m.dataset.sql_task for m in models):
        files[f"{pkg}/sqlite_query.py"] = formatted_python(
            template("flyte2/sqlite_query.py.jinja").render(header=header)
        )
    for path, data in app.local_files.items():
        files[path] = data  # modules next to the app that the components import, copied as they are
    for reference in app.model_references.values():
        if reference.kind == "file":
            files[f"{pkg}/{reference.vendored}"] = reference.data
    files["requirements.txt"] = template("requirements.txt.jinja").render(
        header=header, requirements=_requirements(app, models)
    )
    extras = [(f"{pkg}/{name}", text) for name, text in SUPPORT_MODULES.items() if f"{pkg}/{name}" in files]
    files["README.md"] = template("flyte2/README.md.jinja").render(
        header=header,
        app=app,
        package=pkg,
        env=models[0].support["env"] if models else "env",
        work_env=models[0].support["work_env"] if models else "work_env",
        include_count=len(_bundled_files(app)),
        environment_name=environment_name(pkg),
        triggers=triggers,
        source=options.source,
        extras=extras,
        local_files=sorted(app.local_files),
    )
    check_files(files)
    return dict(sorted(files.items()))


def views_and_triggers(app: App) -> tuple[list[ModelView], list[_Trigger]]:
    """The model views and triggers the files are rendered from (record.py records them too)."""
    models = model_views(app, SUPPORT_NAMES, SUPPORT_IMPORTS, native_time=True, calls_sql_tasks=False)
    return models, _triggers(app, models)


def environment_name(package: str) -> str:
    """The drivers' `flyte.TaskEnvironment`'s name; Flyte 2 names each task `ENVIRONMENT.FUNCTION` after it
    (the work tasks' environment adds `-work`)."""
    return identifier(package).replace("_", "-")


def _bundled_files(app: App) -> list[str]:
    """The files (relative to OUT) a deploy must bundle beyond the modules the tasks import: the vendored
    model files and everything copied with the app's own modules (a helper package's data files, and modules
    imported only inside a function, which `flyte deploy`'s import following may miss)."""
    files = {f"{app.package}/{r.vendored}" for r in app.model_references.values() if r.kind == "file"}
    return sorted(files | set(app.local_files))


# triggers


@dataclass(frozen=True)
class _Trigger:
    """One schedule as a `flyte.Trigger`: the flyte1 target's launch plan, and where it now lands."""

    plan: Plan  # the schedule, the task it runs (`workflow`), its time input and its fixed inputs
    variable: str  # in triggers.py
    #: the inputs whose default is written as `trigger_inputs.Typed(ANNOTATION, value)`, by name: their
    #: annotations, as the task declares them
    typed: dict[str, Expression] = field(default_factory=dict)

    @property
    def schedule(self):
        return self.plan.schedule

    @property
    def task(self) -> str:
        return self.plan.workflow

    @property
    def time_input(self) -> str | None:
        return self.plan.kickoff_input

    @property
    def cadence(self) -> str:
        s = self.schedule
        if s.expression is not None:
            return f"cron {markdown_code(s.expression)} (UTC)"
        return f"every {_minutes(s)} minutes"


def _triggers(app: App, models: list[ModelView]) -> list[_Trigger]:
    plans = launch_plans(app, models)  # with native_time, every plan's kickoff input is the reader's time argument
    typed = [_typed_inputs(app, plan) for plan in plans]
    names = {name for annotations in typed for code in annotations.values() for name in code.names}
    space = Namespace(TRIGGERS_IMPORTS | {"trigger_inputs"} | names)  # the annotations' names stay theirs
    return [_Trigger(plan, space.claim(identifier(plan.schedule.name)), t) for plan, t in zip(plans, typed)]


#: Declared kinds (flyte_values.FlyteType) whose values the SDK converts differently by their own Python type:
#: a list is pickled, a typed dict not converted, a union member not wrapped as the union, an app type unknown.
DECLARED_KINDS = frozenset({"list", "map", "union", "unknown"})


def _typed_inputs(app: App, plan: Plan) -> dict[str, Expression]:
    """The fixed inputs of a trigger that must be converted with the type their task declares (`Typed`), with
    those annotations: the reader's parameters and the trainer's keyword arguments, as the task copies them."""
    model = app.models[plan.schedule.model]
    parameters = list(app.datasets[model.dataset].components["reader"].function.parameters)
    if plan.schedule.kind == "training":
        parameters += list(model.components["trainer"].function.keyword_only)
    annotations = {p.name: p.annotation for p in parameters if p.annotation is not None}
    return {
        name: annotations[name]
        for name in plan.fixed_inputs
        if name in annotations and read_annotation(annotations[name], app.imports).kind in DECLARED_KINDS
    }


def _minutes(schedule) -> int:
    return int(schedule.fixed_rate.total_seconds()) // 60  # whole minutes, 1 or more: rules/schedules.py


def _render_triggers(app: App, triggers: list[_Trigger], header: str) -> str:
    imports = Imports(local=app.package)
    imports.add_import("flyte")
    copy = _Flyte2Copier(app, imports, {})
    if any(trigger.typed for trigger in triggers):
        imports.add_from(app.package, "trigger_inputs")
    rendered = []
    for trigger in triggers:
        s = trigger.schedule
        if s.expression is not None:
            automation = f'flyte.Cron({literal(s.expression)}, timezone="UTC")'
        else:
            automation = f"flyte.FixedRate({_minutes(s)})"
        inputs = [f"{literal(trigger.time_input)}: flyte.TriggerTime"] if trigger.time_input else []
        for key, value in trigger.plan.fixed_inputs.items():
            if key in trigger.typed:
                inputs.append(
                    f"{literal(key)}: trigger_inputs.Typed({copy(trigger.typed[key])}, {literal(value, imports)})"
                )
            else:
                inputs.append(f"{literal(key)}: {literal(value, imports)}")
        options = _trigger_options(s.launchplan_kwargs)
        rendered.append(
            {
                "variable": trigger.variable,
                "name": literal(s.name),
                "automation": automation,
                "inputs": "{" + ", ".join(inputs) + "}",
                "auto_activate": literal(s.activate_on_deploy),
                "options": options,
                "comment": f"{s.kind} schedule: runs tasks.{trigger.task}",
            }
        )
    return template("flyte2/triggers.py.jinja").render(header=header, imports=imports.render(), triggers=rendered)


def _trigger_options(kwargs: dict) -> list[str]:
    """`flyte.Trigger` arguments for the launchplan_kwargs a trigger has (rules/flyte2.py refuses the others)."""
    options = []
    for key in ("labels", "annotations"):
        if key in kwargs:
            options.append(f"{key}={literal(dict(sorted(kwargs[key].items())))}")
    if "overwrite_cache" in kwargs:
        options.append(f"overwrite_cache={literal(kwargs['overwrite_cache'])}")
    if "max_parallelism" in kwargs:
        options.append(f"max_action_concurrency={literal(kwargs['max_parallelism'])}")
    return options


# tasks


class _Flyte2Copier(CodeCopier):
    """Copies app code into tasks.py: the package's own modules by their absolute names, and flytekit's
    task options as `@env.task` takes them (rules/flyte2.py refuses those it has no place for)."""

    def __init__(self, app: App, imports: Imports, support: dict[str, str]):
        super().__init__(app, imports, support)

    def __call__(self, code: Expression | None) -> str | None:
        if code is None:
            return None
        package = self.app.package
        for name in sorted(code.names):
            binding = self.app.imports.get(name)
            if binding is None:
                if name in self.app.component_names:
                    self.imports.add_from(f"{package}.components", name)
            elif binding.name is None:
                self.imports.add_import(binding.module, binding.alias)
            elif binding.level:  # `from .helpers import x`: the copy beside components.py
                module = f"{package}.{binding.module}" if binding.module else package
                self.imports.add_from(module, binding.name, binding.alias)
            else:
                self.imports.add_from(binding.module, binding.name, binding.alias)
        return code.text

    def task_options(self, component: Component) -> str:
        options = dict(component.task_options)
        flyte = self.support["flyte"]
        result = []
        cache = options.get("cache")
        if cache is not None:
            extra = [(key, options[key]) for key in ("cache_version", "cache_serialize", "cache_ignore_input_vars")
                     if key in options]  # fmt: skip
            if cache.text != "True":
                result.append('cache="disable"')
            else:
                # "auto" hashes only the generated wrapper's body (`return components.reader(...)`): the salt is
                # the version of the code the project copies (render.code_version), as flyte1's cache_version
                arguments = {"cache_version": "version_override", "cache_serialize": "serialize",
                             "cache_ignore_input_vars": "ignored_inputs"}  # fmt: skip
                behavior = '"override"' if "cache_version" in options else '"auto"'
                parts = [f"behavior={behavior}"] + [f"{arguments[key]}={self(code)}" for key, code in extra]
                if "cache_version" not in options:
                    parts.append(f"salt={literal(code_version(self.app))}")
                result.append(f"cache={flyte}.Cache({', '.join(parts)})")
        for key in ("retries", "timeout", "interruptible"):
            if key in options:
                result.append(f"{key}={self(options[key])}")
        return ", ".join(result)


def _render_tasks(app: App, models: list[ModelView], triggers: list[_Trigger], header: str) -> str:
    pkg = app.package
    imports = Imports(local=pkg)
    n = models[0].support if models else {name: name for name in SUPPORT_NAMES}

    def support(module: str, name: str) -> None:
        alias = None if n[name] == name else n[name]
        if module:
            imports.add_from(module, name, alias)
        else:
            imports.add_import(name, alias)

    support("", "flyte")
    support("pathlib", "Path")
    support("typing", "NamedTuple")
    support(pkg, "components")
    support(pkg, "triggers")
    contexts = [_context(app, view, imports) for view in models]
    for flag, module in (("uses_defaults", "dataset_defaults"), ("loads_files", "model_files"),
                         ("fetches_versions", "model_registry")):  # fmt: skip
        if any(getattr(view, flag) for view in models):
            support(pkg, module)
    if any(view.dataset.sql_task for view in models):
        support(pkg, "sqlite_query")
    callbacks = any(context.callbacks for context in contexts)
    if callbacks:
        support("", "logging")
    on_task: dict[str, list[str]] = {}
    for trigger in triggers:
        on_task.setdefault(trigger.task, []).append(f"{n['triggers']}.{trigger.variable}")
    return template("flyte2/tasks.py.jinja").render(
        header=header,
        package=pkg,
        imports=imports.render(),
        models=contexts,
        callbacks=callbacks,
        n=n,
        environment=literal(environment_name(pkg)),
        work_environment=literal(environment_name(pkg) + "-work"),
        python_version=literal(PYTHON_VERSION),
        resources=f"{n['flyte']}.{RESOURCES}",
        driver_resources=f"{n['flyte']}.{DRIVER_RESOURCES}",
        include=literal(tuple(_bundled_files(app))) if _bundled_files(app) else None,
        triggers={task: f"({', '.join(names)},)" for task, names in on_task.items()},
    )


def _context(app: App, view: ModelView, imports: Imports) -> ModelContext:
    context = model_context(view, _Flyte2Copier(app, imports, view.support), transfers_models=False)
    reader = context.reader
    if view.dataset.sql_task is not None:
        reader = replace(reader, reads=_sqlite_query(view.dataset.sql_task, view.support["sqlite_query"]))
    # the training task's runs are the model versions; resources belong to the TaskEnvironment
    return replace(context, reader=reader, training_launch_plans=_training_task(view), resources=False)


def _sqlite_query(task: SqlTask, module: str) -> str:
    """The reader task's body for a SQLite3Task: its query and database, as the app wrote them."""
    inputs = "{" + ", ".join(f"{literal(name)}: {name}" for name in task.query_inputs) + "}"
    return (
        f"{module}.read({literal(task.query_template)}, uri={literal(task.uri)}, compressed={literal(task.compressed)}, "
        f"inputs={inputs})"
    )


def _training_task(view: ModelView) -> str:
    """The task whose runs produce this model (a model version names one of them): with the time bound
    natively there is one training task per model."""
    [task] = [v.name for v in view.variants.values() if v.purpose == "train"]
    return task


def _render_model_files(app: App, models: list[ModelView], header: str) -> str:
    vendored = {
        r.vendored: {"source": r.source, "sha256": r.sha256, "size": r.size}
        for r in app.model_references.values()
        if r.kind == "file"
    }
    flavors = {model_flavor(app, m.model) for m in models if m.loads_files}
    return template("flyte2/model_files.py.jinja").render(
        header=header, manifest=literal(dict(sorted(vendored.items()))), flavors=sorted(flavors)
    )


def _requirements(app: App, models: list[ModelView]) -> list[str]:
    names = {distribution(module) for module in app.third_party_modules} - {"flyte"}
    names.add(FLYTE_REQUIREMENT)
    flavors = {model_flavor(app, m.model) for m in models if m.loads_files}
    names |= {{"sklearn": "joblib", "pytorch": "torch", "keras": "keras"}[f] for f in flavors if f != "custom"}
    if "pandas" in app.third_party_modules:
        names.add("pyarrow")  # flyte writes DataFrames between tasks as parquet
    lines = {name if name.startswith("flyte>") else pinned(name, app.requirement_pins) for name in names}
    return sorted(lines, key=str.lower)
