"""Launch plans written in black's style by construction, so black need not reformat them.

An app with 1,000 schedules has 13,000 lines of launch plans, and black spent two thirds of the
generation reformatting them. Every line of a launch plan is decided by the generator, so it can
be written as black would write it, for the values whose black form is certain:

- strings of printable ASCII without quotes or backslashes (black writes them in double quotes),
  ints, bools, None, floats whose repr has no exponent (nor inf/nan), timedeltas of whole units,
  and dicts, lists and tuples of those;
- a `fixed_inputs` dict that does not fit on its line is exploded one entry per line with a
  trailing comma (black's rule for a collection display of two or more elements).

`black_literal` returns None for anything else, and `render._render_launch_plans` then leaves the
file to black as before; so does a line longer than black's 88 columns. Tests compare the result
with black's on the examples, on many-schedule apps and on generated values
(tests/test_preformatted.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

LINE_LENGTH = 88  # black's default, which render._python uses


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
        from .names import timedelta_literal

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
