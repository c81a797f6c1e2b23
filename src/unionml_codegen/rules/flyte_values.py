"""What a launch plan input can carry: statically known values checked against the input type they fill.

A schedule's values become fixed inputs of a launch plan, which flytekit turns into Flyte
literals when `pyflyte package` or `pyflyte register` imports the project. flytekit 1.16 refuses
(checked by experiment with `TypeEngine.to_literal` and `pyflyte package`):

- for `int`: a bool, a float, anything beyond signed 64 bits; for `float`: an int (the generator
  writes it as a float instead) or a bool; for `bool`/`str`/`datetime`/`date`/`timedelta`: any other type
  (a `date` is not a `datetime`, nor the reverse);
- for `List[T]`: a tuple (the generator writes it as a list) or a set; for `Dict[str, T]`: keys that
  are not strings; for `Optional[T]`/`Union[...]`: a value that matches no member;
- for a plain `dict` (hyperparameters and the loader/splitter/parser kwargs: msgpack): timedelta,
  datetime, date and set values, tuple keys, and integers outside [-2**63, 2**64 - 1];
- anywhere: strings with lone surrogates (not encodable as UTF-8).

Non-finite floats (inf, nan) serialize, but a generated file cannot spell them as a literal, so
they are refused too. Annotations the generator does not know (a DataFrame, an app class, `Any`)
are accepted: flytekit decides at run time.

The generator never imports flytekit: the annotation is read from its source text, and names are
resolved through the app's imports.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Mapping

import libcst as cst

from ..read.bindings import qualified_name
from ..spec import Expression, Import

INT64 = (-(2**63), 2**63 - 1)
MSGPACK_INT = (-(2**63), 2**64 - 1)

#: flytekit 1.16's `@task` keyword parameters (flytekit/core/task.py), and the deprecated cache
#: arguments it still takes through **kwargs. Anything else raises "Unrecognized argument(s) for task".
TASK_OPTIONS = frozenset({
    "task_config", "cache", "retries", "interruptible", "deprecated", "timeout", "container_image",
    "environment", "requests", "limits", "secret_requests", "execution_mode", "node_dependency_hints",
    "task_resolver", "docs", "disable_deck", "enable_deck", "deck_fields", "pod_template",
    "pod_template_name", "accelerator", "pickle_untyped", "shared_memory", "resources", "labels",
    "annotations", "cache_serialize", "cache_version", "cache_ignore_input_vars",
})  # fmt: skip
# TASK_OPTION_TYPES, the types of the options whose literal values are checked, is at the end of the module.


_SIMPLE = {
    "builtins.int": "int",
    "builtins.float": "float",
    "builtins.str": "str",
    "builtins.bool": "bool",
    "builtins.dict": "struct",
    "typing.Dict": "struct",
    "datetime.datetime": "datetime",
    "datetime.date": "date",
    "datetime.timedelta": "timedelta",
    "builtins.list": "bare_list",
    "typing.List": "bare_list",
    "builtins.tuple": "tuple",
    "typing.Tuple": "tuple",
}
PYTHON_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "datetime": dt.datetime,
                 "date": dt.date, "timedelta": dt.timedelta}  # fmt: skip


@dataclass(frozen=True)
class FlyteType:
    """An input type as far as the generator can tell from its annotation.

    kind: int, float, str, bool, datetime, date, timedelta, struct (a plain `dict`), list, map
    (`Dict[K, V]`), union (`Optional`/`Union`/`X | Y`; `None` is kind none), bare_list and tuple
    (which flytekit refuses as input types), or unknown.
    """

    kind: str
    args: tuple["FlyteType", ...] = ()
    text: str = ""


UNKNOWN = FlyteType("unknown")
STRUCT = FlyteType("struct", text="dict")


def read_annotation(annotation: Expression | None, imports: Mapping[str, Import]) -> FlyteType:
    """The input type an annotation (as source text) stands for."""
    if annotation is None:
        return UNKNOWN
    try:
        node = cst.parse_expression(annotation.text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return UNKNOWN
    try:
        return _read(node, imports)
    except RecursionError:
        return UNKNOWN


def _read(node: cst.BaseExpression, imports: Mapping[str, Import]) -> FlyteType:
    text = cst.Module([]).code_for_node(node)
    if isinstance(node, cst.Name) and node.value == "None":
        return FlyteType("none", text=text)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        members = _union_members(_read(node.left, imports)) + _union_members(_read(node.right, imports))
        return FlyteType("union", members, text)
    if isinstance(node, cst.Subscript):
        name = qualified_name(node.value, imports)
        args = []
        for element in node.slice:
            if not isinstance(element.slice, cst.Index):
                return FlyteType("unknown", text=text)
            args.append(_read(element.slice.value, imports))
        if name in ("builtins.list", "typing.List") and len(args) == 1:
            return FlyteType("list", tuple(args), text)
        if name in ("builtins.dict", "typing.Dict") and len(args) == 2:
            return FlyteType("map", tuple(args), text)
        if name == "typing.Optional" and len(args) == 1:
            return FlyteType("union", _union_members(args[0]) + (FlyteType("none", text="None"),), text)
        if name == "typing.Union":
            return FlyteType("union", tuple(m for a in args for m in _union_members(a)), text)
        if name in ("builtins.tuple", "typing.Tuple"):
            return FlyteType("tuple", text=text)
        return FlyteType("unknown", text=text)
    kind = _SIMPLE.get(qualified_name(node, imports) or "")
    return FlyteType(kind or "unknown", text=text)


def _union_members(member: FlyteType) -> tuple[FlyteType, ...]:
    return member.args if member.kind == "union" else (member,)


def unsupported_annotation(ftype: FlyteType) -> str | None:
    """Why flytekit refuses this type for a task or workflow interface, or None."""
    if ftype.kind == "bare_list":
        return f"flytekit cannot type an input or output as a bare `{ftype.text}`"
    if ftype.kind == "tuple":
        return f"flytekit refuses tuples (`{ftype.text}`) as task inputs and outputs"
    for arg in ftype.args:
        reason = unsupported_annotation(arg)
        if reason is not None:
            return reason
    return None


@dataclass(frozen=True)
class Problem:
    where: str  # e.g. "hyperparameters['C']", "the reader's 'labeled'"
    message: str
    hint: str


class _Refused(Exception):
    def __init__(self, path: str, message: str, hint: str):
        self.path, self.message, self.hint = path, message, hint


def check(value: Any, ftype: FlyteType, where: str) -> tuple[Any, Problem | None]:
    """`value` as it should be written for an input of type `ftype` (an int for a float input
    becomes a float, a tuple for a list becomes a list), or the first problem flytekit would have."""
    try:
        return _convert(value, ftype, ""), None
    except _Refused as refused:
        return value, Problem(where + refused.path, refused.message, refused.hint)
    except RecursionError:
        return value, Problem(where, "is nested too deeply to check", "flatten the value")


def _convert(value: Any, ftype: FlyteType, path: str) -> Any:
    _portable(value, path)
    kind = ftype.kind
    if kind in ("unknown", "bare_list", "tuple"):
        return _anything(value, path)
    if kind == "struct":
        return _struct(value, path, top=True)
    if kind == "none":
        if value is not None:
            raise _Refused(path, f"is {show(value)}, but the input only takes None", "pass None")
        return None
    if kind == "union":
        for member in ftype.args:  # an exact match first, as flytekit's union transformer does
            if _fits_exactly(value, member):
                return _convert(value, member, path)
        for member in ftype.args:
            try:
                return _convert(value, member, path)
            except _Refused:
                continue
        raise _Refused(path, f"is {show(value)}, but the input is typed {ftype.text}", _hint(ftype))
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            raise _Refused(path, f"is {show(value)}, but the input is typed {ftype.text}", _hint(ftype))
        return [_convert(item, ftype.args[0], f"{path}[{index}]") for index, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _Refused(path, f"is {show(value)}, but the input is typed {ftype.text}", _hint(ftype))
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Refused(path, f"has the key {show(key)}; Flyte maps have string keys", "use string keys")
            result[key] = _convert(item, ftype.args[1], f"{path}[{_key(key)}]")
        return result
    expected = PYTHON_TYPES[kind]
    if kind == "float" and type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise _Refused(path, f"is {show(value)}, too large for a float", "use a smaller number") from None
    if type(value) is not expected:
        raise _Refused(path, f"is {show(value)}, but the input is typed {ftype.text}", _hint(ftype))
    if kind == "int" and not INT64[0] <= value <= INT64[1]:
        raise _Refused(path, f"is {show(value)}, beyond Flyte's 64-bit integers", "use a value in -2**63 .. 2**63 - 1")
    return value


def _fits_exactly(value: Any, ftype: FlyteType) -> bool:
    kind = ftype.kind
    if kind == "none":
        return value is None
    if kind in PYTHON_TYPES:
        return type(value) is PYTHON_TYPES[kind]
    return (kind == "list" and isinstance(value, list)) or (kind in ("map", "struct") and isinstance(value, dict))


def _struct(value: Any, path: str, top: bool = False) -> Any:
    """A value inside a plain `dict` input, which flytekit writes with msgpack."""
    if top and not isinstance(value, dict):
        raise _Refused(path, f"is {show(value)}, but the input is a dict", "pass a dict")
    _portable(value, path)
    if value is None or isinstance(value, (bool, str, bytes, float)):
        return value
    if isinstance(value, int):
        if not MSGPACK_INT[0] <= value <= MSGPACK_INT[1]:
            raise _Refused(
                path,
                f"is {show(value)}, beyond the 64-bit integers a Flyte dict input can hold",
                "use a value in -2**63 .. 2**64 - 1, or a string",
            )
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_struct(item, f"{path}[{index}]") for index, item in enumerate(value))
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if isinstance(key, tuple):
                raise _Refused(path, f"has the tuple key {show(key)}; a Flyte dict input cannot", "use string keys")
            _struct(key, f"{path} key")
            result[key] = _struct(item, f"{path}[{_key(key)}]")
        return result
    names = {dt.datetime: "a datetime", dt.date: "a date", dt.timedelta: "a timedelta", set: "a set"}
    what = names.get(type(value), f"a {type(value).__name__}")
    hints = {
        dt.timedelta: "pass a number (e.g. the duration's total seconds) and build the timedelta in the component",
        dt.datetime: "pass an ISO string (e.g. '2026-01-01T00:00:00') and parse it in the component",
        dt.date: "pass an ISO string (e.g. '2026-01-01') and parse it in the component",
        set: "use a list",
    }
    raise _Refused(
        path,
        f"is {what}, which a Flyte dict input cannot hold (flytekit writes dicts with msgpack)",
        hints.get(type(value), "use numbers, strings, booleans, None, lists and dicts"),
    )


def _anything(value: Any, path: str) -> Any:
    """A value for an input whose type the generator cannot tell: only what no type can carry is refused."""
    if isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            _portable(item, f"{path}[{index}]")
            _anything(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _portable(key, f"{path} key")
            _portable(item, f"{path}[{_key(key)}]")
            _anything(item, f"{path}[{_key(key)}]")
    return value


def _portable(value: Any, path: str) -> None:
    """What no input can carry: strings that are not UTF-8, and non-finite floats."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused(
                path, f"is {show(value)}, which has a lone surrogate and cannot be encoded as UTF-8", "remove it"
            ) from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise _Refused(
            path,
            f"is {value!r}; non-finite numbers cannot be written into the generated launch plan",
            "use a finite number, or compute the value inside a component",
        )


