"""Which top-level statements the slice may need, over-estimated cheaply from CPython's tree.

libcst's scope analysis (slicing.py) costs time in proportion to the code it reads, and most of a
large app is code no component reaches: other helpers, constants only schedules use. So before
it runs, this module follows the app's names on CPython's tree (cpython.py), erring on the
side of too much: a statement reaches every statement that may bind a name it spells anywhere
(a name read in a function body, a word of a string, which libcst may read as an annotation).
A statement may bind a name it stores, deletes, defines or imports outside a function or class
body, and any name a `global` statement in it declares.

Scope analysis of the statements reached gives what it gives on the whole app for them: every
binding of every name they read is among them, so each read resolves to the same bindings.
"""

from __future__ import annotations

import ast
import re
from typing import Iterable

import libcst as cst

from .cpython import paired, spelled

_WORD = re.compile(r"[^\W\d]\w*")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def reached(module: cst.Module, tree: ast.Module, roots: Iterable[str], kept: set[int]) -> set[int]:
    """Indices of the statements of `module.body` among `kept` that the statements binding `roots`
    may need, those included; all of `kept` when a star import could bind any name."""
    binds: dict[str, set[int]] = {}
    reads: dict[int, set[str]] = {}
    for number, (_, parts) in enumerate(paired(module, tree)):
        if number not in kept:
            continue
        names_bound: set[str] = set()
        names_read: set[str] = set()
        for part in parts:
            if _star_import(part):
                return set(kept)
            _bound(part, names_bound)
            _spelled(part, names_read)
        for name in names_bound:
            binds.setdefault(name, set()).add(number)
        reads[number] = names_read
    pending = sorted({number for root in roots for number in binds.get(spelled(root), ())})
    found: set[int] = set()
    while pending:
        number = pending.pop()
        if number not in found:
            found.add(number)
            pending.extend(n for name in reads[number] for n in binds.get(name, ()) if n not in found)
    return found


def _star_import(statement: ast.stmt) -> bool:
    return any(isinstance(node, ast.ImportFrom) and node.names[0].name == "*" for node in ast.walk(statement))


def _bound(statement: ast.stmt, names: set[str]) -> None:
    """Names `statement` may bind at the module level (added to `names`)."""
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                dotted = alias.asname or alias.name
                parts = dotted.split(".")
                names.update(".".join(parts[: n + 1]) for n in range(len(parts)))
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        elif isinstance(node, ast.Global):
            names.update(node.names)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, _SCOPES):  # its body binds its own names, but for `global` ones
            for inner in ast.walk(node):
                if isinstance(inner, ast.Global):
                    names.update(inner.names)
            stack.extend(_outside_body(node))
        else:
            stack.extend(ast.iter_child_nodes(node))


def _outside_body(node: ast.AST) -> list[ast.AST]:
    """What a function, lambda or class evaluates where it is defined: decorators, defaults,
    annotations, bases and keywords (the body runs in its own scope)."""
    if isinstance(node, ast.Lambda):
        return [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    return [*node.decorator_list, node.args, *([node.returns] if node.returns else [])]


def _spelled(statement: ast.stmt, words: set[str]) -> None:
    """Every name `statement` spells (added to `words`): identifiers anywhere, and the words of its strings."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                words.update(_WORD.findall(node.value))
            continue
        for _, value in ast.iter_fields(node):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    words.update(item.split("."))
