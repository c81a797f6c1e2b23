"""unionml's SQL datasets: `Dataset.from_sqlite_task(task, ...)` and `Dataset.from_sqlalchemy_task(task, ...)`.

unionml 0.2.1 makes the flytekit SQL task (a `SQLite3Task(...)` or `SQLAlchemyTask(...)` object the
app defines at module level) the dataset's reader: its inputs (`inputs=kwtypes(limit=int)`) are the
reader's inputs (workflow inputs, schedule keyword arguments), its one output
(`output_schema_type=`) is the data, and the training and prediction workflows call the task itself
as their first node. The generator reads the task's interface from its constructor call, as a
reader `Function` named after the task's variable; the generated components module keeps the
task's definition (it is the reader), and the generated workflows call it directly.

The flyte2 target cannot import flytekit: it runs a SQLite3Task's query itself (render/flyte2.py),
from the query template and `SQLite3Config(uri=..., compressed=...)` read here as constants
(`SqlTask`), where they can be; rules/flyte2.py refuses the rest.
"""

from __future__ import annotations

import ast
import re
import reprlib
from dataclasses import replace

import libcst as cst

from .. import codes
from .bindings import Bindings
from ..diagnostics import Position
from ..spec import Function, Parameter, SqlTask
from .values import NotStatic

SQL_TASK_CLASSES = frozenset({
    "flytekit.extras.sqlite3.task.SQLite3Task",
    "flytekitplugins.sqlalchemy.SQLAlchemyTask",
    "flytekitplugins.sqlalchemy.task.SQLAlchemyTask",
})  # fmt: skip
DATASET_FACTORIES = frozenset(
    f"{cls}.{method}"
    for cls in ("unionml.Dataset", "unionml.dataset.Dataset")
    for method in ("from_sqlite_task", "from_sqlalchemy_task")
)
_KWTYPES = frozenset({"flytekit.kwtypes", "flytekit.core.base_task.kwtypes"})
_SQLITE_TASK = "flytekit.extras.sqlite3.task.SQLite3Task"
_SQLITE_CONFIG = "flytekit.extras.sqlite3.task.SQLite3Config"
_DATAFRAME = frozenset({"pandas.DataFrame", "pandas.core.frame.DataFrame"})
#: the constructor's arguments the generator reads; any other is an option of the flytekit task
_READ_ARGUMENTS = ("name", "query_template", "inputs", "task_config", "output_schema_type")
_INPUTS_HINT = "write the task's inputs as `inputs=kwtypes(name=type, ...)` (or a dict literal of types)"


