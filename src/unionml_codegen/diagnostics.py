"""Problems found in an app, kept as data and printed like a compiler's.

Every stage reports into a `Diagnostics` collection instead of raising, so one run shows
all the problems of an app. `render` prints them as `PATH:LINE:COL: error: MESSAGE`, then
the source line, a caret under the column, and a hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and 1-based column in the app's source."""

    line: int
    column: int


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    path: str
    position: Position
    message: str
    hint: str = ""
    #: the source line, for a diagnostic in another file than the app (a copied local module)
    text: str | None = None

    def render(self, source_lines: list[str] | None = None) -> str:
        line, column = self.position.line, self.position.column
        out = [f"{self.path}:{line}:{column}: {self.severity}: {self.message}"]
        if self.text is not None:
            source_lines, line = [self.text], 1
        if source_lines and 0 < line <= len(source_lines):
            text = source_lines[line - 1].rstrip("\n")
            out.append(f"    {text}")
            out.append("    " + " " * (column - 1) + "^")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


@dataclass
class Diagnostics:
    """The problems of one app, in the order they were found."""

    path: str
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, position: Position, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic("error", self.path, position, message, hint))

    def error_in(self, path: str, text: str, position: Position, message: str, hint: str = "") -> None:
        """An error in another file than the app; `text` is that file's source."""
        lines = text.splitlines()
        line = lines[position.line - 1] if 0 < position.line <= len(lines) else ""
        self.items.append(Diagnostic("error", path, position, message, hint, line))

    def warning(self, position: Position, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic("warning", self.path, position, message, hint))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(sorted(self.items, key=lambda d: (d.position, d.severity, d.message)))

    def render(self, source: str | None) -> str:
        lines = source.splitlines() if source is not None else None
        return "\n".join(d.render(lines) for d in self)


class AppError(Exception):
    """Raised by `generate` when the app has errors; carries every diagnostic."""

    def __init__(self, diagnostics: Diagnostics, source: str | None):
        self.diagnostics = diagnostics
        self.source = source
        super().__init__(diagnostics.render(source))
