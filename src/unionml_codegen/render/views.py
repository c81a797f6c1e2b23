"""The names and launch plans of the generated project, decided once for the files and the manifest.

`model_views` gives one `ModelView` per model: every module-level name of the generated workflows
(or flyte2 tasks) module claimed in one namespace, the workflow variants its schedules need (train,
predict, with a model file or a model version, at a fixed rate's scheduled time). `launch_plans`
gives one `Plan` per schedule: its variable, the workflow it runs, its kickoff input and its fixed
inputs. The flyte1 files (flyte1.py), the flyte2 files (flyte2.py) and the manifest's schedules
(record.py) all read these, so a name is decided in one place.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..names import Namespace, class_name, identifier, unique
from ..rules.model_sources import model_flavor
from ..spec import KICKOFF_INPUT, App, DatasetSpec, Expression, Component, ModelSpec, Schedule
from . import readme
from .escape import markdown_code

PURPOSES = {
    "train": "train",
    "predict": "predict",
    "predict_file": "predict_with_model_file",
    "predict_version": "predict_with_model_version",
}


@dataclass(frozen=True)
class Variant:
    """One generated workflow: unionml's train or predict, fed as its schedules need."""

    name: str
    purpose: str
    time_arg: str | None  # a reader parameter filled from the execution's scheduled time


#: Module-level names workflows.py binds itself (imports and helpers); claimed before any model's names,
#: each under another name where the app brings the same name into the module.
SUPPORT_NAMES = (
    "task", "workflow", "Resources", "NamedTuple", "Optional", "Annotated", "datetime", "logging", "logger",
    "after_prediction", "components", "dataset_defaults", "kickoff", "model_files", "model_registry", "torch_models",
    "keras_models",
)  # fmt: skip


def model_views(
    app: App,
    support_names: tuple[str, ...] = SUPPORT_NAMES,
    support_imports: dict[str, tuple[str, str | None]] | None = None,
    *,
    native_time: bool = False,
    calls_sql_tasks: bool = True,
) -> list[ModelView]:
    """One view per model, every generated name in workflows.py claimed in one namespace: two models (or
    datasets) whose names give the same identifier get numbered names (rules/clashes.py warns).

    The flyte2 target (render_flyte2.py) claims its own support names first, binds the reader's time
    argument of every schedule natively (`native_time`: no workflows that read it from the execution),
    and reads a SQL dataset with a reader task of its own (not `calls_sql_tasks`: flytekit's task object
    is not there to call)."""
    app_names = _app_names_in_workflows(app)
    space = Namespace(app_names - _same_imports(app, support_imports or SUPPORT_IMPORTS))
    support = {name: space.claim(name) for name in support_names}
    bases = unique(identifier(model.name) for model in app.models.values())
    readers: dict[str, str] = {}
    dataset_bases = dict(zip(app.datasets, unique(identifier(d.name) for d in app.datasets.values())))
    views = []
    for model, base in zip(app.models.values(), bases):
        dataset = app.datasets[model.dataset]
        calls_task = dataset.reader_is_task and calls_sql_tasks
        defines_reader = model.dataset not in readers and not calls_task
        if calls_task:  # a flytekit task object of the app (an SQL task) is the reader node itself
            readers[model.dataset] = f"{support['components']}.{dataset.components['reader'].function.name}"
        elif defines_reader:
            readers[model.dataset] = space.claim(f"{dataset_bases[model.dataset]}_reader")
        view = ModelView(app, model, base, space, support, readers[model.dataset], defines_reader, native_time)
        views.append(view)
        kwonly = {p.name for p in view.trainer.function.keyword_only}
        reader_inputs = {p.name for p in view.reader.function.parameters}
        # local names in the train task and the workflows, clear of the parameters and names around them
        view.data_local = Namespace(app_names | kwonly | reader_inputs).claim("data")
        train_space = Namespace(app_names | kwonly | {"hyperparameters", *TRAIN_KWARGS})
        view.train_locals = {name: train_space.claim(name) for name in TRAIN_LOCALS}
    return views


#: Where the support names that workflows.py imports come from.
SUPPORT_IMPORTS = {
    "task": ("flytekit", "task"), "workflow": ("flytekit", "workflow"), "Resources": ("flytekit", "Resources"),
    "NamedTuple": ("typing", "NamedTuple"), "Optional": ("typing", "Optional"),
    "Annotated": ("typing", "Annotated"), "datetime": ("datetime", "datetime"), "logging": ("logging", None),
}  # fmt: skip


def _same_imports(app: App, support_imports: dict[str, tuple[str, str | None]]) -> set[str]:
    """Support names the app imports from the same place (`from datetime import datetime`): one import serves both."""
    same = set()
    for name, (module, imported) in support_imports.items():
        binding = app.imports.get(name)
        if binding is not None and (binding.module, binding.name, binding.level) == (module, imported, 0):
            same.add(name)
    return same