def portable_problems(value: Any, where: str) -> Problem | None:
    """The first string or float in `value` that no input can carry (for values of any type)."""
    return check(value, UNKNOWN, where)[1]


def _hint(ftype: FlyteType) -> str:
    examples = {"int": "e.g. 3", "float": "e.g. 0.5", "str": 'e.g. "text"', "bool": "True or False",
                "datetime": "e.g. datetime(2026, 1, 1)", "date": "e.g. date(2026, 1, 1)",
                "timedelta": "e.g. timedelta(hours=1)"}  # fmt: skip
    example = examples.get(ftype.kind)
    return f"pass a value of type {ftype.text}" + (f" ({example})" if example else "")


def _key(key: Any) -> str:
    return repr(key) if isinstance(key, str) else show(key)


def show(value: Any) -> str:
    """A short description of a value for a message (no 4,300-digit reprs)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 64:
            return f"an integer of {value.bit_length()} bits"
        return repr(value)
    if isinstance(value, str):
        text = value.encode("utf-8", "backslashreplace").decode("utf-8")
        shown = repr(text if len(text) <= 40 else text[:37] + "...")
        return f"{shown} (a str)"
    if isinstance(value, (list, tuple, set, dict)):
        return f"a {type(value).__name__}"
    try:
        text = repr(value)
    except ValueError:
        text = type(value).__name__
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def _t(kind: str, *args: "FlyteType", text: str = "") -> "FlyteType":
    return FlyteType(kind, args, text or kind)


#: The types of flytekit 1.16 `@task` options whose literal values the generator checks (values that are
#: not literals, like `Resources(...)` or `Cache(...)`, are copied unchecked).
def _task_option_types() -> dict[str, "FlyteType"]:
    none, boolean, string, integer = _t("none", text="None"), _t("bool"), _t("str"), _t("int")
    strings = _t("map", string, string, text="Dict[str, str]")
    return {
        "cache": boolean, "cache_serialize": boolean, "cache_version": string, "retries": integer,
        "interruptible": _t("union", boolean, none, text="Optional[bool]"), "deprecated": string,
        "timeout": _t("union", integer, _t("timedelta"), text="int or timedelta"),
        "container_image": _t("union", string, none, text="Optional[str]"), "environment": strings,
        "disable_deck": _t("union", boolean, none, text="Optional[bool]"),
        "enable_deck": _t("union", boolean, none, text="Optional[bool]"), "pickle_untyped": boolean,
        "pod_template_name": _t("union", string, none, text="Optional[str]"), "labels": strings,
        "annotations": strings, "cache_ignore_input_vars": _t("list", string, text="a list of input names"),
    }  # fmt: skip


TASK_OPTION_TYPES = _task_option_types()
