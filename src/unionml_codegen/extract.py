"""Read a UnionML app with libcst, without importing or running it.

The module's top-level statements are followed in order, the way Python would run them on
import: constants are evaluated as they are assigned, `Dataset(...)`/`Model(...)` objects
are recorded, component registrations replace earlier ones, `for` loops over known
sequences are unrolled, and schedule calls are evaluated with the constants known at that
point. A unionml call that would run only conditionally (inside a function, an `if`, an
`except`, a loop over an unknown sequence) is an error, since the generator cannot know
whether it runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import libcst as cst
import builtins

from libcst.metadata import MetadataWrapper, PositionProvider

from .diagnostics import Diagnostics, Position
from .spec import (
    DATASET_COMPONENTS,
    MODEL_COMPONENTS,
    TASK_COMPONENTS,
    Code,
    Function,
    Import,
    Parameter,
    Schedule,
)
from .values import Evaluator, NotStatic

DATASET_CLASSES = frozenset({"unionml.Dataset", "unionml.dataset.Dataset"})
MODEL_CLASSES = frozenset({"unionml.Model", "unionml.model.Model"})
SCHEDULE_METHODS = {"schedule_training": "training", "schedule_prediction": "prediction"}

_TRAINING_ARGS = {
    "expression", "offset", "fixed_rate", "reader_time_arg", "activate_on_deploy", "launchplan_kwargs",
    "hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs", "trainer_kwargs",
}  # fmt: skip
_PREDICTION_ARGS = {
    "expression", "offset", "fixed_rate", "reader_time_arg", "activate_on_deploy", "launchplan_kwargs",
    "model_object", "model_version", "app_version", "model_file", "loader_kwargs",
}  # fmt: skip
_DICT_ARGS = ("launchplan_kwargs", "hyperparameters", "loader_kwargs", "splitter_kwargs", "parser_kwargs",
              "trainer_kwargs")  # fmt: skip

_ONCE_HINT = (
    "call it at the module's top level (a `with` or `try` body, or a `for` loop over a literal list, "
    "is fine) so that it runs exactly once when the app is imported"
)


@dataclass
class Registration:
    """A component registration seen so far (the last one for a role wins)."""

    function: str
    node: cst.FunctionDef | None
    task_options: tuple[tuple[str, Code], ...]
    position: Position


@dataclass
class UnionObject:
    kind: str  # "dataset" or "model"
    variable: str
    call: cst.Call
    position: Position
    arguments: dict[str, Any] = field(default_factory=dict)
    init: Code | None = None
    dataset: str | None = None
    registrations: dict[str, Registration] = field(default_factory=dict)


@dataclass
class Extraction:
    """What the interpreter found; `build.py` turns it into the frozen `App`."""

    module: cst.Module
    wrapper: MetadataWrapper
    objects: dict[str, UnionObject]
    schedules: list[Schedule]
    imports: dict[str, Import]
    functions: dict[str, cst.FunctionDef]
    registration_nodes: set[cst.CSTNode]  # unionml decorators, to strip from the generated code
    train_calls: dict[str, Position]  # model variable -> last `model.train(...)` call


def parse(source: str, diagnostics: Diagnostics) -> cst.Module | None:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        position, message = Position(exc.raw_line, exc.raw_column + 1), exc.message
        # libcst's native parser reports column 0 and sometimes the following line; Python's own
        # parser points at the offending token, so ask it where the error is.
        import ast

        try:
            compile(source, diagnostics.path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except SyntaxError as error:
            if error.lineno:
                position, message = Position(error.lineno, max(error.offset or 1, 1)), error.msg
        except ValueError:  # e.g. null bytes: keep libcst's report
            pass
        diagnostics.error(
            position,
            message if message.startswith("invalid syntax") else f"invalid syntax: {message}",
            "the app must be valid Python before code can be generated from it",
        )
        return None


def extract(module: cst.Module, diagnostics: Diagnostics) -> Extraction:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # the module is ours: skip libcst's deep copy
    return _Interpreter(wrapper, diagnostics).run()


def qualified_name(node: cst.CSTNode, imports: dict[str, Import]) -> str | None:
    """The dotted name an expression like `uml.Model` or `dict` stands for, from the imports."""
    attributes: list[str] = []
    while isinstance(node, cst.Attribute):
        attributes.insert(0, node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    binding = imports.get(node.value)
    if binding is None:
        base = f"builtins.{node.value}" if hasattr(builtins, node.value) else None
    elif binding.name is not None:
        base = f"{binding.module}.{binding.name}"
    else:
        base = binding.module if binding.alias else binding.top_level_module
    return None if base is None else ".".join([base, *attributes])


def free_names(node: cst.CSTNode) -> frozenset[str]:
    """Names an expression reads (not attribute names or keyword names)."""
    collector = _NameCollector()
    node.visit(collector)
    return frozenset(collector.names)


class _NameCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in ("True", "False", "None"):
            self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        inner = free_names(node.body) - {p.name.value for p in node.params.params}
        self.names.update(inner)
        return False


class _CallCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


class _Interpreter:
    def __init__(self, wrapper: MetadataWrapper, diagnostics: Diagnostics):
        self.wrapper = wrapper
        self.module = wrapper.module
        self.diagnostics = diagnostics
        self.positions = wrapper.resolve(PositionProvider)
        self.constants: dict[str, Any] = {}
        self.unknown: dict[str, str] = {}
        self.objects: dict[str, UnionObject] = {}
        self.schedules: list[Schedule] = []
        self.imports: dict[str, Import] = {}
        self.functions: dict[str, cst.FunctionDef] = {}
        self.registration_nodes: set[cst.CSTNode] = set()
        self.train_calls: dict[str, Position] = {}

    def run(self) -> Extraction:
        self._statements(self.module.body, context=None)
        return Extraction(
            self.module,
            self.wrapper,
            self.objects,
            self.schedules,
            self.imports,
            self.functions,
            self.registration_nodes,
            self.train_calls,
        )

    # helpers
    def pos(self, node: cst.CSTNode) -> Position:
        start = self.positions[node].start
        return Position(start.line, start.column + 1)

    def code(self, node: cst.CSTNode) -> Code:
        return Code(self.module.code_for_node(node), free_names(node))

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        """`td` -> `datetime.timedelta` after `from datetime import timedelta as td`, with the imports
        seen so far (libcst's QualifiedNameProvider would analyse the whole module for this)."""
        shadowed = node.value in self.constants or node.value in self.unknown if isinstance(node, cst.Name) else False
        return None if shadowed else qualified_name(node, self.imports)

    def evaluator(self) -> Evaluator:
        return Evaluator(self.constants, self.qualified_name, self.unknown)

    def evaluate(self, node: cst.BaseExpression) -> tuple[bool, Any]:
        try:
            return True, self.evaluator().evaluate(node)
        except NotStatic as exc:
            self.diagnostics.error(self.pos(exc.node), exc.reason, exc.hint)
            return False, None

    def unionml_target(self, func: cst.BaseExpression) -> tuple[UnionObject, str] | None:
        """`model.trainer` -> (the model object, "trainer") when `model` is a unionml object."""
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            obj = self.objects.get(func.value.value)
            if obj is not None:
                return obj, func.attr.value
        return None

    # statements
    def _statements(self, statements: Sequence[cst.CSTNode], context: str | None) -> None:
        for statement in statements:
            self._statement(statement, context)

    def _statement(self, node: cst.CSTNode, context: str | None) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self._small_statement(small, context)
        elif isinstance(node, cst.FunctionDef):
            self._function_def(node, context)
        elif isinstance(node, cst.ClassDef):
            self._nested(node.body, "inside a class body")
            self._bind_unknown(node.name.value, node, "is a class")
        elif isinstance(node, cst.If):
            self._if(node, context)
        elif isinstance(node, cst.For):
            self._for(node, context)
        elif isinstance(node, cst.While):
            self._nested(node.body, "inside a `while` loop")
            if node.orelse:
                self._nested(node.orelse.body, "inside a `while ... else` block")
        elif isinstance(node, cst.With):
            self._nested(node.body, context)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self._nested(node.body, context)
            for handler in node.handlers:
                self._nested(handler.body, "inside an `except` block")
            if node.orelse:
                self._nested(node.orelse.body, "inside a `try ... else` block")
            if node.finalbody:
                self._nested(node.finalbody.body, context)
        elif isinstance(node, cst.Match):
            for case in node.cases:
                self._nested(case.body, "inside a `match` case")

    def _nested(self, body: cst.BaseSuite, context: str | None) -> None:
        """The statements of a block, indented or on the same line (`with x: f()`)."""
        if isinstance(body, cst.SimpleStatementSuite):
            for small in body.body:
                self._small_statement(small, context)
            return
        self._statements(body.body, context)

    def _if(self, node: cst.If, context: str | None) -> None:
        if _is_main_guard(node.test):
            where = "inside `if __name__ == '__main__'`, which does not run when the app is deployed"
        else:
            where = "inside an `if` block"
        self._nested(node.body, context or where)
        orelse = node.orelse
        while orelse is not None:
            self._nested(orelse.body, context or "inside an `else` block")
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None

    def _for(self, node: cst.For, context: str | None) -> None:
        if context is None:
            try:
                items = list(self.evaluator().evaluate(node.iter))
            except (NotStatic, TypeError):
                items = None
            if items is not None:
                for item in items:
                    self._bind_target(node.target, item)
                    self._nested(node.body, None)
                if node.orelse:
                    self._nested(node.orelse.body, None)
                return
        self._bind_unknown_target(node.target, node.target)
        where = context or "inside a `for` loop over a sequence the generator cannot evaluate"
        self._nested(node.body, where)

    def _bind_target(self, target: cst.BaseExpression, value: Any) -> None:
        if isinstance(target, cst.Name):
            self.constants[target.value] = value
            self.unknown.pop(target.value, None)
        elif isinstance(target, (cst.Tuple, cst.List)):
            values = list(value) if isinstance(value, (list, tuple)) else []
            elements = [e.value for e in target.elements]
            if len(values) != len(elements):
                for e in elements:
                    self._bind_unknown_target(e, target)
                return
            for element, item in zip(elements, values):
                self._bind_target(element, item)
        else:
            self._bind_unknown_target(target, target)

    def _bind_unknown_target(self, target: cst.CSTNode, node: cst.CSTNode) -> None:
        for name in free_names(target):
            self._bind_unknown(name, node, "is assigned from an expression the generator cannot evaluate")

    def _bind_unknown(self, name: str, node: cst.CSTNode, why: str) -> None:
        self.constants.pop(name, None)
        self.unknown[name] = f"{why} (line {self.pos(node).line})"

    def _function_def(self, node: cst.FunctionDef, context: str | None) -> None:
        name = node.name.value
        if context is None:
            self.functions[name] = node
        self._bind_unknown(name, node, "is a function")
        for decorator in node.decorators:
            expr = decorator.decorator
            call = expr if isinstance(expr, cst.Call) else None
            target = self.unionml_target(call.func if call else expr)
            if target is None:
                continue
            obj, role = target
            self.registration_nodes.add(decorator)
            if context is not None:
                self._conditional(decorator, f"{obj.variable}.{role}", context)
                continue
            self._register(obj, role, name, node, call, self.pos(decorator))
        self._nested(node.body, "inside a function, which the app does not call at import")

    def _small_statement(self, node: cst.BaseSmallStatement, context: str | None) -> None:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            self._import(node)
        elif isinstance(node, cst.Assign):
            value = node.value
            if self._unionml_constructor(value, node.targets, context):
                return
            self._calls_in(value, context)
            for target in node.targets:
                self._assign(target.target, value, context)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None and not self._unionml_constructor(node.value, [node], context):
                self._calls_in(node.value, context)
                self._assign(node.target, node.value, context)
        elif isinstance(node, cst.AugAssign):
            for name in free_names(node.target):
                self._bind_unknown(name, node, "is changed by an augmented assignment")
        elif isinstance(node, cst.Expr):
            self._calls_in(node.value, context)

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression, context: str | None) -> None:
        if context is not None:
            self._bind_unknown_target(target, target)
            return
        try:
            evaluated = self.evaluator().evaluate(value)
        except NotStatic:
            self._bind_unknown_target(target, value)
            return
        self._bind_target(target, evaluated)

    def _import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                module = self.module.code_for_node(alias.name)
                asname = alias.asname.name.value if alias.asname else None
                binding = Import(module, None, asname)
                self.imports[binding.bound_name] = binding
                self.unknown.pop(binding.bound_name, None)
            return
        if isinstance(node.names, cst.ImportStar):
            self.diagnostics.error(
                self.pos(node),
                "`import *` hides which names the app uses",
                "import the names the components need explicitly",
            )
            return
        module = self.module.code_for_node(node.module) if node.module else ""
        for alias in node.names:
            name = self.module.code_for_node(alias.name)
            asname = alias.asname.name.value if alias.asname else None
            binding = Import(module, name, asname, level=len(node.relative))
            self.imports[binding.bound_name] = binding
            self.constants.pop(binding.bound_name, None)
            self.unknown.pop(binding.bound_name, None)

    def _unionml_constructor(self, value: cst.BaseExpression, targets: Iterable, context: str | None) -> bool:
        if not isinstance(value, cst.Call):
            return False
        qualified = self.qualified_name(value.func)
        kind = "dataset" if qualified in DATASET_CLASSES else "model" if qualified in MODEL_CLASSES else None
        if kind is None:
            return False
        names = [t.target for t in targets]
        if context is not None:
            self._conditional(value, "Dataset(...)" if kind == "dataset" else "Model(...)", context)
            return True
        if len(names) != 1 or not isinstance(names[0], cst.Name):
            self.diagnostics.error(
                self.pos(value),
                f"assign the unionml {kind} to one plain name",
                f"write `{kind} = {kind.title()}(...)`",
            )
            return True
        variable = names[0].value
        obj = UnionObject(kind, variable, value, self.pos(value))
        (self._dataset_arguments if kind == "dataset" else self._model_arguments)(obj, value)
        self.objects[variable] = obj
        self.unknown[variable] = f"is the unionml {kind} object (line {obj.position.line})"
        self.constants.pop(variable, None)
        return True

    def _dataset_arguments(self, obj: UnionObject, call: cst.Call) -> None:
        parameters = ("name",)
        keywords = {"name", "features", "targets", "test_size", "shuffle", "random_state"}
        obj.arguments = {"name": "dataset", "features": None, "targets": None, "test_size": 0.2,
                         "shuffle": True, "random_state": 12345}  # fmt: skip
        for key, arg in self._arguments(call, parameters, keywords, "Dataset"):
            ok, value = self.evaluate(arg.value)
            if ok:
                obj.arguments[key] = value

    def _model_arguments(self, obj: UnionObject, call: cst.Call) -> None:
        obj.arguments = {"name": "model", "hyperparameter_config": None}
        keywords = {"name", "init", "dataset", "hyperparameter_config"}
        for key, arg in self._arguments(call, ("name", "init"), keywords, "Model"):
            if key == "init":
                obj.init = self.code(arg.value)
            elif key == "dataset":
                dataset = self.objects.get(arg.value.value) if isinstance(arg.value, cst.Name) else None
                if dataset is None or dataset.kind != "dataset":
                    self.diagnostics.error(
                        self.pos(arg.value),
                        "the model's dataset must be a unionml Dataset assigned to a name earlier in the app",
                        "write `dataset = Dataset(...)` above and pass `dataset=dataset`",
                    )
                else:
                    obj.dataset = dataset.variable
            elif key == "hyperparameter_config" and not _is_none(arg.value):
                obj.arguments[key] = self.code(arg.value)
            else:
                ok, value = self.evaluate(arg.value)
                if ok:
                    obj.arguments[key] = value
        if obj.dataset is None and not any(a.keyword and a.keyword.value == "dataset" for a in call.args):
            self.diagnostics.error(obj.position, "Model(...) needs `dataset=`", "pass `dataset=` a unionml Dataset")

    def _arguments(
        self, call: cst.Call, positional: tuple[str, ...], keywords: set[str], what: str
    ) -> list[tuple[str, cst.Arg]]:
        result = []
        for index, arg in enumerate(call.args):
            if arg.star:
                self.diagnostics.error(
                    self.pos(arg), f"`{arg.star}` arguments to {what}(...) are not read", "pass each argument by name"
                )
            elif arg.keyword is None:
                if index >= len(positional):
                    self.diagnostics.error(
                        self.pos(arg),
                        f"{what}(...) takes at most {len(positional)} positional argument(s)",
                        "pass the other arguments by keyword",
                    )
                else:
                    result.append((positional[index], arg))
            elif arg.keyword.value not in keywords:
                self.diagnostics.error(
                    self.pos(arg.keyword),
                    f"{what}(...) has no parameter '{arg.keyword.value}'",
                    f"known parameters: {', '.join(sorted(keywords))}",
                )
            else:
                result.append((arg.keyword.value, arg))
        return result

    # unionml calls
    def _calls_in(self, expr: cst.BaseExpression, context: str | None) -> None:
        target = self.unionml_target(expr.func) if isinstance(expr, cst.Call) else None
        if target is None:
            self._nested_calls(expr, context)
            return
        assert isinstance(expr, cst.Call)
        obj, method = target
        is_component = method in (DATASET_COMPONENTS if obj.kind == "dataset" else MODEL_COMPONENTS)
        if method in SCHEDULE_METHODS and obj.kind == "model":
            if context is not None:
                self._conditional(expr, f"{obj.variable}.{method}(...)", context)
            else:
                self._schedule(obj, SCHEDULE_METHODS[method], expr)
        elif is_component:
            if context is not None:
                self._conditional(expr, f"{obj.variable}.{method}(...)", context)
                return
            self._register_by_call(obj, method, expr)
        elif method == "train" and obj.kind == "model" and context is None:
            self.train_calls[obj.variable] = self.pos(expr)

    def _nested_calls(self, expr: cst.BaseExpression, context: str | None) -> None:
        """Schedule and registration calls buried in an expression (a comprehension, a lambda,
        another call's argument) would otherwise be dropped silently."""
        if not self.objects:
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
            self.pos(node),
            f"{what} is {context}; the generator cannot know whether or how often it runs",
            _ONCE_HINT,
        )

    def _register_by_call(self, obj: UnionObject, role: str, call: cst.Call) -> None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if len(positional) != 1 or not isinstance(positional[0].value, cst.Name):
            self.diagnostics.error(
                self.pos(call),
                f"{obj.variable}.{role}(...) must be given one function by name",
                f"write `{obj.variable}.{role}(my_function)` or decorate the function with `@{obj.variable}.{role}`",
            )
            return
        name = positional[0].value.value
        node = self.functions.get(name)
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
        options: list[tuple[str, Code]] = []
        for arg in call.args if call else ():
            if arg.keyword is None or arg.star:
                self.diagnostics.error(
                    position, f"@{obj.variable}.{role}(...) takes task options by keyword only", "e.g. `cache=True`"
                )
                continue
            key = arg.keyword.value
            if role not in TASK_COMPONENTS:
                self.diagnostics.error(
                    position,
                    f"`{key}=`: unionml's {obj.kind}.{role} takes no options",
                    f"only {', '.join(TASK_COMPONENTS)} take flytekit task options",
                )
                continue
            if key == "callbacks":
                self.diagnostics.error(
                    position,
                    "predictor callbacks are not supported by the generator",
                    "call the callback from the predictor itself",
                )
                continue
            options.append((key, Code(self.module.code_for_node(arg.value), free_names(arg.value))))
        obj.registrations[role] = Registration(function, node, tuple(options), position)

    def _schedule(self, obj: UnionObject, kind: str, call: cst.Call) -> None:
        known = _TRAINING_ARGS if kind == "training" else _PREDICTION_ARGS
        values: dict[str, Any] = {}
        positions: dict[str, Position] = {}
        reader_kwargs: dict[str, Any] = {}
        ok = True
        method = f"{obj.variable}.schedule_{kind}"
        for index, arg in enumerate(call.args):
            if arg.star == "**":
                good, mapping = self.evaluate(arg.value)
                if good and isinstance(mapping, dict):
                    for key, value in mapping.items():
                        target = values if key in known or key == "name" else reader_kwargs
                        target[key] = value
                        positions[key] = self.pos(arg)
                ok = ok and good
                continue
            if arg.star == "*" or (arg.keyword is None and index > 0):
                self.diagnostics.error(
                    self.pos(arg),
                    f"{method}(...) takes only the name positionally",
                    "pass every other argument by keyword",
                )
                ok = False
                continue
            key = "name" if arg.keyword is None else arg.keyword.value
            positions[key] = self.pos(arg.value)
            if key == "model_object":
                values[key] = self.code(arg.value)
                continue
            if key == "model_file" and kind == "prediction":
                try:  # a path computed at run time is reported with the other unknowable models
                    values[key] = self.evaluator().evaluate(arg.value)
                except NotStatic:
                    values[key] = self.code(arg.value)
                continue
            good, value = self.evaluate(arg.value)
            ok = ok and good
            (values if key in known or key == "name" else reader_kwargs)[key] = value
        if "name" not in values:
            self.diagnostics.error(self.pos(call), f"{method}(...) needs a name", 'e.g. `name="daily_training"`')
            return
        if not ok:
            return
        name = values["name"]
        if not isinstance(name, str):
            self.diagnostics.error(positions["name"], "a schedule name must be a string", 'e.g. `"daily_training"`')
            return
        for key in _DICT_ARGS:
            if values.get(key) is not None and not isinstance(values[key], dict):
                self.diagnostics.error(positions[key], f"`{key}` must be a dict", f"e.g. `{key}={{...}}`")
                return
        if values.get("fixed_rate") is not None and not isinstance(values["fixed_rate"], dt.timedelta):
            self.diagnostics.error(
                positions["fixed_rate"], "`fixed_rate` must be a timedelta", "e.g. `fixed_rate=timedelta(hours=1)`"
            )
            return
        for key in ("expression", "offset", "reader_time_arg", "model_version", "app_version", "model_file"):
            if values.get(key) is not None and not isinstance(values[key], (str, Code)):
                self.diagnostics.error(positions[key], f"`{key}` must be a string", "")
                return
        self.schedules.append(
            Schedule(
                kind=kind,  # type: ignore[arg-type]
                name=name,
                model=obj.variable,
                expression=values.get("expression"),
                offset=values.get("offset"),
                fixed_rate=values.get("fixed_rate"),
                reader_time_arg=values.get("reader_time_arg"),
                activate_on_deploy=bool(values.get("activate_on_deploy", True)),
                launchplan_kwargs=values.get("launchplan_kwargs") or {},
                hyperparameters=values.get("hyperparameters") or {},
                loader_kwargs=values.get("loader_kwargs") or {},
                splitter_kwargs=values.get("splitter_kwargs") or {},
                parser_kwargs=values.get("parser_kwargs") or {},
                trainer_kwargs=values.get("trainer_kwargs") or {},
                reader_kwargs=reader_kwargs,
                position=self.pos(call),
                argument_positions=positions,
                model_source=_model_source(values) if kind == "prediction" else None,
                model_train_call=self.train_calls.get(obj.variable),
            )
        )


