"""Where the app's nodes start, found one top-level statement at a time, only when a message needs it.

libcst's `PositionProvider` writes out the whole module's code once, recording a range for every
node, which costs about twice as much as parsing the app. Most of those positions are never
shown: a position is read only for a diagnostic, or for a name's "(line N)" in one. So this
module records the same start (libcst's syntactic start, 1-based line, 0-based column) for the
nodes of one top-level statement at a time, when a position in that statement is first read.

A statement's code starts on a fresh line, so its positions depend only on the line it starts on;
that line comes from writing out the statements before it without recording anything (about a
seventh of the recording pass), kept as it goes.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import libcst as cst
from libcst._nodes.internal import CodegenState

from .diagnostics import Position

_NEWLINE = re.compile(r"\r\n?|\n")  # how libcst's position providers count lines


class _Lines(CodegenState):
    """A codegen state that follows the line and column, as libcst's position providers do."""

    def __init__(self, module: cst.Module, line: int) -> None:
        super().__init__(module.default_indent, module.default_newline)
        self.line, self.column = line, 0

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


class _Starts(_Lines):
    """`_Lines` that records each node's start the way `PositionProvider` does: a node's syntactic
    start where its codegen marks one (hoisted from `start_node` if given), else where its code begins."""

    def __init__(self, module: cst.Module, line: int, starts: dict[cst.CSTNode, tuple[int, int]]) -> None:
        super().__init__(module, line)
        self.starts = starts
        self.stack: list[tuple[int, int]] = []

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
    """Start positions of a module's nodes, computed per top-level statement on demand."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.starts: dict[cst.CSTNode, tuple[int, int]] = {}
        self.done: set[int] = set()  # statements whose nodes are in `starts`
        self.first_lines: list[int] = []  # line each statement's code (blank lines and comments included) starts on
        self.index = {id(statement): number for number, statement in enumerate(module.body)}

    def start(self, node: cst.CSTNode, statement: int | None = None) -> tuple[int, int]:
        """(1-based line, 0-based column) of `node`, libcst's `PositionProvider` start. `statement` is
        the index of the top-level statement that holds it, when the caller knows (else it is searched)."""
        if node not in self.starts:
            if statement is None:
                statement = self.index.get(id(node))
            if statement is not None:
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

    def statement_line(self, statement: int) -> int:
        """The line the code of top-level statement `statement` starts on (its leading blank lines
        and comments included)."""
        if not self.first_lines:
            state = _Lines(self.module, 1)
            for line in self.module.header:
                line._codegen(state)
            self.first_lines.append(state.line)
        while len(self.first_lines) <= statement:
            state = _Lines(self.module, self.first_lines[-1])
            self.module.body[len(self.first_lines) - 1]._codegen(state)
            self.first_lines.append(state.line)
        return self.first_lines[statement]

    def _record(self, statement: int) -> None:
        if statement not in self.done:
            self.done.add(statement)
            self.module.body[statement]._codegen(_Starts(self.module, self.statement_line(statement), self.starts))
