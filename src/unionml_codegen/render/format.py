"""Black in-process, black's style by construction for launch plans, and the compile guard.

Every generated Python file is formatted by black once (`formatted_python`), except launch plans
whose every value has a certain black form: an app with 1,000 schedules has 13,000 lines of launch
plans, and black spent two thirds of the generation reformatting them. For those, `black_literal`
writes each value as black would:

- strings of printable ASCII without quotes or backslashes (black writes them in double quotes),
  ints, bools, None, floats whose repr has no exponent (nor inf/nan), timedeltas of whole units,
  and dicts, lists and tuples of those;
- a `fixed_inputs` dict that does not fit on its line is exploded one entry per line with a
  trailing comma (black's rule for a collection display of two or more elements).

`black_literal` returns None for anything else, and flyte1.py then leaves the file to black; so
does a line longer than black's 88 columns. Tests compare the result with black's on the
examples, on many-schedule apps and on generated values (tests/render/test_preformatted.py).

`check_files` is the last guard against app text breaking out of its place: every generated
Python file compiles, every generated text is UTF-8.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..diagnostics import GeneratedCodeError
from ..names import timedelta_literal

LINE_LENGTH = 88  # black's default, which `formatted_python` uses


def black_literal(value: Any) -> str | None:
    """`value` as Python source exactly as black formats it on one line, or None when unsure."""
    kind = type(value)
    if kind is str:  # the common cases first: a launch plan has thousands of values
        if value.isascii() and value.isprintable() and not ('"' in value or "'" in value or "\\" in value):
            return f'"{value}"'
        return None
    if kind is int or kind is bool or value is None:
        return repr(value)
    if isinstance(value, dict):
        parts = [(black_literal(k), black_literal(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in parts):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in parts) + "}"
    if isinstance(value, (list, tuple)):
        items = [black_literal(v) for v in value]
        if any(item is None for item in items):
            return None
        inner = ", ".join(items)  # type: ignore[arg-type]
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(items) == 1 else f"({inner})"
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        text = repr(value)
        return text if not any(c in text for c in "eEna") else None
    if isinstance(value, str):
        if value.isascii() and value.isprintable() and not any(c in value for c in "'\"\\"):
            return f'"{value}"'
        return None
    if isinstance(value, dt.timedelta):
        return timedelta_literal(value)
    return None


def argument(name: str, text: str, value: Any) -> str | None:
    """The text after `name=` of an argument line (`    name=...,`) in black's layout: on one line
    when it fits, else a dict of two or more entries exploded one per line; None otherwise."""
    if len(f"    {name}={text},") <= LINE_LENGTH:
        return text
    if not isinstance(value, dict) or len(value) < 2:
        return None
    lines = ["{"]
    for key, item in value.items():
        lines.append(f"        {black_literal(key)}: {black_literal(item)},")
    lines.append("    }")
    return "\n".join(lines)


def fits(code: str) -> bool:
    """Whether no line is longer than black's line length (and none ends in whitespace)."""
    return all(len(line) <= LINE_LENGTH and line == line.rstrip() for line in code.split("\n"))


def check_files(files: dict[str, str | bytes]) -> None:
    """The last guard against app text breaking out of its place: every generated Python file compiles,
    every generated text is UTF-8."""
    for path, text in files.items():
        if not isinstance(text, str):
            continue  # copied as they are: the app's own modules and model files
        try:
            text.encode("utf-8")
            if path.endswith(".py"):
                compile(text, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
            raise GeneratedCodeError(f"the generated {path} is not valid: {exc}") from None


def formatted_python(code: str) -> str:
    import black

    try:
        return black.format_str(code, mode=black.Mode(target_versions={black.TargetVersion.PY310}))
    except black.InvalidInput as exc:
        raise GeneratedCodeError(f"generated Python does not parse: {exc}") from None