class SqlTasks:
    """The SQL task objects assigned at the module's top level, by variable."""

    def __init__(self, bindings: Bindings):
        self.bindings = bindings
        self.calls: dict[str, tuple[cst.Call, SqlTask]] = {}

    def assignment(self, value: cst.BaseExpression, targets: list[cst.BaseExpression], context: str | None) -> None:
        """Remember `task = SQLite3Task(...)`; any other assignment to the name forgets it."""
        for target in targets:
            if isinstance(target, cst.Name):
                self.calls.pop(target.value, None)
        kind = self.bindings.qualified_name(value.func) if isinstance(value, cst.Call) else None
        if kind in SQL_TASK_CLASSES and context is None and len(targets) == 1 and isinstance(targets[0], cst.Name):
            assert isinstance(value, cst.Call)
            self.calls[targets[0].value] = (value, self._static(targets[0].value, value, kind))

    def _static(self, variable: str, call: cst.Call, kind: str) -> SqlTask:
        """What the task's constructor says, read now (with the constants bound at this line)."""
        pos = self.bindings.pos
        arguments = dict(zip(("name", "query_template"), (a for a in call.args if a.keyword is None)))
        arguments.update({a.keyword.value: a for a in call.args if a.keyword is not None})
        output = arguments.get("output_schema_type")
        task = SqlTask(
            variable,
            "sqlite" if kind == _SQLITE_TASK else "sqlalchemy",
            pos(call),
            returns_dataframe=output is not None and self.bindings.qualified_name(output.value) in _DATAFRAME,
            other_arguments=tuple((key, pos(arg)) for key, arg in arguments.items() if key not in _READ_ARGUMENTS),
        )
        unreadable: list[tuple[str, str, Position]] = []
        invalid: list[tuple[str, str, Position]] = []
        values: dict = {}
        nodes = [("query_template", arguments["query_template"].value)] if "query_template" in arguments else []
        if task.kind == "sqlite":
            nodes += self._config_nodes(arguments.get("task_config"), unreadable)
        for key, node in nodes:
            try:
                values[key] = self.bindings.evaluator().evaluate(node)
            except NotStatic as exc:
                unreadable.append((key, exc.reason, pos(exc.node)))
                continue
            wanted = bool if key == "compressed" else str
            if not isinstance(values[key], wanted):
                problem = (key, f"`{key}` is {reprlib.repr(values[key])}, not a {wanted.__name__}", pos(node))
                # flytekit cannot build or run a task whose query or database is not a string
                (unreadable if key == "compressed" else invalid).append(problem)
                del values[key]
        # a missing task_config (or None) is an error for both targets (reader())
        with_uri = task.kind == "sqlite" and not _absent(arguments.get("task_config"))
        required = ("query_template", "uri") if with_uri else ("query_template",)
        for key in required:
            if key not in values and all(
                argument not in (key, "task_config") for argument, _, _ in unreadable + invalid
            ):
                unreadable.append((key, f"no `{key}` is given", pos(call)))
        query = values.get("query_template")
        return replace(
            task,
            # flytekit collapses the template's whitespace when it builds the task (base_sql_task.py)
            query_template=None if query is None else re.sub(r"\s+", " ", query).strip(),
            uri=values.get("uri"),
            compressed=values.get("compressed", False if "uri" in values else None),
            unreadable=tuple(unreadable),
            invalid=tuple(invalid),
        )

    def _config_nodes(self, config: cst.Arg | None, unreadable: list) -> list[tuple[str, cst.BaseExpression]]:
        """The nodes of `SQLite3Config(uri, compressed)` holding the database's uri and `compressed` (when given)."""
        call = config.value if config is not None else None
        plain = isinstance(call, cst.Call) and not any(a.star for a in call.args)
        if not plain or self.bindings.qualified_name(call.func) != _SQLITE_CONFIG:
            if not _absent(config):  # an absent task_config is UMG124, for both targets
                where = self.bindings.pos(config.value)
                unreadable.append(("task_config", "`task_config` is not written as `SQLite3Config(uri=...)`", where))
            return []
        given = dict(zip(("uri", "compressed"), (a.value for a in call.args if a.keyword is None)))
        given.update({a.keyword.value: a.value for a in call.args if a.keyword is not None})
        return [(key, given[key]) for key in ("uri", "compressed") if key in given]

    def reader(self, task: cst.BaseExpression) -> tuple[Function, SqlTask] | None:
        """The reader interface of the SQL task `task` (an argument of `from_sqlite_task`) and what
        its constructor says, or None after reporting why it cannot be read."""
        diagnostics, pos = self.bindings.diagnostics, self.bindings.pos
        found = self.calls.get(task.value) if isinstance(task, cst.Name) else None
        if found is None:
            diagnostics.error(
                codes.SQL_TASK_NOT_A_NAME,
                pos(task),
                "the dataset's SQL task must be a SQLite3Task(...) or SQLAlchemyTask(...) assigned to a name "
                "earlier at the top level of the app",
                "write `task = SQLite3Task(...)` above and pass `task`",
            )
            return None
        assert isinstance(task, cst.Name)
        call, static = found
        keywords = {arg.keyword.value: arg for arg in call.args if arg.keyword is not None}
        if sum(1 for arg in call.args if arg.keyword is None) > 2 or any(arg.star for arg in call.args):
            diagnostics.error(
                codes.INVALID_SQL_TASK,
                pos(call),
                "pass the SQL task's `inputs=` and `output_schema_type=` by keyword",
                "e.g. `SQLite3Task(name, query, inputs=kwtypes(limit=int), output_schema_type=pd.DataFrame, ...)`",
            )
            return None
        parameters = self._inputs(keywords.get("inputs"))
        output = keywords.get("output_schema_type")
        if _absent(output):
            diagnostics.error(
                codes.SQL_TASK_WITHOUT_SCHEMA,
                pos(call),
                f"the SQL task '{task.value}' has no `output_schema_type=`: the generator types the data with it",
                "pass the type the query's results are read as, e.g. `output_schema_type=pd.DataFrame` (which "
                "unionml's default loader, splitter and parser expect)",
            )
            return None
        if parameters is None:
            return None
        if static.kind == "sqlite" and _absent(keywords.get("task_config")):
            diagnostics.error(
                codes.SQL_TASK_WITHOUT_DATABASE,
                pos(call),
                f"the SQLite3Task '{task.value}' has no `task_config=`: flytekit refuses it (\"SQLite DB uri is "
                'required")',
                'pass the database, e.g. `task_config=SQLite3Config(uri="shop.db")` (a path in the image or a URL)',
            )
        for argument, why, position in static.invalid:
            diagnostics.error(
                codes.INVALID_SQL_TASK,
                position,
                f"the SQL task '{task.value}': {why}; flytekit cannot build or run the task",
                f"give `{argument}` as a string",
            )
        self._check_query_inputs(task.value, static, parameters)
        return Function(task.value, parameters, self.bindings.code(output.value), pos(task)), static

    def _check_query_inputs(self, variable: str, static: SqlTask, parameters: tuple[Parameter, ...]) -> None:
        """flytekit fills the query's `{{ .inputs.NAME }}` from the task's inputs when the task runs, and
        raises if the query names an input the task has not, or if an input is not in the query."""
        if static.query_template is None:
            return  # not known here (rules/flyte2.py reports it for the target that needs it)
        used = static.query_inputs
        declared = [p.name for p in parameters]
        for name in used:
            if name not in declared:
                self.bindings.diagnostics.error(
                    codes.SQL_QUERY_INPUTS,
                    static.position,
                    f"the query of the SQL task '{variable}' uses `{{{{ .inputs.{name} }}}}`, which is not one of its "
                    f"inputs ({', '.join(declared) or 'it has none'}); flytekit raises when the task runs",
                    f"add `{name}` to the task's `inputs=kwtypes(...)`, or take it out of the query",
                )
        for parameter in parameters:
            if parameter.name not in used:
                self.bindings.diagnostics.error(
                    codes.SQL_QUERY_INPUTS,
                    parameter.position,
                    f"the input '{parameter.name}' of the SQL task '{variable}' is not used in its query; flytekit "
                    'raises ("Extra Inputs have no matches in query template") when the task runs',
                    f"use it in the query as `{{{{ .inputs.{parameter.name} }}}}`, or drop it from `inputs=`",
                )

    def _inputs(self, arg: cst.Arg | None) -> tuple[Parameter, ...] | None:
        if _absent(arg):
            return ()
        value = arg.value
        pairs: list[tuple[str, cst.BaseExpression, Position]] = []
        if isinstance(value, cst.Call) and self.bindings.qualified_name(value.func) in _KWTYPES:
            for item in value.args:
                if item.keyword is None:
                    return self._bad_inputs(item)
                pairs.append((item.keyword.value, item.value, self.bindings.pos(item.keyword)))
        elif isinstance(value, cst.Dict):
            for element in value.elements:
                key = element.key if isinstance(element, cst.DictElement) else None
                if not isinstance(key, cst.SimpleString) or not str(key.evaluated_value).isidentifier():
                    return self._bad_inputs(element)
                pairs.append((str(key.evaluated_value), element.value, self.bindings.pos(key)))
        else:
            return self._bad_inputs(value)
        return tuple(
            Parameter(name, "keyword_only", self.bindings.code(annotation), None, position)
            for name, annotation, position in pairs
        )

    def _bad_inputs(self, node: cst.CSTNode) -> None:
        self.bindings.diagnostics.error(
            codes.INVALID_SQL_TASK,
            self.bindings.pos(node),
            "the generator cannot read the SQL task's inputs from this",
            _INPUTS_HINT,
        )
        return None


