"""Follow an app's top-level statements in the order Python runs them on import.

The walker knows Python, not unionml: it binds constants as they are assigned and marks
names unknown when their value cannot be read, unrolls `for` loops over known sequences,
enters `with`/`try` bodies (which run once), and tracks the *context* of a statement: None
at the top level, or a phrase like "inside an `if` block" when the statement may run zero
or many times. Everything unionml-specific is left to the reader it is given (see
`unionml_api.py`), which it calls for each assignment, expression and decorated `def`.
"""

from __future__ import annotations

from typing import Collection, Iterable, Protocol, Sequence

import libcst as cst

from .. import codes
from .bindings import Bindings, free_names
from .effects import EVERY_NAME, Change, Effects
from ..spec import Import
from .values import LIMITS_HINT, PAST_BOUNDS, NotStatic

#: Loop iterations the walker unrolls in one app, in total (nested loops multiply).
MAX_UNROLLED = 10_000


class Reader(Protocol):
    """What the walker asks of the unionml-API reader."""

    def constructor(self, value: cst.BaseExpression, targets: Iterable, context: str | None) -> bool:
        """Read `x = Dataset(...)`/`Model(...)`; False when `value` is not one."""

    def calls_in(self, expr: cst.BaseExpression, context: str | None) -> None:
        """Read unionml calls (registrations, schedules, train) in an expression statement or value."""

    def decorators(self, node: cst.FunctionDef, context: str | None) -> None:
        """Read `@model.trainer`-style decorators of a `def`."""

    def unionml_call(self, call: cst.Call) -> bool | None:
        """None if `call` is not to the unionml API, else whether it runs the app's components."""

    def assigned(self, targets: Sequence[cst.AssignTarget], value: cst.BaseExpression, context: str | None) -> None:
        """Called after an assignment's targets are bound (`trained, _ = model.train(...)`)."""


