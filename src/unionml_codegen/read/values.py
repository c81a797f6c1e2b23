"""Evaluate argument expressions of an app without running it.

Only what can be known from the text is evaluated: literals, module-level constants seen so
far, dict/list/tuple/set displays with `*`/`**` unpacking, `dict(...)`, `timedelta(...)` and
`datetime(...)` however imported, f-strings of known values, unary minus and arithmetic on
numbers. Anything else raises `NotStatic` at the node that cannot be known.

Values are bounded (docs/rules.md, "Limits"), so that no app can make the generator hang or run
out of memory: ints of at most `MAX_INT_DIGITS` digits (powers are refused before they are
computed), strings of at most `MAX_STRING` characters (also in total over one value, and for
f-string widths), at most `MAX_ITEMS` items in one value (shared parts counted each time).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import libcst as cst

from .. import codes


@dataclass
class NotStatic(Exception):
    node: cst.CSTNode
    reason: str
    hint: str = (
        "use a literal, or a module-level constant assigned from literals, so the generator "
        "can read the value without running the app"
    )

    @property
    def code(self) -> codes.Code:
        """A value past the bounds (`LIMITS_HINT`) is VALUE_PAST_LIMITS; any other unknown value VALUE_NOT_STATIC."""
        return codes.VALUE_PAST_LIMITS if self.hint == LIMITS_HINT else codes.VALUE_NOT_STATIC


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

MAX_INT_DIGITS = 4300  # CPython's own limit for converting an int to a string
MAX_STRING = 1_000_000  # characters
MAX_ITEMS = 100_000  # items in one value, counting every element of every list, dict, set and tuple
PAST_BOUNDS = "is assigned a value past the generator's bounds"  # why a name is unknown
_INT_LIMIT = 10**MAX_INT_DIGITS
_INT_BITS = 14_300  # more bits than that: more than MAX_INT_DIGITS digits
LIMITS_HINT = 'the generator reads values up to the bounds in docs/rules.md ("Limits"); use a smaller value'
_CONSTRUCTED = frozenset({
    "SimpleString", "ConcatenatedString", "FormattedString", "List", "Tuple", "Set", "Dict", "BinaryOperation",
    "UnaryOperation", "Call", "Integer",
})  # fmt: skip


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
        kind = type(node).__name__
        method = getattr(self, f"_eval_{kind}", None)
        if method is None:
            raise NotStatic(node, f"this {_describe(node)} cannot be evaluated without running the app")
        value = method(node)
        if kind in _CONSTRUCTED:
            _check_size(node, value)
        return value

    # literals
    def _eval_Integer(self, node: cst.Integer) -> int:
        return node.evaluated_value

    def _eval_Float(self, node: cst.Float) -> float:
        return node.evaluated_value

    def _eval_SimpleString(self, node: cst.SimpleString) -> str | bytes:
        text, prefix = node.value, node.prefix
        if len(node.quote) == 1 and prefix in ("", "u", "U", "r", "R") and "\\" not in text:
            return text[len(prefix) + 1 : -1]  # nothing to unescape (`evaluated_value` compiles the literal)
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
            if any(len(digits) > len(str(MAX_STRING)) for digits in re.findall(r"[0-9]+", spec)):
                raise NotStatic(part, f"the format '{spec[:40]}' asks for too wide a text", LIMITS_HINT)
            try:
                if part.conversion == "r":
                    value = repr(value)
                elif part.conversion in ("s", "a"):
                    value = str(value) if part.conversion == "s" else ascii(value)
                parts.append(format(value, spec))
            except (ValueError, TypeError) as exc:
                hint = "write a format specification Python accepts, e.g. `{value:>8.2f}`"
                raise NotStatic(part, f"this f-string fails when evaluated: {exc}", hint) from None
            if sum(map(len, parts)) > MAX_STRING:
                raise NotStatic(node, f"this string is longer than {MAX_STRING:,} characters", LIMITS_HINT)
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
            why = self.unknown[node.value]
            hint = LIMITS_HINT if why.startswith(PAST_BOUNDS) else CHANGED_HINT if _changed(why) else None
            raise NotStatic(node, f"'{node.value}' {why}", *([hint] if hint else []))
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
        if same_text and len(left) + len(right) > MAX_STRING:
            raise NotStatic(node, f"this string is longer than {MAX_STRING:,} characters", LIMITS_HINT)
        if op is operator.pow and isinstance(left, int) and isinstance(right, int) and right > 0:
            if abs(left) > 1 and (abs(left).bit_length() - 1) * right > _INT_BITS:  # a lower bound
                message = f"this power has more than {MAX_INT_DIGITS:,} digits"
                raise NotStatic(node, message, LIMITS_HINT)
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


CHANGED_HINT = (
    'the generator reads a constant only while nothing else may have changed it (docs/rules.md, "Values"): '
    'build the value in one assignment instead, e.g. `HP = {**HP, "C": 5.0}`'
)
_CHANGES = ("changed", "shares a list", "deleted", "`:=`", "by `as`", "`global`", "through '")


def _changed(why: str) -> bool:
    """Whether a name is unknown because something changed it (effects.py), not for its value."""
    return why.startswith(("is ", "may ", "shares ")) and any(word in why for word in _CHANGES)


def _check_size(node: cst.CSTNode, value: Any) -> None:
    """Raise NotStatic when a value passes the bounds (see the module's docstring)."""
    stack, items, characters = [value], 0, 0
    while stack:
        item = stack.pop()
        items += 1
        if items > MAX_ITEMS:
            raise NotStatic(node, f"this value has more than {MAX_ITEMS:,} items", LIMITS_HINT)
        if isinstance(item, (str, bytes)):
            characters += len(item)
            if characters > MAX_STRING:
                raise NotStatic(node, f"this value has more than {MAX_STRING:,} characters of text", LIMITS_HINT)
        elif isinstance(item, int) and not isinstance(item, bool):
            if not -_INT_LIMIT < item < _INT_LIMIT:
                raise NotStatic(node, f"this number has more than {MAX_INT_DIGITS:,} digits", LIMITS_HINT)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)


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
        "NamedExpr": "assignment expression (`:=`)",
        "SetComp": "set comprehension",
        "Starred": "starred expression",
    }
    return words.get(type(node).__name__, "expression")
