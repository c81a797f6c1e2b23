"""unionml's SQL datasets: `Dataset.from_sqlite_task(task, ...)` and `Dataset.from_sqlalchemy_task(task, ...)`.

unionml 0.2.1 makes the flytekit SQL task (a `SQLite3Task(...)` or `SQLAlchemyTask(...)` object the
app defines at module level) the dataset's reader: its inputs (`inputs=kwtypes(limit=int)`) are the
reader's inputs (workflow inputs, schedule keyword arguments), its one output
(`output_schema_type=`) is the data, and the training and prediction workflows call the task itself
as their first node. The generator reads the task's interface from its constructor call, as a
reader `Function` named after the task's variable; the generated components module keeps the
task's definition (it is the reader), and the generated workflows call it directly.
"""

from __future__ import annotations

import libcst as cst

from . import codes
from .bindings import Bindings
from .diagnostics import Position
from .spec import Function, Parameter

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
_INPUTS_HINT = "write the task's inputs as `inputs=kwtypes(name=type, ...)` (or a dict literal of types)"


class SqlTasks:
    """The SQL task objects assigned at the module's top level, by variable."""

    def __init__(self, bindings: Bindings):
        self.bindings = bindings
        self.calls: dict[str, cst.Call] = {}

    def assignment(self, value: cst.BaseExpression, targets: list[cst.BaseExpression], context: str | None) -> None:
        """Remember `task = SQLite3Task(...)`; any other assignment to the name forgets it."""
        for target in targets:
            if isinstance(target, cst.Name):
                self.calls.pop(target.value, None)
        is_task = isinstance(value, cst.Call) and self.bindings.qualified_name(value.func) in SQL_TASK_CLASSES
        if is_task and context is None and len(targets) == 1 and isinstance(targets[0], cst.Name):
            self.calls[targets[0].value] = value  # type: ignore[assignment]

    def reader(self, task: cst.BaseExpression) -> Function | None:
        """The reader interface of the SQL task `task` (an argument of `from_sqlite_task`), or None
        after reporting why it cannot be read."""
        diagnostics, pos = self.bindings.diagnostics, self.bindings.pos
        call = self.calls.get(task.value) if isinstance(task, cst.Name) else None
        if call is None:
            diagnostics.error(
                codes.SQL_TASK_NOT_A_NAME,
                pos(task),
                "the dataset's SQL task must be a SQLite3Task(...) or SQLAlchemyTask(...) assigned to a name "
                "earlier at the top level of the app",
                "write `task = SQLite3Task(...)` above and pass `task`",
            )
            return None
        assert isinstance(task, cst.Name)
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
        if output is None or (isinstance(output.value, cst.Name) and output.value.value == "None"):
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
        return Function(task.value, parameters, self.bindings.code(output.value), pos(task))

    def _inputs(self, arg: cst.Arg | None) -> tuple[Parameter, ...] | None:
        if arg is None or (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
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
