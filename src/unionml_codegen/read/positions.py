"""Where the app's nodes start, found one top-level statement at a time, only when a message needs it.

libcst's `PositionProvider` writes out the whole module's code once, recording a range for every
node, which costs about twice as much as parsing the app. Most of those positions are never
shown: a position is read only for a diagnostic, or for a name's "(line N)" in one. So this
module records the same start (libcst's syntactic start, 1-based line, 0-based column) for the
nodes of one top-level statement at a time, when a position in that statement is first read.

A top-level statement starts at column 0 of the line where CPython's tree starts it (the first
token of its first small statement, or its `def`/`class`/`if`... keyword, after any decorators),
so a statement's own start needs no code written out, and its nodes' starts are recorded from
line 1 and moved to that line.
"""

from __future__ import annotations

import ast
import re
from contextlib import contextmanager
from typing import Iterator

import libcst as cst
from libcst._nodes.internal import CodegenState

from .cpython import paired
from ..diagnostics import Position

_NEWLINE = re.compile(r"\r\n?|\n")  # how libcst's position providers count lines


class _Starts(CodegenState):
    """A codegen state that records each node's start the way `PositionProvider` does: following the
    line and column, a node's syntactic start where its codegen marks one (hoisted from `start_node`
    if given), else where its code begins."""

    def __init__(self, module: cst.Module, starts: dict[cst.CSTNode, tuple[int, int]]) -> None:
        super().__init__(module.default_indent, module.default_newline)
        self.line, self.column = 1, 0
        self.starts = starts
        self.stack: list[tuple[int, int]] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        if node not in self.starts:  # a syntactic start, recorded first, wins
            self.starts[node] = start

    @contextmanager
    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> Iterator[None]:
        start = (self.line, self.column)
        try:
            yield
        finally:
            self.starts[node] = self.starts[start_node] if start_node is not None else start


class SourcePositions:
    """Start positions of a module's nodes, computed per top-level statement on demand. `tree` is
    CPython's tree of the same source (cpython.py)."""

    def __init__(self, module: cst.Module, tree: ast.Module) -> None:
        self.module = module
        self.lines = [parts[0].lineno for _, parts in paired(module, tree)]  # each statement's start
        self.index = {id(statement): number for number, statement in enumerate(module.body)}
        self.starts: dict[cst.CSTNode, tuple[int, int]] = {}
        self.done: set[int] = set()  # statements whose nodes are in `starts`

    def start(self, node: cst.CSTNode, statement: int | None = None) -> tuple[int, int]:
        """(1-based line, 0-based column) of `node`, libcst's `PositionProvider` start. `statement` is
        the index of the top-level statement that holds it, when the caller knows (else it is searched)."""
        own = self.index.get(id(node))
        if own is not None:
            return self.lines[own], 0
        if node not in self.starts and statement is not None:
            self._record(statement)
        for number in range(len(self.module.body)):
            if node in self.starts:
                break
            self._record(number)
        return self.starts[node]

    def position(self, node: cst.CSTNode, statement: int | None = None) -> Position:
        """Where `node` starts (1-based line and column), found when first read."""

        def find() -> tuple[int, int]:
            line, column = self.start(node, statement)
            return line, column + 1

        return Position.later(find)

    def _record(self, statement: int) -> None:
        if statement in self.done:
            return
        self.done.add(statement)
        node = self.module.body[statement]
        starts: dict[cst.CSTNode, tuple[int, int]] = {}
        node._codegen(_Starts(self.module, starts))
        shift = self.lines[statement] - starts[node][0]
        self.starts.update({child: (line + shift, column) for child, (line, column) in starts.items()})