def _app_names_in_workflows(app: App) -> set[str]:
    """Names the app's code brings into workflows.py (annotations, defaults, task options, `init`,
    callbacks) and the parameter names of the tasks and workflows made from the reader and trainer."""
    names: set[str] = set()
    codes: list[Expression | None] = [model.init for model in app.models.values()]
    for spec in [*app.datasets.values(), *app.models.values()]:
        for component in spec.components.values():
            codes += [code for _, code in component.task_options] + [*component.callbacks, component.function.returns]
            for parameter in component.function.parameters:
                codes += [parameter.annotation, parameter.default]
                if component.role in ("reader", "trainer"):
                    names.add(parameter.name)
    return names | {name.split(".")[0] for code in codes if code is not None for name in code.names}


TRAIN_KWARGS = ("loader_kwargs", "splitter_kwargs", "parser_kwargs")

#: The train task's local names (and its `data` parameter), renamed where the trainer's own parameters
#: or the app's names would otherwise be shadowed.
TRAIN_LOCALS = ("data", "splits", "parsed", "columns", "key", "split", "model_object", "metrics")


class ModelView:
    """Names and code pieces of one model's generated tasks and workflows."""

    def __init__(self, app: App, model: ModelSpec, base: str, space: Namespace, support: dict[str, str],
                 reader_task: str, defines_reader: bool, native_time: bool = False):  # fmt: skip
        self.app = app
        self.native_time = native_time  # the target binds a fixed-rate schedule's time itself (flyte2)
        self.model = model
        self.support = support  # the module-level names workflows.py binds itself
        self.dataset: DatasetSpec = app.datasets[model.dataset]
        self.name = base
        self.reader: Component = self.dataset.components["reader"]
        self.trainer: Component = model.components["trainer"]
        self.predictor: Component = model.components["predictor"]
        self.evaluator: Component = model.components["evaluator"]
        self.reader_task = reader_task
        self.defines_reader = defines_reader  # models that share a dataset share its reader task
        self.outputs_class = space.claim(class_name(base) + "Training")
        self.model_type_alias = space.claim(class_name(base) + "Model")  # PyTorch/Keras: Annotated with a transformer
        self.train_task = space.claim(f"{base}_train_task")
        self.predict_task = space.claim(f"{base}_predict_task")
        self.predict_from_features_task = space.claim(f"{base}_predict_from_features_task")
        self.predict_function = space.claim(f"predict_{base}")
        self.predict_with_file_task = space.claim(f"{base}_predict_with_model_file_task")
        self.predict_with_version_task = space.claim(f"{base}_predict_with_model_version_task")
        self.predict_from_features_workflow = space.claim(f"{base}_predict_from_features")
        self.schedules = [s for s in app.schedules if s.model == model.variable]
        self.references = {
            s.name: app.model_references[s.name] for s in self.schedules if s.name in app.model_references
        }
        keys = {("train", None), ("predict", None)} if self.predicts else {("train", None)}
        for schedule in self.schedules:
            keys.add(self.variant_key(schedule))
        self.variants: dict[tuple[str, str | None], Variant] = {}
        for purpose, time_arg in sorted(keys, key=lambda k: (list(PURPOSES).index(k[0]), k[1] or "")):
            name = f"{self.name}_{PURPOSES[purpose]}"
            if time_arg is not None:
                args = sorted({a for p, a in keys if p == purpose and a is not None})
                name += "_at_scheduled_time" if len(args) == 1 else f"_at_scheduled_{time_arg}"
            self.variants[(purpose, time_arg)] = Variant(space.claim(name), purpose, time_arg)

    def variant_key(self, schedule: Schedule) -> tuple[str, str | None]:
        time_arg = schedule.reader_time_arg if schedule.fixed_rate is not None and not self.native_time else None
        if schedule.kind == "training":
            return ("train", time_arg)
        reference = self.app.model_references[schedule.name]
        return ("predict_version" if reference.kind == "version" else "predict_file", time_arg)

    def variant(self, schedule: Schedule) -> Variant:
        return self.variants[self.variant_key(schedule)]

    @property
    def uses_defaults(self) -> bool:
        roles = self.dataset.components
        return not all(role in roles for role in ("loader", "splitter", "parser", "feature_loader"))

    @property
    def predicts(self) -> bool:
        """Whether the project has unionml's predict workflows (not when no schedule predicts and the
        predictor's output is a type Flyte cannot carry: rules/validate.py, `_task_outputs`)."""
        return (self.model.variable, "predict") not in self.app.left_out

    @property
    def serves_features(self) -> bool:
        """Whether the project has unionml's `predict_from_features` (not when its feature loader was left out)."""
        return self.predicts and (self.dataset.variable, "feature_loader") not in self.app.left_out

    @property
    def uses_kickoff(self) -> bool:
        return any(v.time_arg for v in self.variants.values())

    @property
    def moves_torch_modules(self) -> bool:
        return model_flavor(self.app, self.model) == "pytorch"

    @property
    def moves_keras_models(self) -> bool:
        return model_flavor(self.app, self.model) == "keras"

    @property
    def loads_files(self) -> bool:
        return any(r.kind != "version" for r in self.references.values())

    @property
    def fetches_versions(self) -> bool:
        return any(r.kind == "version" for r in self.references.values())

    def step(self, role: str, default: str) -> str:
        component = self.dataset.components.get(role)
        return (
            f"{self.support['components']}.{component.function.name}"
            if component
            else f"{self.support['dataset_defaults']}.{default}"
        )

    @property
    def training_launch_plans(self) -> list[str]:
        """Names of the launch plans whose executions produce this model (for model versions)."""
        package = self.app.package
        names = [f"{package}.workflows.{v.name}" for v in self.variants.values() if v.purpose == "train"]
        return names + [s.name for s in self.schedules if s.kind == "training"]


