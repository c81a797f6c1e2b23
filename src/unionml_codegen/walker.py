"""Follow an app's top-level statements in the order Python runs them on import.

The walker knows Python, not unionml: it binds constants as they are assigned and marks
names unknown when their value cannot be read, unrolls `for` loops over known sequences,
enters `with`/`try` bodies (which run once), and tracks the *context* of a statement: None
at the top level, or a phrase like "inside an `if` block" when the statement may run zero
or many times. Everything unionml-specific is left to the reader it is given (see
`unionml_api.py`), which it calls for each assignment, expression and decorated `def`.
"""

from __future__ import annotations

from typing import Iterable, Protocol, Sequence

import libcst as cst

from .bindings import Bindings, free_names
from .spec import Import
from .values import NotStatic


class Reader(Protocol):
    """What the walker asks of the unionml-API reader."""

    def constructor(self, value: cst.BaseExpression, targets: Iterable, context: str | None) -> bool:
        """Read `x = Dataset(...)`/`Model(...)`; False when `value` is not one."""

    def calls_in(self, expr: cst.BaseExpression, context: str | None) -> None:
        """Read unionml calls (registrations, schedules, train) in an expression statement or value."""

    def decorators(self, node: cst.FunctionDef, context: str | None) -> None:
        """Read `@model.trainer`-style decorators of a `def`."""


class Walker:
    def __init__(self, bindings: Bindings, reader: Reader):
        self.bindings = bindings
        self.reader = reader

    def statements(self, statements: Sequence[cst.CSTNode], context: str | None) -> None:
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
            self.bindings.bind_unknown(node.name.value, node, "is a class")
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
        self.statements(body.body, context)

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
                items = list(self.bindings.evaluator().evaluate(node.iter))
            except (NotStatic, TypeError):
                items = None
            if items is not None:
                for item in items:
                    self.bindings.bind_target(node.target, item)
                    self._nested(node.body, None)
                if node.orelse:
                    self._nested(node.orelse.body, None)
                return
        self.bindings.bind_unknown_target(node.target, node.target)
        where = context or "inside a `for` loop over a sequence the generator cannot evaluate"
        self._nested(node.body, where)

    def _function_def(self, node: cst.FunctionDef, context: str | None) -> None:
        name = node.name.value
        if context is None:
            self.bindings.functions[name] = node
        self.bindings.bind_unknown(name, node, "is a function")
        self.reader.decorators(node, context)
        self._nested(node.body, "inside a function, which the app does not call at import")

    def _small_statement(self, node: cst.BaseSmallStatement, context: str | None) -> None:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            self._import(node)
        elif isinstance(node, cst.Assign):
            value = node.value
            if self.reader.constructor(value, node.targets, context):
                return
            self.reader.calls_in(value, context)
            for target in node.targets:
                self._assign(target.target, value, context)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None and not self.reader.constructor(node.value, [node], context):
                self.reader.calls_in(node.value, context)
                self._assign(node.target, node.value, context)
        elif isinstance(node, cst.AugAssign):
            for name in free_names(node.target):
                self.bindings.bind_unknown(name, node, "is changed by an augmented assignment")
        elif isinstance(node, cst.Expr):
            self.reader.calls_in(node.value, context)

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression, context: str | None) -> None:
        if context is not None:
            self.bindings.bind_unknown_target(target, target)
            return
        try:
            evaluated = self.bindings.evaluator().evaluate(value)
        except NotStatic:
            self.bindings.bind_unknown_target(target, value)
            return
        self.bindings.bind_target(target, evaluated)

    def _import(self, node: cst.Import | cst.ImportFrom) -> None:
        bindings, code = self.bindings, self.bindings.module.code_for_node
        if isinstance(node, cst.Import):
            for alias in node.names:
                binding = Import(code(alias.name), None, alias.asname.name.value if alias.asname else None)
                bindings.imports[binding.bound_name] = binding
                bindings.unknown.pop(binding.bound_name, None)
            return
        if isinstance(node.names, cst.ImportStar):
            bindings.diagnostics.error(
                bindings.pos(node),
                "`import *` hides which names the app uses",
                "import the names the components need explicitly",
            )
            return
        module = code(node.module) if node.module else ""
        for alias in node.names:
            asname = alias.asname.name.value if alias.asname else None
            bindings.bind_import(Import(module, code(alias.name), asname, level=len(node.relative)))


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = {test.left, test.comparisons[0].comparator}
    names = {n.value for n in sides if isinstance(n, cst.Name)}
    strings = {n.evaluated_value for n in sides if isinstance(n, cst.SimpleString)}
    return names == {"__name__"} and strings == {"__main__"}