def _model_source(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in ("model_object", "model_version", "app_version", "model_file") if key in values}


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = {test.left, test.comparisons[0].comparator}
    names = {n.value for n in sides if isinstance(n, cst.Name)}
    strings = {n.evaluated_value for n in sides if isinstance(n, cst.SimpleString)}
    return names == {"__name__"} and strings == {"__main__"}


def function_spec(node: cst.FunctionDef, module: cst.Module, position) -> Function:
    """The signature of a component function, as source fragments."""

    def code(expr: cst.CSTNode | None) -> Code | None:
        return None if expr is None else Code(module.code_for_node(expr), free_names(expr))

    params = node.params
    parameters: list[Parameter] = []
    groups: list[tuple[str, Sequence[cst.Param]]] = [
        ("positional", [*params.posonly_params, *params.params]),
        ("var_positional", [params.star_arg] if isinstance(params.star_arg, cst.Param) else []),
        ("keyword_only", params.kwonly_params),
        ("var_keyword", [params.star_kwarg] if params.star_kwarg else []),
    ]
    for kind, group in groups:
        for param in group:
            annotation = code(param.annotation.annotation) if param.annotation else None
            parameters.append(
                Parameter(param.name.value, kind, annotation, code(param.default), position(param))  # type: ignore[arg-type]
            )
    returns = code(node.returns.annotation) if node.returns else None
    return Function(node.name.value, tuple(parameters), returns, position(node.name))