def _absent(arg: cst.Arg | None) -> bool:
    """An argument not given, or given as None (what flytekit's constructors default to)."""
    return arg is None or (isinstance(arg.value, cst.Name) and arg.value.value == "None")


def check_changes(tree: ast.Module, source: str, tasks: list[tuple[SqlTask, Position]], diagnostics) -> None:
    """What the generator cannot follow of a dataset's SQL task (`tasks`: each task read, with where its
    `Dataset.from_sqlite_task(...)` call is), each an error at its line: the task's name bound again between
    its constructor and that call other than by a plain assignment, which the walker follows (a `for`
    loop, unpacking, `:=`, `with ... as`, an import, a `def`, `del`), and any change of the task object's
    attributes at the module's level (`task._query_template = ...`, `setattr(task, ...)`,
    `task.task_config.uri = ...`), which the flytekit task would run with."""
    lines = source.splitlines()

    def at(node: ast.AST) -> Position:
        prefix = lines[node.lineno - 1].encode()[: node.col_offset] if 0 < node.lineno <= len(lines) else b""
        return Position(node.lineno, len(prefix.decode(errors="ignore")) + 1)

    for task, call in tasks:
        name, start = task.variable, task.position.line
        reported: set[int] = set()
        for node, how in _module_level_changes(tree, name):
            line = node.lineno
            if line <= start or line in reported:
                continue
            if how == "attribute":
                what = (
                    f"the SQL task '{name}' is changed here; the generator reads the task as its constructor builds it"
                )
                hint = f"pass everything to the constructor (line {start}) instead of changing the task afterwards"
            elif line < call.line:
                what = (
                    f"the SQL task '{name}' is bound again here ({how}) before `Dataset.from_sqlite_task({name}, ...)` "
                    f"(line {call.line}); the generator cannot follow which task the dataset reads"
                )
                hint = f"give the other task a name of its own, or assign `{name} = SQLite3Task(...)` plainly"
            else:
                continue
            reported.add(line)
            diagnostics.error(codes.SQL_TASK_CHANGED, at(node), what, hint)


