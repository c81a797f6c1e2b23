"""The typed description of an app that extraction produces and rendering consumes.

Every class is frozen: once the app is read, later stages only look. Source fragments that
are copied into the generated project (annotations, defaults, task options, the model's
`init`) are kept as `Expression`: their text plus the module-level names they use.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from .diagnostics import Position

DATASET_COMPONENTS = ("reader", "loader", "splitter", "parser", "feature_loader", "feature_transformer")
MODEL_COMPONENTS = ("init", "trainer", "predictor", "evaluator", "saver", "loader")
#: Components whose registration accepts flytekit task options (`@model.trainer(requests=...)`).
TASK_COMPONENTS = ("reader", "trainer", "predictor")


@dataclass(frozen=True)
class Expression:
    """A Python expression copied from the app, and the free names it uses."""

    text: str
    names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: Literal["positional", "keyword_only", "var_positional", "var_keyword"]
    annotation: Expression | None
    default: Expression | None
    position: Position


@dataclass(frozen=True)
class Function:
    """A component function defined in the app."""

    name: str
    parameters: tuple[Parameter, ...]
    returns: Expression | None
    position: Position

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def keyword_only(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.kind == "keyword_only")


@dataclass(frozen=True)
class Component:
    role: str
    function: Function
    task_options: tuple[tuple[str, Expression], ...]
    position: Position  # where it was registered
    #: the predictor's post-prediction callbacks, each called as `callback(model_object, features, predictions)`
    callbacks: tuple[Expression, ...] = ()


@dataclass(frozen=True)
class SqlTask:
    """A flytekit SQL task that is a dataset's reader (`Dataset.from_sqlite_task(task)`, sql_tasks.py).

    The flyte1 target keeps the task object itself (components.py) and calls it; the flyte2 target
    cannot import flytekit and runs the query itself, so it needs the query and the database read
    statically: `query_template` (whitespace collapsed, as flytekit does), `uri` and `compressed`
    are None where the app's value cannot be known, and `unreadable` says where and why.
    """

    variable: str
    kind: Literal["sqlite", "sqlalchemy"]
    position: Position  # the constructor call
    query_template: str | None = None
    uri: str | None = None
    compressed: bool | None = None
    #: the output type is pandas' DataFrame (what unionml's default loader, splitter and parser take)
    returns_dataframe: bool = False
    #: (argument, why its value cannot be read, where) for the values above left None
    unreadable: tuple[tuple[str, str, Position], ...] = ()
    #: the same for a query or uri that is known but not a string: flytekit cannot build or run the task
    invalid: tuple[tuple[str, str, Position], ...] = ()
    #: other keyword arguments of the constructor (task options, `container_image`...), with their positions
    other_arguments: tuple[tuple[str, Position], ...] = ()

    @property
    def query_inputs(self) -> tuple[str, ...]:
        """The input names the query template uses (`{{ .inputs.limit }}`), in order of first use."""
        found = SQL_INPUT.findall(self.query_template or "")
        return tuple(dict.fromkeys(name for _, name in found))


#: flytekit's SQL input placeholder (`{{ .inputs.NAME }}`, any case, spaces allowed); the whole match is replaced
#: The optional workflow input a run started by hand gives its kickoff time in (kickoff.py reads it).
KICKOFF_INPUT = "kickoff_time"
SQL_INPUT = re.compile(r"({{\s*.inputs.(\w+)\s*}})", re.IGNORECASE)


@dataclass(frozen=True)
class DatasetSpec:
    variable: str
    name: str
    features: tuple[str, ...] | None
    targets: tuple[str, ...] | None
    test_size: float
    shuffle: bool
    random_state: int
    components: dict[str, Component]
    position: Position
    #: the reader is a flytekit SQL task object of the app (`Dataset.from_sqlite_task(task)`), not a
    #: function: its interface is the "reader" component's Function
    sql_task: SqlTask | None = None

    @property
    def reader_is_task(self) -> bool:
        return self.sql_task is not None

    @property
    def splitter_defaults(self) -> dict[str, Any]:
        return {"test_size": self.test_size, "shuffle": self.shuffle, "random_state": self.random_state}

    @property
    def parser_defaults(self) -> dict[str, Any]:
        features = None if self.features is None else list(self.features)
        targets = None if self.targets is None else list(self.targets)
        return {"features": features, "targets": targets}


@dataclass(frozen=True)
class ModelSpec:
    variable: str
    name: str
    init: Expression | None
    dataset: str  # the variable of its DatasetSpec
    hyperparameter_config: Expression | None  # the expression, kept for reference
    components: dict[str, Component]
    position: Position


@dataclass(frozen=True)
class TrainCall:
    """One top-level `model.train(...)`, its arguments as the generator evaluated them (read/train_calls.py).

    `arguments` has the keys of unionml's `Model.train`: hyperparameters, loader_kwargs, splitter_kwargs,
    parser_kwargs, trainer_kwargs (each a dict, {} when not given) and reader_kwargs (the other keywords);
    None when one cannot be known, and `problem` says where and why."""

    model: str  # the variable of its ModelSpec
    position: Position
    arguments: dict[str, Any] | None
    problem: tuple[Position, str] | None = None


@dataclass(frozen=True)
class ModelTraining:
    """How a prediction schedule's model comes from a `model.train(...)` of the app.

    `via`: "artifact" (no model argument: unionml uses the last call's `model.artifact`), "model_object"
    (a name the call's result was unpacked to), "model_file" (the file a `model.save(...)` wrote, with the
    saver's extra arguments)."""

    call: TrainCall
    via: Literal["artifact", "model_object", "model_file"]
    saver_kwargs: dict[str, Any] = field(default_factory=dict)
    problem: tuple[Position, str] | None = None  # the `model.save(...)` arguments cannot be known


@dataclass(frozen=True)
class Schedule:
    """One `schedule_training(...)` or `schedule_prediction(...)` call, evaluated."""

    kind: Literal["training", "prediction"]
    name: str
    model: str  # the variable of its ModelSpec
    expression: str | None
    offset: str | None
    fixed_rate: dt.timedelta | None
    reader_time_arg: str | None
    activate_on_deploy: bool
    launchplan_kwargs: dict[str, Any]
    hyperparameters: dict[str, Any]
    loader_kwargs: dict[str, Any]
    splitter_kwargs: dict[str, Any]
    parser_kwargs: dict[str, Any]
    trainer_kwargs: dict[str, Any]
    reader_kwargs: dict[str, Any]
    position: Position
    argument_positions: dict[str, Position] = field(default_factory=dict)
    #: prediction schedules: the model_object/model_version/app_version/model_file arguments given
    model_source: dict[str, Any] | None = None
    #: the last `model.train(...)` before the schedule call, whose model unionml would use
    model_train_call: Position | None = None
    #: prediction schedules whose model comes from a `model.train(...)` of the app (read/train_calls.py)
    model_training: ModelTraining | None = None

    def at(self, argument: str) -> Position:
        return self.argument_positions.get(argument, self.position)


@dataclass(frozen=True)
class ModelReference:
    """Where a prediction schedule's model comes from, as the generated project will get it.

    - "file": a file vendored into the package under `vendored` (content-addressed), checked
      against `sha256` before it is loaded;
    - "uri": a remote file (`s3://`, `gs://`, ...) read at run time;
    - "version": the `model_object` output of a training execution, fetched from flyteadmin at run
      time (`"latest"`: the newest successful one).
    """

    kind: Literal["file", "uri", "version"]
    source: str  # the path or URI as the app (or --model) gave it, or the model version
    app_version: str | None = None
    vendored: str | None = None  # path inside the package
    sha256: str | None = None
    size: int | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)
    #: a model the generator trains (`--train-models`) or kept from the project's last training (rules/training.py)
    training: TrainedModel | None = None


@dataclass(frozen=True)
class TrainedModel:
    """The training run that makes (or made) a prediction schedule's model file (rules/training.py).

    `inputs`: the training workflow's inputs, exactly as its launch plans would pass them; `key`: what the
    manifest records of them, compared with its record to keep a model trained before."""

    model: str  # the variable of its ModelSpec
    call: Position  # the `model.train(...)` call
    via: str
    flavor: str  # how it is saved and loaded: "sklearn" (joblib.dump) or "pytorch" (torch.save)
    inputs: dict[str, Any]
    saver_kwargs: dict[str, Any]
    key: dict[str, Any]


@dataclass(frozen=True)
class Import:
    """A module-level import binding one name: `import a.b as c` or `from a import b as c`."""

    module: str
    name: str | None
    alias: str | None
    level: int = 0  # dots of a relative import

    @property
    def bound_name(self) -> str:
        if self.alias:
            return self.alias
        return self.name if self.name else self.module.split(".")[0]

    @property
    def statement(self) -> str:
        alias = f" as {self.alias}" if self.alias else ""
        if self.name is None:
            return f"import {self.module}{alias}"
        return f"from {'.' * self.level}{self.module} import {self.name}{alias}"

    @property
    def top_level_module(self) -> str:
        return self.module.split(".")[0]


#: What `model.remote(...)` sets that the generated project's operate commands use (the rest builds and pushes
#: unionml's own image).
REMOTE_SETTINGS = ("project", "domain", "config_file")


@dataclass(frozen=True)
class RemoteSettings:
    """Where the app's models deploy, as their `model.remote(...)` calls say (one project for the app)."""

    project: str | None = None
    domain: str | None = None
    config_file: str | None = None
    unread: tuple[str, ...] = ()  # "project" / "domain": given, but not as a constant
    positions: dict[str, Position] = field(default_factory=dict)

    def record(self) -> dict[str, object]:
        """The manifest's `remote` section (output/manifest.schema.json)."""
        values: dict[str, object] = {key: getattr(self, key) for key in REMOTE_SETTINGS if getattr(self, key)}
        if self.unread:
            values["unread"] = list(self.unread)
        return values


@dataclass(frozen=True)
class App:
    """Everything the generator took from one app file."""

    path: str  # as given, for diagnostics only
    package: str
    datasets: dict[str, DatasetSpec]
    models: dict[str, ModelSpec]
    schedules: tuple[Schedule, ...]
    imports: dict[str, Import]  # module-level imports by bound name
    components_code: str  # the app code the components need, decorators removed
    component_names: frozenset[str]  # names the components module defines
    third_party_modules: frozenset[str]
    local_modules: tuple[str, ...]  # files next to the app that the components import, relative
    local_files: dict[str, bytes] = field(default_factory=dict)  # their files, by path relative to the app
    class_bases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # app classes -> qualified bases
    model_references: dict[str, ModelReference] = field(default_factory=dict)  # by schedule name
    # (dataset or model variable, role) of components left out, with the workflows that call them:
    # no schedule needs them and they use the unionml objects (read/app.py, OPTIONAL_ROLES)
    left_out: frozenset[tuple[str, str]] = frozenset()
    requirement_pins: dict[str, str] = field(default_factory=dict)  # normalized distribution -> pinned line (requirements.py)
    #: where the app's `model.remote(...)` calls deploy (read/remote_settings.py), None when they say nothing
    remote: RemoteSettings | None = None
