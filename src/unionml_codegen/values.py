"""Evaluate argument expressions of an app without running it.

Only what can be known from the text is evaluated: literals, module-level constants seen so
far, dict/list/tuple/set displays with `*`/`**` unpacking, `dict(...)`, `timedelta(...)` and
`datetime(...)` however imported, f-strings of known values, unary minus and arithmetic on
numbers. Anything else raises `NotStatic` at the node that cannot be known.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import libcst as cst


@dataclass
class NotStatic(Exception):
    node: cst.CSTNode
    reason: str
    hint: str = (
        "use a literal, or a module-level constant assigned from literals, so the generator "
        "can read the value without running the app"
    )


_NAMED_CONSTANTS = {"True": True, "False": False, "None": None}

_BINARY_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}

#: Calls the evaluator knows, by qualified name.
_KNOWN_CALLS: dict[str, Callable[..., Any]] = {
    "datetime.timedelta": dt.timedelta,
    "datetime.datetime": dt.datetime,
    "datetime.date": dt.date,
    "builtins.dict": dict,
    "builtins.list": list,
    "builtins.tuple": tuple,
}

_NUMBER = (int, float)


class Evaluator:
    """Evaluates expressions against the constants known at one point of the module.

    `qualified_name` maps a call's function node to its qualified name (e.g. `td` imported
    as `from datetime import timedelta as td` gives `datetime.timedelta`).
    """

    def __init__(
        self,
        constants: Mapping[str, Any],
        qualified_name: Callable[[cst.CSTNode], str | None],
        unknown: Mapping[str, str] | None = None,
    ):
        self.constants = constants
        self.qualified_name = qualified_name
        self.unknown = unknown or {}

    def evaluate(self, node: cst.BaseExpression) -> Any:
        method = getattr(self, f"_eval_{type(node).__name__}", None)
        if method is None:
            raise NotStatic(node, f"this {_describe(node)} cannot be evaluated without running the app")
        return method(node)

    # literals
    def _eval_Integer(self, node: cst.Integer) -> int:
        return node.evaluated_value

    def _eval_Float(self, node: cst.Float) -> float:
        return node.evaluated_value

    def _eval_SimpleString(self, node: cst.SimpleString) -> str | bytes:
        return node.evaluated_value

    def _eval_ConcatenatedString(self, node: cst.ConcatenatedString) -> str:
        return self.evaluate(node.left) + self.evaluate(node.right)

    def _eval_FormattedString(self, node: cst.FormattedString) -> str:
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(_string_text(part.value, node.prefix, node.end))
                continue
            value = self.evaluate(part.expression)
            spec = ""
            if part.format_spec:
                spec = "".join(self._format_spec_part(p) for p in part.format_spec)
            if part.conversion == "r":
                value = repr(value)
            elif part.conversion in ("s", "a"):
                value = str(value) if part.conversion == "s" else ascii(value)
            parts.append(format(value, spec))
        return "".join(parts)

    def _format_spec_part(self, part: cst.BaseFormattedStringContent) -> str:
        if isinstance(part, cst.FormattedStringText):
            return part.value
        return str(self.evaluate(part.expression))

    def _eval_Name(self, node: cst.Name) -> Any:
        if node.value in _NAMED_CONSTANTS:
            return _NAMED_CONSTANTS[node.value]
        if node.value in self.constants:
            return self.constants[node.value]
        if node.value in self.unknown:
            raise NotStatic(node, f"'{node.value}' {self.unknown[node.value]}")
        raise NotStatic(node, f"'{node.value}' is not a module-level constant known at this point")

    # displays
    def _eval_List(self, node: cst.List) -> list:
        return self._elements(node.elements)

    def _eval_Tuple(self, node: cst.Tuple) -> tuple:
        return tuple(self._elements(node.elements))

    def _eval_Set(self, node: cst.Set) -> set:
        return set(self._elements(node.elements))

    def _elements(self, elements) -> list:
        values: list = []
        for element in elements:
            if isinstance(element, cst.StarredElement):
                values.extend(self._iterable(element.value))
            else:
                values.append(self.evaluate(element.value))
        return values

    def _iterable(self, node: cst.BaseExpression):
        value = self.evaluate(node)
        if not isinstance(value, (list, tuple, set, dict, str)):
            raise NotStatic(node, f"cannot unpack a {type(value).__name__} with '*'")
        return value

    def _eval_Dict(self, node: cst.Dict) -> dict:
        result: dict = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                result.update(self._mapping(element.value))
            else:
                result[self._hashable(element.key)] = self.evaluate(element.value)
        return result

    def _hashable(self, node: cst.BaseExpression) -> Any:
        key = self.evaluate(node)
        try:
            hash(key)
        except TypeError:
            raise NotStatic(node, f"a {type(key).__name__} cannot be a dict key") from None
        return key

    def _mapping(self, node: cst.BaseExpression) -> dict:
        value = self.evaluate(node)
        if not isinstance(value, dict):
            raise NotStatic(node, f"cannot unpack a {type(value).__name__} with '**'")
        return value

    # operators
    def _eval_UnaryOperation(self, node: cst.UnaryOperation) -> Any:
        value = self.evaluate(node.expression)
        if isinstance(node.operator, cst.Not):
            return not value
        if isinstance(node.operator, cst.BitInvert):
            if not isinstance(value, int) or isinstance(value, bool):
                raise NotStatic(node, "unary '~' applies to integers only")
            return ~value
        if not isinstance(value, _NUMBER + (dt.timedelta,)) or isinstance(value, bool):
            raise NotStatic(node, "unary '+' and '-' apply to numbers only")
        return -value if isinstance(node.operator, cst.Minus) else +value

    def _eval_BinaryOperation(self, node: cst.BinaryOperation) -> Any:
        op = _BINARY_OPERATORS.get(type(node.operator))
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if op is None:
            raise NotStatic(node, "only + - * / // % ** are evaluated")
        arithmetic = (int, float, dt.timedelta)
        same_text = isinstance(left, str) and isinstance(right, str) and op is operator.add
        if not same_text and not (isinstance(left, arithmetic) and isinstance(right, arithmetic)):
            raise NotStatic(node, "arithmetic is evaluated on numbers and durations only")
        try:
            return op(left, right)
        except (ArithmeticError, TypeError) as exc:
            raise NotStatic(node, f"this expression fails when evaluated: {exc}") from None

    def _eval_Call(self, node: cst.Call) -> Any:
        name = self.qualified_name(node.func)
        function = _KNOWN_CALLS.get(name or "")
        if function is None:
            shown = name or cst.Module([]).code_for_node(node.func)
            raise NotStatic(node, f"the call to '{shown}' cannot be evaluated without running the app")
        args, kwargs = [], {}
        for arg in node.args:
            if arg.star == "*":
                args.extend(self._iterable(arg.value))
            elif arg.star == "**":
                kwargs.update(self._mapping(arg.value))
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = self.evaluate(arg.value)
            else:
                args.append(self.evaluate(arg.value))
        try:
            return function(*args, **kwargs)
        except (TypeError, ValueError, OverflowError) as exc:
            raise NotStatic(node, f"'{name}(...)' fails with these arguments: {exc}") from None


def _string_text(text: str, prefix: str, quote: str) -> str:
    """The value of a literal part of an f-string: `{{` is `{`, and escapes like `\\n` apply
    unless the string is raw (the text is kept as written in the source)."""
    text = text.replace("{{", "{").replace("}}", "}")
    if "r" in prefix.lower():
        return text
    return cst.SimpleString(f"{quote}{text}{quote}").evaluated_value


def _describe(node: cst.CSTNode) -> str:
    words = {
        "Attribute": "attribute access",
        "Subscript": "subscript",
        "Lambda": "lambda",
        "ListComp": "list comprehension",
        "DictComp": "dict comprehension",
        "GeneratorExp": "generator expression",
        "Comparison": "comparison",
        "BooleanOperation": "boolean operation",
        "IfExp": "conditional expression",
        "Await": "await",
    }
    return words.get(type(node).__name__, "expression")
