"""Problems found in an app, kept as data and printed like a compiler's.

Every stage reports into a `Diagnostics` collection instead of raising, so one run shows
all the problems of an app. `render` prints them as `PATH:LINE:COL: error: MESSAGE [CODE]`
(the code from codes.py), then the source line, a caret under the column, and a hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import total_ordering
from typing import Callable, Iterator, Literal

from .codes import Code, tagged

Severity = Literal["error", "warning"]


@total_ordering
class Position:
    """A 1-based line and 1-based column in the app's source, compared and hashed as the pair.

    `Position.later(find)` is one found only when first read: libcst positions cost a pass over
    the code, which only the positions a message shows need (positions.py).
    """

    __slots__ = ("_line", "_column", "_find")

    def __init__(self, line: int, column: int) -> None:
        self._line, self._column, self._find = line, column, None

    @classmethod
    def later(cls, find: Callable[[], tuple[int, int]]) -> Position:
        position = cls.__new__(cls)
        position._find = find
        return position

    @property
    def line(self) -> int:
        return self._pair()[0]

    @property
    def column(self) -> int:
        return self._pair()[1]

    def _pair(self) -> tuple[int, int]:
        if self._find is not None:
            self._line, self._column = self._find()
            self._find = None
        return self._line, self._column

    def __eq__(self, other: object) -> bool:
        return self._pair() == other._pair() if isinstance(other, Position) else NotImplemented

    def __lt__(self, other: object) -> bool:
        return self._pair() < other._pair() if isinstance(other, Position) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._pair())

    def __repr__(self) -> str:
        return f"Position(line={self.line}, column={self.column})"


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    path: str
    position: Position
    message: str
    hint: str = ""
    #: the source line, for a diagnostic in another file than the app (a copied local module)
    text: str | None = None
    #: the stable code (codes.py), e.g. "UMG201"
    code: str = ""

    def render(self, source_lines: list[str] | None = None) -> str:
        """The diagnostic as a compiler prints it; every piece of text from the app (its path, its line, names
        in the message) shown with control characters escaped, so the app cannot write to the terminal or
        forge a line of CI output."""
        line, column = self.position.line, self.position.column
        message = f"{self.message} [{self.code}]" if self.code else self.message
        out = [f"{visible(self.path)}:{line}:{column}: {self.severity}: {visible(message)}"]
        if self.text is not None:
            source_lines, line = [self.text], 1
        if source_lines and 0 < line <= len(source_lines):
            text = source_lines[line - 1].rstrip("\n")
            out.append(f"    {visible(text, keep=chr(9))}")
            out.append("    " + " " * len(visible(text[: column - 1], keep=chr(9))) + "^")
        if self.hint:
            out.append(f"  hint: {visible(self.hint)}")
        return "\n".join(out)


@dataclass
class Diagnostics:
    """The problems of one app, in the order they were found."""

    path: str
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: Code, position: Position, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic("error", self.path, position, message, hint, code=code.code))

    def error_in(self, code: Code, path: str, text: str, position: Position, message: str, hint: str = "") -> None:
        """An error in another file than the app; `text` is that file's source."""
        lines = text.splitlines()
        line = lines[position.line - 1] if 0 < position.line <= len(lines) else ""
        self.items.append(Diagnostic("error", path, position, message, hint, line, code=code.code))

    def warning(self, code: Code, position: Position, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic("warning", self.path, position, message, hint, code=code.code))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(sorted(self.items, key=lambda d: (d.position, d.severity, d.message)))

    def render(self, source: str | None) -> str:
        lines = source.splitlines() if source is not None else None
        return "\n".join(d.render(lines) for d in self)


def plain_error(code: Code, message: str) -> str:
    """A problem that has no place in the app (configuration, output): `error: MESSAGE [CODE]`. The message's
    own line breaks stay; any other control character (from a file name, say) is escaped."""
    return f"error: {tagged(visible(message, keep=chr(10)), code)}"


def visible(text: str, keep: str = "") -> str:
    """`text` with every character that is not printable escaped as in a Python string literal (`\\x1b`,
    `\\n`, `\\u202e`), but those in `keep`: text that did not come from the generator itself (an app's
    line, a file name, a server's reply) can then neither drive a terminal nor forge a line of CI output."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


class AppError(Exception):
    """Raised by `generate` when the app has errors; carries every diagnostic."""

    def __init__(self, diagnostics: Diagnostics, source: str | None):
        self.diagnostics = diagnostics
        self.source = source
        super().__init__(diagnostics.render(source))


class GeneratedCodeError(RuntimeError):
    """A generated file is not what it must be (Python that does not compile, text that is not UTF-8):
    a bug in the generator. Raised by the renderers before anything is written."""