class Walker:
    def __init__(self, bindings: Bindings, reader: Reader, quiet: Collection[cst.CSTNode] = ()):
        self.bindings = bindings
        self.reader = reader
        self.effects = Effects(bindings, reader.unionml_call, quiet)  # quiet: see effects.quiet_statements
        self.function_depth = 0  # > 0 in a function body, which does not run at import
        self.unrolled = 0  # loop iterations unrolled so far
        self.class_depth = 0  # > 0 in a class body, whose names are the class's

    def _run(self, *nodes: cst.CSTNode | None) -> None:
        """Make unknown what evaluating these nodes may change (see effects.py)."""
        if self.function_depth:
            return
        for node in nodes:
            if node is not None:
                self._apply(self.effects.of(node))

    def _apply(self, changes: list[Change]) -> None:
        for change in changes:
            if change.name == EVERY_NAME:
                self.bindings.forget_every_constant(change.node, change.why)
            elif change.in_place:
                self.bindings.changed_in_place(change.name, change.node, change.why)
            else:
                self.bindings.bind_unknown(change.name, change.node, change.why)

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
            self._run(*(d.decorator for d in node.decorators), *(a.value for a in (*node.bases, *node.keywords)))
            self.class_depth += 1
            try:
                self._nested(node.body, "inside a class body")
            finally:
                self.class_depth -= 1
            self.bindings.bind_unknown(node.name.value, node, "is a class")
            self.effects.definitions[node.name.value] = node
        elif isinstance(node, cst.If):
            self._if(node, context)
        elif isinstance(node, cst.For):
            self._for(node, context)
        elif isinstance(node, cst.While):
            self._run(node.test)
            self._nested(node.body, "inside a `while` loop")
            if node.orelse:
                self._nested(node.orelse.body, "inside a `while ... else` block")
        elif isinstance(node, cst.With):
            self._run(*node.items)
            self._nested(node.body, context)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self._nested(node.body, context)
            for handler in node.handlers:
                self._run(handler.type)
                if handler.name is not None and not self.function_depth:
                    self.bindings.bind_unknown_target(handler.name.name, handler)
                self._nested(handler.body, "inside an `except` block")
            if node.orelse:
                self._nested(node.orelse.body, "inside a `try ... else` block")
            if node.finalbody:
                self._nested(node.finalbody.body, context)
        elif isinstance(node, cst.Match):
            self._run(node.subject)
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
        self._run(node.test)
        self._nested(node.body, context or where)
        orelse = node.orelse
        while orelse is not None:
            if isinstance(orelse, cst.If):
                self._run(orelse.test)
            self._nested(orelse.body, context or "inside an `else` block")
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None

    def _for(self, node: cst.For, context: str | None) -> None:
        self._run(node.iter)
        if not self.function_depth:
            self._apply(self.effects.stores(node.target, node))
        if context is None:
            try:
                items = list(self.bindings.evaluator().evaluate(node.iter))
            except (NotStatic, TypeError):
                items = None
            if items is not None and self.unrolled + len(items) > MAX_UNROLLED:
                if self.unrolled <= MAX_UNROLLED:  # report the first loop past the bound only
                    self.bindings.diagnostics.error(
                        codes.VALUE_PAST_LIMITS,
                        self.bindings.pos(node),
                        f"unrolling this loop would make more than {MAX_UNROLLED:,} loop iterations in the app",
                        'loop over a shorter sequence, or write the calls out (docs/rules.md, "Limits")',
                    )
                self.unrolled = MAX_UNROLLED + 1  # stop unrolling the loops around this one too
                self.bindings.bind_unknown_target(node.target, node.target)
                return
            if items is not None:
                self.unrolled += len(items)
                for item in items:
                    if self.unrolled > MAX_UNROLLED:
                        break
                    self.bindings.bind_target(node.target, item)
                    self._nested(node.body, None)
                if node.orelse:
                    self._nested(node.orelse.body, None)
                return
        if not self.function_depth:
            self.bindings.bind_unknown_target(node.target, node.target)
        where = context or "inside a `for` loop over a sequence the generator cannot evaluate"
        self._nested(node.body, where)

    def _function_def(self, node: cst.FunctionDef, context: str | None) -> None:
        name = node.name.value
        if context is None:
            self.bindings.functions[name] = node
        params = node.params
        defaults = [p.default for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        self._run(*(d.decorator for d in node.decorators), *defaults)
        self.bindings.bind_unknown(name, node, "is a function")
        if not self.function_depth:
            self.effects.definitions[name] = node
        self.reader.decorators(node, context)
        self.function_depth += 1
        try:
            self._nested(node.body, "inside a function, which the app does not call at import")
        finally:
            self.function_depth -= 1

    def _small_statement(self, node: cst.BaseSmallStatement, context: str | None) -> None:
        self._run(node)
        if self.function_depth and isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            if node.value is not None:  # a function's own names are not the module's
                self.reader.calls_in(node.value, context)
            return
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            if not self.function_depth and not self.class_depth:  # else a local or class attribute
                self._import(node)
        elif isinstance(node, cst.Assign):
            value = node.value
            if self.reader.constructor(value, node.targets, context):
                return
            self.reader.calls_in(value, context)
            for target in node.targets:
                self._assign(target.target, value, context)
            self.reader.assigned(node.targets, value, context)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None and not self.reader.constructor(node.value, [node], context):
                self.reader.calls_in(node.value, context)
                self._assign(node.target, node.value, context)
        elif isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
            self.bindings.bind_unknown(node.target.value, node, "is changed by an augmented assignment")
        elif isinstance(node, cst.Expr):
            self.reader.calls_in(node.value, context)

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression, context: str | None) -> None:
        if context is not None:
            self.bindings.bind_unknown_target(target, target)
            return
        try:
            evaluated = self.bindings.evaluator().evaluate(value)
        except NotStatic as exc:
            self._unknown_value(target, value, exc)
            return
        self.bindings.bind_target(target, evaluated)

    def _unknown_value(self, target: cst.BaseExpression, value: cst.BaseExpression, exc: NotStatic) -> None:
        """Bind `target` unknown, saying why: the cause in this value, or the first cause of a chain
        (`X = X + X` past the bounds: the line where X first passed them)."""
        bindings = self.bindings
        cause = bindings.unknown.get(exc.node.value) if isinstance(exc.node, cst.Name) else None
        if cause is not None and cause.startswith(PAST_BOUNDS):
            for name in free_names(target):
                bindings.constants.pop(name, None)
                bindings.unknown[name] = cause
        elif exc.hint == LIMITS_HINT:
            bindings.bind_unknown_target(target, value, f"{PAST_BOUNDS} ({exc.reason})")
        elif isinstance(exc.node, cst.Name):  # an unknown name: its own error says why
            bindings.bind_unknown_target(target, value)
        else:
            why = "is assigned from an expression the generator cannot evaluate"
            stored_through = isinstance(target, (cst.Attribute, cst.Subscript))  # see effects.py
            for name in () if stored_through else free_names(target):
                bindings.bind_unknown(name, value, why)
                bindings.unknown[name] += f": {exc.reason}"

    def _import(self, node: cst.Import | cst.ImportFrom) -> None:
        bindings, code = self.bindings, self.bindings.module.code_for_node
        if isinstance(node, cst.Import):
            for alias in node.names:
                binding = Import(code(alias.name), None, alias.asname.name.value if alias.asname else None)
                bindings.bind_import(binding)
            return
        if isinstance(node.names, cst.ImportStar):
            bindings.diagnostics.error(
                codes.STAR_IMPORT,
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