def _module_level_changes(tree: ast.Module, name: str):
    """(node, how) for each binding of `name` other than a plain assignment to names, and each change of
    an attribute of `name`, in the code that runs at import (function bodies are left out)."""
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name == name:
                yield node, "a `def`"
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.ClassDef) and node.name == name:
            yield node, "a `class`"
        plain = isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)
        plain = plain or (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and plain:
            stack.append(node.value)  # its targets are followed by the walker
            continue
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and _binds(node.target, name):
            yield node, "a `for` loop"
        elif isinstance(node, ast.Assign) and any(_binds(t, name) for t in node.targets):
            yield node, "unpacking"
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            yield node, "an augmented assignment"
        elif isinstance(node, ast.NamedExpr) and node.target.id == name:
            yield node, "`:=`"
        elif isinstance(node, ast.withitem) and node.optional_vars is not None and _binds(node.optional_vars, name):
            yield node.optional_vars, "`with ... as`"
        elif isinstance(node, ast.ExceptHandler) and node.name == name:
            yield node, "`except ... as`"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((alias.asname or alias.name.split(".")[0]) == name for alias in node.names):
                yield node, "an import"
        elif isinstance(node, ast.Delete) and any(_binds(t, name) for t in node.targets):
            yield node, "`del`"
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)) and _root(node) == name:
            yield node, "attribute"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
            and node.args
            and _root(node.args[0]) == name
        ):
            yield node, "attribute"
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _binds(target: ast.AST, name: str) -> bool:
    """Whether an assignment target binds (or `del` unbinds) `name` itself."""
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del)) for n in ast.walk(target)
    )


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