@dataclass(frozen=True)
class Plan:
    schedule: Schedule
    variable: str
    workflow: str
    kickoff_input: str | None
    fixed_inputs: dict[str, Any]
    model: str  # what a reader of the README needs to know about the model
    run_kickoff: str | None  # the input a local run passes its kickoff time to, if the plan has one

    @property
    def cadence(self) -> str:
        s = self.schedule
        if s.expression is not None:
            return f"cron {markdown_code(s.expression)}"
        return f"fixed rate {markdown_code(repr(s.fixed_rate).removeprefix('datetime.'))}"

    @functools.cached_property
    def words(self) -> str:
        """The schedule's timing in words ('At 02:30 AM, only on Monday', 'Every 1 day'), readme.py."""
        s = self.schedule
        return readme.cron_in_words(s.expression) if s.expression is not None else readme.rate_in_words(s.fixed_rate)


#: Names launch_plans.py may import (flytekit's, datetime's for fixed inputs, launchplan_kwargs' and the
#: workflows module); the launch plan variables never take one of them.
LAUNCH_PLANS_IMPORTS = frozenset(
    {"LaunchPlan", "CronSchedule", "FixedRate", "workflows", "timedelta", "datetime", "date"}
    | {"Labels", "Annotations", "Email", "WorkflowExecutionPhase", "SecurityContext", "Identity", "RawOutputDataConfig",
       "ConcurrencyPolicy"}
)  # fmt: skip


def launch_plans(app: App, models: list[ModelView]) -> list[Plan]:
    views = {view.model.variable: view for view in models}
    space = Namespace(LAUNCH_PLANS_IMPORTS)
    variables = [space.claim(identifier(s.name)) for s in app.schedules]
    plans = []
    for schedule, variable in zip(app.schedules, variables):
        view = views[schedule.model]
        variant = view.variant(schedule)
        kickoff = None if variant.time_arg else schedule.reader_time_arg
        if schedule.kind == "training":
            fixed = {
                "hyperparameters": schedule.hyperparameters,
                "loader_kwargs": schedule.loader_kwargs,
                "splitter_kwargs": {**view.dataset.splitter_defaults, **schedule.splitter_kwargs},
                "parser_kwargs": {**view.dataset.parser_defaults, **schedule.parser_kwargs},
                **schedule.reader_kwargs,
                **schedule.trainer_kwargs,
            }
            model = "trained by the run"
        else:
            reference = app.model_references[schedule.name]
            if reference.kind == "version":
                fixed = {"model_version": reference.source, "app_version": reference.app_version or ""}
                model = f"model version {markdown_code(reference.source)}" + (
                    f" of app version {markdown_code(reference.app_version)}" if reference.app_version else ""
                )
            else:
                location = reference.vendored if reference.kind == "file" else reference.source
                fixed = {"model_file": location, "loader_kwargs": schedule.loader_kwargs}
                model = (
                    f"{markdown_code(reference.source)} (sha256 `{reference.sha256[:12]}…`, vendored)"
                    if reference.kind == "file"
                    else f"{markdown_code(reference.source)} (read at run time)"
                )
            fixed.update(schedule.reader_kwargs)
        fixed.update(schedule.launchplan_kwargs.get("fixed_inputs", {}))
        run_kickoff = kickoff or (KICKOFF_INPUT if variant.time_arg else None)
        plans.append(Plan(schedule, variable, variant.name, kickoff, fixed, model, run_kickoff))
    return plans
