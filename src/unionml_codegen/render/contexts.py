"""What the task and workflow templates lay out for one model: signatures, calls and the app code copied.

`model_context` turns a `ModelView` into a `ModelContext`: the annotations of the values moving
between the model's tasks, the reader and train tasks' signatures and calls, the dataset steps, how
the model is built and loaded, and each workflow variant's parameters and body. `CodeCopier` copies
app code into the generated module, importing the module-level names it uses. The flyte2 target
(flyte2.py) reuses these with a copier of its own.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field

from ..names import Imports, literal
from ..rules.model_sources import model_flavor
from ..spec import KICKOFF_INPUT, App, Component, Expression
from .escape import python_docstring
from .views import TRAIN_KWARGS, ModelView, Variant

DEFAULT_RESOURCES = '{Resources}(cpu="1", mem="1Gi")'  # unionml's requests and limits for its tasks
#: The same as one `resources=`: flytekit takes a (request, limit) pair per resource there (a single value
#: would set the request only, flytekit.core.resources.ResourceSpec.from_multiple_resource).
BOTH_RESOURCES = '{Resources}(cpu=("1", "1"), mem=("1Gi", "1Gi"))'


@dataclass
class TaskSignature:
    """A task or workflow parameter list, as text."""

    parameters: list[str] = field(default_factory=list)

    def add(self, name: str, annotation: str, default: str | None = None) -> None:
        self.parameters.append(f"{name}: {annotation}" + (f" = {default}" if default is not None else ""))

    def text(self) -> str:
        return ", ".join(self.parameters)


class CodeCopier:
    """Copies app code into one generated module, importing the module-level names it uses."""

    def __init__(self, app: App, imports: Imports, support: dict[str, str]):
        self.app = app
        self.imports = imports
        self.support = support
        self.uses_resources = False  # unionml's default requests/limits were written

    def __call__(self, code: Expression | None) -> str | None:
        if code is None:
            return None
        for name in sorted(code.names):
            import_name(self.app, name, self.imports)
        return code.text

    def annotation(self, code: Expression | None) -> str:
        return self(code) or ""

    def task_options(self, component: Component) -> str:
        """The `@task(...)` arguments of a component's task: its own, and unionml's resources (one `resources=`
        with unionml's request and limit, or the one of requests/limits the app left out). `cache=True`
        without `cache_version` (which flytekit refuses at import, as unionml 0.2.1 does) is given the version
        of the code the project copies (`code_version`), so the cache follows the app's code."""
        options = [f"{key}={self(code)}" for key, code in component.task_options]
        given = {key for key, _ in component.task_options}
        cache = dict(component.task_options).get("cache")
        if cache is not None and cache.text == "True" and "cache_version" not in given:
            options.append(f"cache_version={literal(code_version(self.app))}")
        default = DEFAULT_RESOURCES.format(Resources=self.support["Resources"])
        if not given & {"requests", "limits", "resources"}:
            self.uses_resources = True
            options.append(f"resources={BOTH_RESOURCES.format(Resources=self.support['Resources'])}")
        elif "resources" not in given:  # flytekit refuses resources= beside either: the other one only
            missing = [f"{key}={default}" for key in ("requests", "limits") if key not in given]
            self.uses_resources = self.uses_resources or bool(missing)
            options += missing
        return ", ".join(options)


def code_version(app: App) -> str:
    """A version of the code the generated tasks run: the components' code and the local modules copied with
    it. A task cached without a version of its own is cached under this one, so changing the app's code (a
    reader, a helper it calls) never brings back a result the old code computed."""
    content = hashlib.sha256(app.components_code.encode())
    for path, data in sorted(app.local_files.items()):
        content.update(b"\0" + path.encode() + b"\0" + data)
    return "code-" + content.hexdigest()[:16]


@dataclass(frozen=True)
class ModelTypes:
    """The annotations of the values moving between a model's tasks."""

    data: str
    model: str
    metric: str
    prediction: str


@dataclass(frozen=True)
class ModelTransfer:
    """A PyTorch or Keras model's type as the tasks annotate it: the app's type with the project's own
    transformer (`Annotated[...]`), which flytekit uses before any transformer it registers itself."""

    alias: str
    model_type: str  # the app's annotation of the model
    transformer: str  # an expression making the TypeTransformer


@dataclass(frozen=True)
class ReaderTask:
    options: str
    signature: str
    call: str  # its keyword arguments, as the workflows pass them
    reads: str  # what its body returns: the app's reader called with them


@dataclass(frozen=True)
class TrainTask:
    options: str
    signature: str
    call: str  # its keyword arguments, as the workflows pass them
    trainer_kwargs: str  # the trainer's keyword-only arguments, passed through


@dataclass(frozen=True)
class ModelInit:
    call: str  # builds the model from `hyperparameters` inside the train task
    function: str  # a callable hyperparameters -> model


@dataclass(frozen=True)
class DataSteps:
    """The dataset's loader, splitter, parser, feature loader and feature transformer, as called."""

    loader: str
    splitter: str
    parser: str
    parser_defaults: str
    feature_loader: str
    custom_feature_loader: bool
    feature_names: str
    targets: str
    feature_transformer: str | None


@dataclass(frozen=True)
class Workflow:
    """A variant's `@workflow` function, as text."""

    name: str
    signature: str
    returns: str
    doc: str
    body: tuple[str, ...]


@dataclass(frozen=True)
class ModelContext:
    """Everything workflows.py.jinja lays out for one model."""

    view: ModelView
    types: ModelTypes
    reader: ReaderTask
    train: TrainTask
    predict_options: str
    callbacks: str | None  # a tuple of the predictor's callbacks
    steps: DataSteps
    init: ModelInit
    transfer: ModelTransfer | None
    load_call: str
    training_launch_plans: str
    resources: bool  # unionml's default Resources are written
    workflows: tuple[Workflow, ...]


def workflow_context(app: App, view: ModelView, imports: Imports) -> ModelContext:
    return model_context(view, CodeCopier(app, imports, view.support), transfers_models=True)


def model_context(view: ModelView, copy: "CodeCopier", *, transfers_models: bool) -> ModelContext:
    """One model's pieces, as the flyte1 target lays them out; the flyte2 target (render_flyte2.py)
    copies app code its own way (`copy`), needs no transformers of its own for PyTorch and Keras models
    (not `transfers_models`), and replaces what else differs."""
    init = _model_init(view, copy)
    transfer = _model_transfer(view, copy, init) if transfers_models else None
    types = _model_types(view, copy, transfer)
    reader = _reader_task(view, copy)
    train = _train_task(view, copy, types)
    return ModelContext(
        view=view,
        types=types,
        reader=reader,
        train=train,
        predict_options=copy.task_options(view.predictor),
        callbacks=_callbacks(view, copy),
        steps=_data_steps(view),
        init=init,
        transfer=transfer,
        load_call=_load_call(view.app, view, init),
        training_launch_plans=literal(view.training_launch_plans),
        workflows=tuple(_workflow(v, view, copy, reader, train, types) for v in view.variants.values()),
        resources=copy.uses_resources,
    )


def _callbacks(view: ModelView, copy: CodeCopier) -> str | None:
    callbacks = [copy(code) for code in view.predictor.callbacks]
    if not callbacks:
        return None
    return f"({callbacks[0]},)" if len(callbacks) == 1 else f"({', '.join(callbacks)})"


def _model_types(view: ModelView, copy: CodeCopier, transfer: ModelTransfer | None) -> ModelTypes:
    return ModelTypes(
        data=copy(view.reader.function.returns) or "object",
        model=transfer.alias if transfer else copy(view.trainer.function.returns) or "object",
        metric=copy(view.evaluator.function.returns) or "float",
        prediction=copy(view.predictor.function.returns) or "object",
    )


def _model_transfer(view: ModelView, copy: CodeCopier, init: ModelInit) -> ModelTransfer | None:
    """PyTorch and Keras models cross task boundaries through a transformer of the project's own."""
    if view.moves_torch_modules:
        transformer = f"{view.support['torch_models']}.StateDictTransformer({init.function})"
    elif view.moves_keras_models:
        transformer = f"{view.support['keras_models']}.KerasFileTransformer()"
    else:
        return None
    model_type = copy(view.trainer.function.returns) or "object"
    return ModelTransfer(alias=view.model_type_alias, model_type=model_type, transformer=transformer)


def _reader_task(view: ModelView, copy: CodeCopier) -> ReaderTask:
    parameters = view.reader.function.parameters
    signature = TaskSignature()
    for p in parameters:
        signature.add(p.name, copy.annotation(p.annotation), copy(p.default))
    call = ", ".join(f"{p.name}={p.name}" for p in parameters)
    return ReaderTask(
        options=copy.task_options(view.reader),
        signature=signature.text(),
        call=call,
        reads=f"{view.support['components']}.{view.reader.function.name}({call})",
    )


def _train_task(view: ModelView, copy: CodeCopier, types: ModelTypes) -> TrainTask:
    kwonly = view.trainer.function.keyword_only
    signature = TaskSignature()
    data = view.train_locals["data"]
    signature.add("hyperparameters", "dict")
    signature.add(data, types.data)
    for kwargs in TRAIN_KWARGS:
        signature.add(kwargs, "dict")
    for p in kwonly:
        signature.add(p.name, copy.annotation(p.annotation), None)
    passed = ["hyperparameters", data, *TRAIN_KWARGS, *(p.name for p in kwonly)]
    return TrainTask(
        options=copy.task_options(view.trainer),
        signature=signature.text(),
        call=", ".join(f"{name}={view.data_local if name == data else name}" for name in passed),
        trainer_kwargs=", ".join(f"{p.name}={p.name}" for p in kwonly),
    )


def _model_init(view: ModelView, copy: CodeCopier) -> ModelInit:
    component = view.model.components.get("init")
    if component is not None:
        function = f"{view.support['components']}.{component.function.name}"
        return ModelInit(call=f"{function}(hyperparameters=hyperparameters)", function=function)
    init = copy(view.model.init)
    return ModelInit(call=f"{init}(**hyperparameters)", function=f"lambda hyperparameters: {init}(**hyperparameters)")


def _data_steps(view: ModelView) -> DataSteps:
    dataset = view.dataset
    transformer = dataset.components.get("feature_transformer")
    return DataSteps(
        loader=view.step("loader", "load"),
        splitter=view.step("splitter", "split"),
        parser=view.step("parser", "parse"),
        parser_defaults=literal(dataset.parser_defaults),
        feature_loader=view.step("feature_loader", "load_features"),
        custom_feature_loader="feature_loader" in dataset.components,
        feature_names=literal(list(dataset.features) if dataset.features else None),
        targets=literal(list(dataset.targets) if dataset.targets is not None else None),
        feature_transformer=f"{view.support['components']}.{transformer.function.name}" if transformer else None,
    )


def _load_call(app: App, view: ModelView, init: ModelInit) -> str:
    """How the predict-with-file task loads `path` (only generated when a schedule loads a file)."""
    flavor = model_flavor(app, view.model) if view.loads_files else None
    if flavor == "custom":
        return f"{view.support['components']}.{view.model.components['loader'].function.name}(path, **loader_kwargs)"
    if flavor == "pytorch":
        return f"{view.support['model_files']}.load_pytorch(path, {init.function}, **loader_kwargs)"
    return f"{view.support['model_files']}.load_{flavor}(path, **loader_kwargs)"


class _WorkflowInputs:
    """A workflow's parameters: the required ones first, as Python wants."""

    def __init__(self) -> None:
        self.required = TaskSignature()
        self.optional = TaskSignature()

    def add(self, name: str, annotation: str, default: str | None) -> None:
        (self.optional if default else self.required).add(name, annotation, default)

    def text(self) -> str:
        return ", ".join(self.required.parameters + self.optional.parameters)


def _workflow(
    variant: Variant, view: ModelView, copy: CodeCopier, reader: ReaderTask, train: TrainTask, types: ModelTypes
) -> Workflow:
    inputs = _WorkflowInputs()
    for p in view.reader.function.parameters:
        if p.name != variant.time_arg:
            inputs.add(p.name, copy.annotation(p.annotation), copy(p.default))
    if variant.purpose == "train":
        returns, doc, final = view.outputs_class, *_train_inputs(view, copy, train, inputs)
    else:
        returns, doc, final = types.prediction, *_predict_inputs(variant.purpose, view, types, inputs)
    body = []
    if variant.time_arg:
        body.append(f"{variant.time_arg} = {view.support['kickoff']}.scheduled_time(requested={KICKOFF_INPUT})")
        inputs.optional.add(KICKOFF_INPUT, f"{view.support['Optional']}[{view.support['datetime']}]", "None")
        doc += _scheduled_time_doc(variant.time_arg)
    body += [f"{view.data_local} = {view.reader_task}({reader.call})", final]
    return Workflow(variant.name, inputs.text(), returns, doc, tuple(body))


def _train_inputs(view: ModelView, copy: CodeCopier, train: TrainTask, inputs: _WorkflowInputs) -> tuple[str, str]:
    """Adds the train workflow's inputs; its docstring and its last statement."""
    inputs.optional.add("hyperparameters", "dict", "{}")
    inputs.optional.add("loader_kwargs", "dict", "{}")
    inputs.optional.add("splitter_kwargs", "dict", literal(view.dataset.splitter_defaults))
    inputs.optional.add("parser_kwargs", "dict", literal(view.dataset.parser_defaults))
    for p in view.trainer.function.keyword_only:
        inputs.add(p.name, copy.annotation(p.annotation), copy(p.default))
    model, dataset = python_docstring(view.model.name), python_docstring(view.dataset.name)
    return f"Train {model} on {dataset}, like unionml's `{model}.train`.", f"return {view.train_task}({train.call})"


def _predict_inputs(purpose: str, view: ModelView, types: ModelTypes, inputs: _WorkflowInputs) -> tuple[str, str]:
    """Adds a predict workflow's inputs (where its model comes from); its docstring and last statement."""
    model = python_docstring(view.model.name)
    if purpose == "predict":
        inputs.required.parameters.insert(0, f"model_object: {types.model}")
        doc = f"Predict with a {model} model object, like unionml's `{model}.predict`."
        return doc, f"return {view.predict_task}(model_object=model_object, data={view.data_local})"
    if purpose == "predict_file":
        inputs.required.add("model_file", "str")
        inputs.optional.add("loader_kwargs", "dict", "{}")
        doc = f"Predict with a {model} model loaded from a file shipped with the code, or a URI."
        call = (
            f"{view.predict_with_file_task}(model_file=model_file, loader_kwargs=loader_kwargs, data={view.data_local})"
        )
        return doc, f"return {call}"
    inputs.required.add("model_version", "str")
    inputs.optional.add("app_version", "str", '""')
    doc = f"Predict with the {model} model of a training execution (a model version)."
    call = (
        f"{view.predict_with_version_task}(model_version=model_version, app_version=app_version, "
        f"data={view.data_local})"
    )
    return doc, f"return {call}"


def _scheduled_time_doc(time_arg: str) -> str:
    detail = (
        f"For fixed-rate schedules, which Flyte starts without a kickoff input: the reader's "
        f"`{time_arg}` is the time the run was scheduled for, read from the execution, or "
        f"`{KICKOFF_INPUT}` when given."
    )
    return "\n\n    " + "\n    ".join(textwrap.wrap(detail, 84)) + "\n    "


def import_name(app: App, name: str, imports: Imports) -> None:
    binding = app.imports.get(name)
    if binding is not None:
        if binding.name is None:
            imports.add_import(binding.module, binding.alias)
        else:
            imports.add_from(binding.module, binding.name, binding.alias, binding.level)
    elif name in app.component_names:
        imports.add_from("components", name, level=1)
