"""Read the unionml API calls of an app: what the statement walker hands over.

`Dataset(...)`/`Model(...)` constructors and their arguments, component registrations (by
decorator or by call; the last one for a role wins), `model.train(...)` calls, and schedule
calls (read by `schedules.py`). A call that would run conditionally (the walker's context is
not None) is an error, since the generator cannot know whether it runs.

One job, unionml's API as the generator reads it: every constructor, registration and call unionml
0.2.1 offers is here, so the module is as long as that API.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable

import libcst as cst

from .. import codes
from .bindings import Bindings
from ..diagnostics import Position
from ..spec import DATASET_COMPONENTS, MODEL_COMPONENTS, TASK_COMPONENTS, Expression, Function, Schedule, SqlTask
from .remote_settings import RemoteCall, read_remote
from .schedules import read_schedule
from .train_calls import TrainCalls
from .sql_tasks import DATASET_FACTORIES, SqlTasks

DATASET_CLASSES = frozenset({"unionml.Dataset", "unionml.dataset.Dataset"})
MODEL_CLASSES = frozenset({"unionml.Model", "unionml.model.Model"})
SCHEDULE_METHODS = {"schedule_training": "training", "schedule_prediction": "prediction"}

#: The attributes of unionml 0.2.1's Dataset and Model (their classes' and what `__init__` sets): any
#: other, `@dataset.spliter` or `@model.evaluate`, stops unionml with AttributeError at import.
ATTRIBUTES = {
    "dataset": frozenset(
        "_default_feature_loader _default_feature_transformer _default_loader _default_parser _default_splitter "
        "_from_flytekit_task _kwarg_to_dataclass_field dataset_datatype dataset_datatype_source dataset_task "
        "feature_loader feature_transformer feature_type find_lhs from_sqlalchemy_task from_sqlite_task get_data "
        "get_features instantiated_in lhs loader loader_kwargs_type location parser parser_kwargs "
        "parser_kwargs_type parser_return_types reader reader_input_types splitter splitter_kwargs "
        "splitter_kwargs_type _dataset_datatype _dataset_task _feature_loader _feature_transformer _features "
        "_instantiated_in _lhs _loader _loader_kwargs_type _module_file _parser _parser_feature_key "
        "_parser_kwargs_type _random_state _reader _reader_input_types _reader_task_kwargs _shuffle _splitter "
        "_splitter_kwargs_type _targets _test_size name".split()
    ),
    "model": frozenset(
        "_default_init _default_loader _default_saver _remote _remote_fetch_output _remote_load_model_artifact "
        "add_predictor_schedule add_trainer_schedule artifact config_file dataset dockerfile evaluator find_lhs "
        "hyperparameter_type init instantiated_in lhs load load_from_env loader location model_type predict "
        "predict_callbacks predict_from_features_task predict_from_features_workflow "
        "predict_from_features_workflow_name predict_task predict_workflow predict_workflow_name "
        "prediction_schedule_names prediction_schedules prediction_type predictor registry remote "
        "remote_activate_schedules remote_deactivate_schedules remote_deploy remote_fetch_model "
        "remote_fetch_predictions remote_list_model_versions remote_list_prediction_ids "
        "remote_list_scheduled_prediction_runs remote_list_scheduled_training_runs remote_load remote_predict "
        "remote_train remote_wait resolve_model_artifact save saver schedule_prediction schedule_training serve "
        "train train_task train_workflow train_workflow_name trainer trainer_params training_schedule_names "
        "training_schedules __remote__ _artifact _config_file _dataset _dockerfile _domain _hyperparameter_config "
        "_hyperparameter_type _image_name _init _init_callable _instantiated_in _launchplan_cache _lhs _loader "
        "_module_file _patch_destination_dir _predict_callbacks _predict_from_features_task _predict_task "
        "_predict_task_kwargs _prediction_schedules _project _registry _saver _train_task _train_task_kwargs "
        "_training_schedules name".split()
    ),
}

_ONCE_HINT = (
    "call it at the module's top level (a `with` or `try` body, or a `for` loop over a literal list, "
    "is fine) so that it runs exactly once when the app is imported"
)


@dataclass
class Registration:
    """A component registration seen so far (the last one for a role wins)."""

    function: str
    node: cst.FunctionDef | None
    task_options: tuple[tuple[str, Expression], ...]
    position: Position
    callbacks: tuple[Expression, ...] = ()  # the predictor's `callbacks=[...]`
    #: the interface of a reader that is not a function but a flytekit task object (sql_tasks.py)
    signature: Function | None = None


@dataclass
class UnionObject:
    kind: str  # "dataset" or "model"
    variable: str
    call: cst.Call
    position: Position
    arguments: dict[str, Any] = field(default_factory=dict)
    init: Expression | None = None
    dataset: str | None = None
    registrations: dict[str, Registration] = field(default_factory=dict)
    sql_task: SqlTask | None = None  # Dataset.from_sqlite_task(task): the SQL task (sql_tasks.py)
    sql_reader_refused: bool = False  # its SQL task could not be read (reported): no "has no reader" on top
    remote: RemoteCall | None = None  # a model's last `model.remote(...)` at the top level (remote_settings.py)


class UnionmlReader:
    def __init__(self, bindings: Bindings, imported: dict[str, UnionObject] | None = None):
        self.bindings = bindings
        self.diagnostics = bindings.diagnostics
        self.objects: dict[str, UnionObject] = {}
        #: objects imported from the module that defines them, by the name bound here (extract.extract)
        self.imported: dict[str, UnionObject] = dict(imported or {})
        self.schedules: list[Schedule] = []
        self.registration_nodes: set[cst.CSTNode] = set()  # unionml decorators, stripped from the output
        self.train_calls: dict[str, Position] = {}  # model variable -> last `model.train(...)` call
        self.trainings = TrainCalls(bindings)  # the train and save calls, followed (train_calls.py)
        self.sql_tasks = SqlTasks(bindings)

    def pos(self, node: cst.CSTNode) -> Position:
        return self.bindings.pos(node)

    def unionml_target(self, func: cst.BaseExpression) -> tuple[UnionObject, str] | None:
        """`model.trainer` -> (the model object, "trainer") when `model` is a unionml object."""
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            name = func.value.value
            obj = self.objects.get(name)
            if obj is None and name in self.imported and self._still_imported(name):
                obj = self.imported[name]
            if obj is not None:
                return obj, func.attr.value
        return None

    def _still_imported(self, name: str) -> bool:
        """`name` is still bound by its import (not re-assigned since)."""
        bindings = self.bindings
        return name in bindings.imports and name not in bindings.constants and name not in bindings.unknown

    def unionml_call(self, call: cst.Call) -> bool | None:
        """None if `call` is not to the unionml API, else whether it runs the app's components
        (`model.train(...)` does; constructors, registrations and schedules do not)."""
        if self.bindings.qualified_name(call.func) in DATASET_CLASSES | MODEL_CLASSES:
            return False
        target = self.unionml_target(call.func)
        if target is None:
            return None
        method = target[1]
        return not (method in SCHEDULE_METHODS or method in DATASET_COMPONENTS or method in MODEL_COMPONENTS)

    # constructors
    def constructor(self, value: cst.BaseExpression, targets: Iterable, context: str | None) -> bool:
        names = [t.target for t in targets]
        self.sql_tasks.assignment(value, names, context)
        if not isinstance(value, cst.Call):
            return False
        qualified = self.bindings.qualified_name(value.func)
        factory = qualified in DATASET_FACTORIES
        kind = "dataset" if qualified in DATASET_CLASSES or factory else "model" if qualified in MODEL_CLASSES else None
        if kind is None:
            return False
        if context is not None:
            self._conditional(value, "Dataset(...)" if kind == "dataset" else "Model(...)", context)
            return True
        if len(names) != 1 or not isinstance(names[0], cst.Name):
            self.diagnostics.error(
                codes.UNIONML_OBJECT_NAME,
                self.pos(value),
                f"assign the unionml {kind} to one plain name",
                f"write `{kind} = {kind.title()}(...)`",
            )
            return True
        variable = names[0].value
        obj = UnionObject(kind, variable, value, self.pos(value))
        if kind == "dataset":
            self._dataset_arguments(obj, value, factory)
        else:
            self._model_arguments(obj, value)
        self.objects[variable] = obj
        self.bindings.unknown[variable] = f"is the unionml {kind} object (line {obj.position.line})"
        self.bindings.constants.pop(variable, None)
        return True

    def check_models(self) -> None:
        """After the whole app is read: unionml trains a model only with an `init` (its default init
        raises "you must specify the init argument to the Model constructor")."""
        for obj in self.objects.values():
            if obj.kind == "model" and obj.init is None and "init" not in obj.registrations:
                self.diagnostics.error(
                    codes.MODEL_WITHOUT_INIT,
                    obj.position,
                    f"Model '{obj.variable}' has no `init`: unionml cannot create the model object to train",
                    "pass `init=` a class or function that builds the model from the hyperparameters "
                    "(e.g. `init=LogisticRegression`), or register one with `@model.init`",
                )

    def _dataset_arguments(self, obj: UnionObject, call: cst.Call, factory: bool) -> None:
        """`Dataset(...)`'s arguments; with `factory`, `Dataset.from_sqlite_task(task, ...)`'s (sql_tasks.py)."""
        parameters = ("task", "name") if factory else ("name",)
        keywords = {"name", "features", "targets", "test_size", "shuffle", "random_state", *parameters}
        obj.arguments = {"name": "dataset", "features": None, "targets": None, "test_size": 0.2,
                         "shuffle": True, "random_state": 12345}  # fmt: skip
        what = "Dataset." + call.func.attr.value if factory and isinstance(call.func, cst.Attribute) else "Dataset"
        arguments = self._arguments(call, parameters, keywords, what)
        if factory and "task" not in dict(arguments):
            obj.sql_reader_refused = True
            self.diagnostics.error(
                codes.SQL_TASK_NOT_A_NAME,
                obj.position,
                f"{what}(...) needs the SQL task",
                f"write `{what}(task, name=...)`",
            )
        for key, arg in arguments:
            if key == "task":
                found = self.sql_tasks.reader(arg.value)
                obj.sql_reader_refused = found is None
                if found is not None:
                    reader, obj.sql_task = found
                    obj.registrations["reader"] = Registration(reader.name, None, (), obj.position, signature=reader)
                continue
            ok, value = self.bindings.evaluate(arg.value)
            if ok and key in ("features", "targets") and not _column_names(value):
                self.diagnostics.error(
                    codes.INVALID_DATASET_COLUMNS,
                    self.pos(arg.value),
                    f"Dataset(...) `{key}` must be a list of column names (strings)",
                    f'e.g. `{key}=["target"]`',
                )
            elif ok and key == "name" and not self._named(value, arg, "Dataset"):
                pass
            elif ok:
                obj.arguments[key] = value

    def _named(self, value: object, arg: cst.Arg, what: str) -> bool:
        """Whether a Dataset's or Model's `name` is a non-empty string (it names the workflows, the tasks
        and the generated package's records); else an error at the argument."""
        if isinstance(value, str) and value.strip():
            return True
        shown = "an empty string" if isinstance(value, str) else f"a {type(value).__name__}, not a string"
        self.diagnostics.error(
            codes.EMPTY_NAME,
            self.pos(arg.value),
            f"{what}(...) `name` is {shown}: unionml names the {what.lower()}'s workflows and tasks after it",
            f'give it a name, e.g. `name="digits_{what.lower()}"`, or leave `name=` out for unionml\'s default',
        )
        return False

    def _model_arguments(self, obj: UnionObject, call: cst.Call) -> None:
        obj.arguments = {"name": "model", "hyperparameter_config": None}
        keywords = {"name", "init", "dataset", "hyperparameter_config"}
        for key, arg in self._arguments(call, ("name", "init"), keywords, "Model"):
            if key == "init" and not _is_none(arg.value):
                obj.init = _callable_code(self.bindings.code(arg.value), arg.value)
            elif key == "dataset":
                dataset = self.objects.get(arg.value.value) if isinstance(arg.value, cst.Name) else None
                if dataset is None or dataset.kind != "dataset":
                    self.diagnostics.error(
                        codes.MODEL_WITHOUT_DATASET,
                        self.pos(arg.value),
                        "the model's dataset must be a unionml Dataset assigned to a name earlier in the app",
                        "write `dataset = Dataset(...)` above and pass `dataset=dataset`",
                    )
                else:
                    obj.dataset = dataset.variable
            elif key == "hyperparameter_config" and not _is_none(arg.value):
                obj.arguments[key] = self.bindings.code(arg.value)
            else:
                ok, value = self.bindings.evaluate(arg.value)
                if ok and (key != "name" or self._named(value, arg, "Model")):
                    obj.arguments[key] = value
        if obj.dataset is None and not any(a.keyword and a.keyword.value == "dataset" for a in call.args):
            self.diagnostics.error(
                codes.MODEL_WITHOUT_DATASET,
                obj.position,
                "Model(...) needs `dataset=`",
                "pass `dataset=` a unionml Dataset",
            )

    def _arguments(
        self, call: cst.Call, positional: tuple[str, ...], keywords: set[str], what: str
    ) -> list[tuple[str, cst.Arg]]:
        result = []
        for index, arg in enumerate(call.args):
            if arg.star:
                self.diagnostics.error(
                    codes.INVALID_UNIONML_ARGUMENTS,
                    self.pos(arg),
                    f"`{arg.star}` arguments to {what}(...) are not read",
                    "pass each argument by name",
                )
            elif arg.keyword is None:
                if index >= len(positional):
                    self.diagnostics.error(
                        codes.INVALID_UNIONML_ARGUMENTS,
                        self.pos(arg),
                        f"{what}(...) takes at most {len(positional)} positional argument(s)",
                        "pass the other arguments by keyword",
                    )
                else:
                    result.append((positional[index], arg))
            elif arg.keyword.value not in keywords:
                self.diagnostics.error(
                    codes.INVALID_UNIONML_ARGUMENTS,
                    self.pos(arg.keyword),
                    f"{what}(...) has no parameter '{arg.keyword.value}'",
                    f"known parameters: {', '.join(sorted(keywords))}",
                )
            else:
                result.append((arg.keyword.value, arg))
        return result

    # calls and decorators
    def decorators(self, node: cst.FunctionDef, context: str | None) -> None:
        for decorator in node.decorators:
            expr = decorator.decorator
            call = expr if isinstance(expr, cst.Call) else None
            target = self.unionml_target(call.func if call else expr)
            if target is None:
                continue
            obj, role = target
            self.registration_nodes.add(decorator)
            if context is None and not self._registers(obj, role, decorator, "@"):
                continue  # (in a function, the name may be another object: no more than a role is checked)
            if context is not None:
                self._conditional(decorator, f"{obj.variable}.{role}", context)
                continue
            self._register(obj, role, node.name.value, node, call, self.pos(decorator))

    def calls_in(self, expr: cst.BaseExpression, context: str | None) -> None:
        target = self.unionml_target(expr.func) if isinstance(expr, cst.Call) else None
        if target is None:
            self._nested_calls(expr, context)
            return
        assert isinstance(expr, cst.Call)
        obj, method = target
        if context is None and method not in ATTRIBUTES[obj.kind] and not self._registers(obj, method, expr, ""):
            return  # (in a function, `model.fit(...)` is a call on a parameter or local of that name)
        is_component = method in (DATASET_COMPONENTS if obj.kind == "dataset" else MODEL_COMPONENTS)
        if method in SCHEDULE_METHODS and obj.kind == "model":
            if context is not None:
                self._conditional(expr, f"{obj.variable}.{method}(...)", context)
                return
            train_call = self.train_calls.get(obj.variable)
            schedule = read_schedule(self.bindings, obj.variable, SCHEDULE_METHODS[method], expr, train_call)
            if schedule is not None:
                self.schedules.append(self.trainings.attach(schedule))
        elif is_component:
            if context is not None:
                self._conditional(expr, f"{obj.variable}.{method}(...)", context)
                return
            self._register_by_call(obj, method, expr)
        elif method == "train" and obj.kind == "model" and context is None:
            self.train_calls[obj.variable] = self.pos(expr)
            self.trainings.train(obj.variable, expr)
        elif method == "save" and obj.kind == "model" and context is None:
            self.trainings.save(obj.variable, expr)
        elif method == "remote" and obj.kind == "model":
            call = read_remote(self.bindings, obj.variable, expr, context)
            if call is not None:
                obj.remote = call  # each call replaces what an earlier one set, as in unionml

    def assigned(self, targets: Iterable[cst.AssignTarget], value: cst.BaseExpression, context: str | None) -> None:
        """After `targets = value` was bound: `trained, _ = model.train(...)` names a trained model."""
        if context is None:
            self.trainings.assigned(targets, value)

    def _registers(self, obj: UnionObject, attribute: str, node: cst.CSTNode, spelling: str) -> bool:
        """Whether `obj.attribute` used as a decorator (`spelling` "@") or called is a component
        registration; else an error at it, with the nearest registration (or attribute) as the hint.

        unionml 0.2.1 stops at import on an attribute its objects do not have; the generator would
        drop the function without a word and train with unionml's default component instead."""
        roles = DATASET_COMPONENTS if obj.kind == "dataset" else MODEL_COMPONENTS
        if attribute in roles:
            return True
        kind = "Dataset" if obj.kind == "dataset" else "Model"
        near = difflib.get_close_matches(attribute, roles, n=1) or difflib.get_close_matches(
            attribute, sorted(a for a in ATTRIBUTES[obj.kind] if not a.startswith("_")), n=1
        )
        shown = f"{spelling}{obj.variable}.{attribute}"
        if attribute in ATTRIBUTES[obj.kind]:
            message = f"`{shown}` is not a component registration: {kind}.{attribute} registers no function"
        else:
            message = (
                f"`{shown}`: unionml's {kind} has no attribute {attribute!r} (unionml stops with AttributeError "
                "when it imports the app)"
            )
        registrations = ", ".join(f"`{spelling}{obj.variable}.{role}`" for role in roles)
        hint = (
            f"did you mean `{spelling}{obj.variable}.{near[0]}`?" if near else f"register with one of {registrations}"
        )
        self.diagnostics.error(codes.UNKNOWN_REGISTRATION, self.pos(node), message, hint)
        return False

    def _nested_calls(self, expr: cst.BaseExpression, context: str | None) -> None:
        """Schedule and registration calls buried in an expression (a comprehension, a lambda,
        another call's argument) would otherwise be dropped silently."""
        if not self.objects and not self.imported:
            return
        collector = _CallCollector()
        expr.visit(collector)
        for call in collector.calls:
            target = self.unionml_target(call.func)
            if target is None:
                continue
            obj, method = target
            roles = DATASET_COMPONENTS if obj.kind == "dataset" else MODEL_COMPONENTS
            if method in roles or (method in SCHEDULE_METHODS and obj.kind == "model"):
                where = context or "nested inside another expression (a comprehension, lambda or call)"
                self._conditional(call, f"{obj.variable}.{method}(...)", where)

    def _conditional(self, node: cst.CSTNode, what: str, context: str) -> None:
        self.diagnostics.error(
            codes.CONDITIONAL_UNIONML_CALL,
            self.pos(node),
            f"{what} is {context}; the generator cannot know whether or how often it runs",
            _ONCE_HINT,
        )

    def _register_by_call(self, obj: UnionObject, role: str, call: cst.Call) -> None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if len(positional) != 1 or not isinstance(positional[0].value, cst.Name):
            self.diagnostics.error(
                codes.INVALID_REGISTRATION,
                self.pos(call),
                f"{obj.variable}.{role}(...) must be given one function by name",
                f"write `{obj.variable}.{role}(my_function)` or decorate the function with `@{obj.variable}.{role}`",
            )
            return
        name = positional[0].value.value
        node = self.bindings.functions.get(name)
        options_call = call.with_changes(args=[a for a in call.args if a is not positional[0]])
        self._register(obj, role, name, node, options_call, self.pos(call))

    def _register(
        self,
        obj: UnionObject,
        role: str,
        function: str,
        node: cst.FunctionDef | None,
        call: cst.Call | None,
        position: Position,
    ) -> None:
        if role == "reader" and obj.sql_task is not None:
            self.diagnostics.error(
                codes.SQL_DATASET_WITH_READER,
                position,
                f"the dataset '{obj.variable}' reads with the SQL task '{obj.sql_task.variable}'; unionml ignores a reader "
                "registered on it",
                "remove the reader, or define the dataset with `Dataset(...)` to read with it",
            )
            return
        options: list[tuple[str, Expression]] = []
        callbacks: tuple[Expression, ...] = ()
        for arg in call.args if call else ():
            if arg.keyword is None or arg.star:
                self.diagnostics.error(
                    codes.INVALID_TASK_OPTION,
                    position,
                    f"@{obj.variable}.{role}(...) takes task options by keyword only",
                    "e.g. `cache=True`",
                )
                continue
            key = arg.keyword.value
            if role not in TASK_COMPONENTS:
                self.diagnostics.error(
                    codes.INVALID_TASK_OPTION,
                    position,
                    f"`{key}=`: unionml's {obj.kind}.{role} takes no options",
                    f"only {', '.join(TASK_COMPONENTS)} take flytekit task options",
                )
                continue
            if key == "callbacks":
                callbacks = self._callbacks(obj, role, arg.value)
                continue
            options.append((key, self.bindings.code(arg.value)))
        obj.registrations[role] = Registration(function, node, tuple(options), position, callbacks)

    def _callbacks(self, obj: UnionObject, role: str, value: cst.BaseExpression) -> tuple[Expression, ...]:
        """`@model.predictor(callbacks=[fn, ...])`: the callables, each copied as code."""
        if role != "predictor":
            self.diagnostics.error(
                codes.INVALID_CALLBACKS,
                self.pos(value),
                f"`callbacks=`: unionml's {obj.kind}.{role} takes no callbacks",
                "only the predictor does",
            )
            return ()
        if _is_none(value):
            return ()
        elements = value.elements if isinstance(value, (cst.List, cst.Tuple)) else None
        if elements is None or any(isinstance(e, (cst.StarredElement,)) for e in elements):
            self.diagnostics.error(
                codes.INVALID_CALLBACKS,
                self.pos(value),
                "predictor callbacks must be a list written out in the call",
                "write `callbacks=[my_callback, ...]` with functions defined or imported at the top level of the app",
            )
            return ()
        return tuple(self.bindings.code(e.value) for e in elements)


class _CallCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


def _callable_code(code: Expression, node: cst.BaseExpression) -> Expression:
    """`init` as text the generated code can call: `(A if c else B)(**hyperparameters)`."""
    atomic = isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) or bool(node.lpar)
    return code if atomic else Expression(f"({code.text})", code.names)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _column_names(value) -> bool:
    """None, a column name, or a list or tuple of them: what `Dataset(features=..., targets=...)` takes."""
    return (
        value is None
        or isinstance(value, str)
        or (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value))
    )
