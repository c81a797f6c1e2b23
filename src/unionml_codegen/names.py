"""Identifiers, literals and import blocks for generated Python.

Templates only lay out text: everything that needs a decision (what an entity is called,
how a value is spelled, which imports a file needs and in which order) is decided here.
"""

from __future__ import annotations

import datetime as dt
import keyword
import math
import re
import sys
from typing import Any, Iterable

def identifier(text: str) -> str:
    """A valid, lower-case, ASCII Python identifier made from a unionml name."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower() or "unnamed"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"_{name}"
    return name


# Escaping app text for each place it lands. Every piece of text that comes from the app or the command
# line (names, paths, URIs, cron strings, the image) goes through one of these before it is written.




















def class_name(text: str) -> str:
    """A CamelCase class name made from a unionml name (`_`-prefixed when it starts with a digit)."""
    name = "".join(part.capitalize() for part in identifier(text).split("_") if part)
    return f"_{name}" if name[0].isdigit() else name


def unique(names: Iterable[str]) -> list[str]:
    """Makes identifiers unique by numbering repeats, in order."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else f"{name}_{count + 1}")
    return result


class Namespace:
    """The names of one generated module (or function): every claimed name is new, not a keyword, and
    none of the names the app brings there, so generated names never shadow the app's or each other."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)

    def claim(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self._taken or keyword.iskeyword(candidate):
            candidate, number = f"{name}_{number}", number + 1
        self._taken.add(candidate)
        return candidate


def literal(value: Any, imports: "Imports | None" = None) -> str:
    """Python source for a statically known value (black reflows it)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k, imports)}: {literal(v, imports)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, imports) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(literal(v, imports) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(literal(v, imports) for v in value)) + "}" if value else "set()"
    if isinstance(value, dt.timedelta):
        if imports is not None:
            imports.add_from("datetime", "timedelta")
        return timedelta_literal(value)
    if isinstance(value, dt.datetime):
        if imports is not None:
            imports.add_from("datetime", "datetime")
        return "datetime" + repr(value).removeprefix("datetime.datetime")
    if isinstance(value, dt.date):
        if imports is not None:
            imports.add_from("datetime", "date")
        return "date" + repr(value).removeprefix("datetime.date")
    if isinstance(value, (bool, int, float, str, bytes)) or value is None:
        return repr(value)
    raise TypeError(f"cannot write a literal for {type(value).__name__}")


def timedelta_literal(value: dt.timedelta) -> str:
    parts = []
    if value.days:
        parts.append(f"days={value.days}")
    if value.seconds:
        hours, rest = divmod(value.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        parts += [f"{unit}={n}" for unit, n in (("hours", hours), ("minutes", minutes), ("seconds", seconds)) if n]
    if value.microseconds:
        parts.append(f"microseconds={value.microseconds}")
    return f"timedelta({', '.join(parts)})"


class Imports:
    """The import block of one generated module: grouped, merged and sorted."""

    def __init__(self, local: str | None = None) -> None:
        self._modules: set[tuple[str, str | None]] = set()
        self._names: dict[tuple[int, str], set[tuple[str, str | None]]] = {}
        self._local = local  # a package imported by its absolute name, grouped with relative imports (flyte2)

    def add_import(self, module: str, alias: str | None = None) -> None:
        self._modules.add((module, alias))

    def add_from(self, module: str, name: str, alias: str | None = None, level: int = 0) -> None:
        self._names.setdefault((level, module), set()).add((name, alias))

    def render(self) -> str:
        groups: dict[int, list[tuple[str, str]]] = {0: [], 1: [], 2: []}
        for module, alias in self._modules:
            text = f"import {module}" + (f" as {alias}" if alias else "")
            groups[_group(module)].append((module, text))
        for (level, module), names in self._names.items():
            spelled = ", ".join(
                n + (f" as {a}" if a else "") for n, a in sorted(names, key=lambda x: (x[0], x[1] or ""))
            )
            text = f"from {'.' * level}{module} import {spelled}"
            local = self._local is not None and module.split(".")[0] == self._local
            groups[2 if level or local else _group(module)].append((module, text))
        blocks = ["\n".join(text for _, text in sorted(group, key=_import_order)) for group in groups.values() if group]
        return "\n\n".join(blocks)


def _import_order(item: tuple[str, str]) -> tuple[bool, str, str]:
    """As isort orders a section: every `import x` first, then every `from x import y`, each by module."""
    module, text = item
    return (text.startswith("from"), module.lower(), text)


def _group(module: str) -> int:
    top = module.split(".")[0]
    return 0 if top in sys.stdlib_module_names or top == "__future__" else 1


def json_and_python(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The values JSON holds exactly, and the Python literals of the others (as the manifest records inputs:
    a schedule's fixed inputs, a trained model's training inputs)."""
    plain, python = {}, {}
    for name, value in values.items():
        if _json_exact(value):
            plain[name] = value
        else:
            python[name] = literal(value, Imports())
    return plain, python


def _json_exact(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_json_exact(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in value.items())
    return False
