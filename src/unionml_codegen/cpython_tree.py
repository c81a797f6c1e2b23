"""CPython's `ast` of the app beside libcst's tree, for searches cheaper than a libcst visit.

`python_check.py` builds CPython's tree of the app before libcst parses it. Walking that tree
costs a fraction of a libcst visit (which rebuilds every node it passes), so questions like
"which statements could touch this name?" are asked of it first, and libcst's analyses run only
on the statements where the answer may be yes. Both trees hold the same top-level statements in
the same order, except that a libcst line of small statements (`a = 1; b = 2`) is one statement
with one CPython statement per small statement.

CPython's names are NFKC-normalised and libcst's are as written, so a search for a libcst name
looks for its normalised form (`spelled`).
"""

from __future__ import annotations

import ast
import unicodedata
from typing import Iterator

import libcst as cst


def paired(module: cst.Module, tree: ast.Module) -> Iterator[tuple[cst.CSTNode, list[ast.stmt]]]:
    """Each top-level libcst statement, with its CPython statements (one per small statement of a line)."""
    statements = iter(tree.body)
    for statement in module.body:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        yield statement, [next(statements) for _ in range(count)]


def spelled(name: str) -> str:
    """`name` as CPython's tree spells it."""
    return name if name.isascii() else unicodedata.normalize("NFKC", name)
