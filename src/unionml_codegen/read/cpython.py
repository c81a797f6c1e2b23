"""Check that CPython accepts a source file, and that it is shallow enough, before libcst reads it.

libcst's parser accepts code CPython refuses (repeated keyword arguments, `await` outside a
function, f-strings only Python 3.12 reads, literals past the int-string limit...), so the
app and the local modules copied beside it are compiled with CPython first: `compile` builds
the code object (symbol-table and compiler errors included) and never runs anything. Its
SyntaxError is reported at CPython's line and column.

libcst and the generator's visitors recurse once or twice per level of the syntax tree; a
tree nested deeper than `MAX_DEPTH` of those levels would exhaust Python's recursion limit
(or, far deeper, crash libcst's native parser), so it is refused at its deepest point.

CPython's tree is also kept beside libcst's, for searches cheaper than a libcst visit: walking it
costs a fraction of a libcst visit (which rebuilds every node it passes), so questions like "which
statements could touch this name?" are asked of it first, and libcst's analyses run only on the
statements where the answer may be yes (`paired`). Both trees hold the same top-level statements in
the same order, except that a libcst line of small statements (`a = 1; b = 2`) is one statement with
one CPython statement per small statement. CPython's names are NFKC-normalised and libcst's are as
written, so a search for a libcst name looks for its normalised form (`spelled`).
"""

from __future__ import annotations

from typing import Iterator

import ast

import libcst as cst
import unicodedata
import io
import re
import sys
import tokenize
import warnings

from .. import codes
from ..diagnostics import Diagnostics, Position

#: Levels of libcst's syntax tree the generator reads (about 80 nested brackets or calls, or
#: 160 operands chained by one operator). Real apps nest about 15-30 levels.
MAX_DEPTH = 160

_PYTHON = f"Python {sys.version_info.major}.{sys.version_info.minor}"
_VALID_HINT = f"{_PYTHON} rejects this; the app (and the modules copied beside it) must be valid Python"
_DEPTH_HINT = (
    f"assign inner parts of the expression to names first: the generator reads at most {MAX_DEPTH} "
    "levels of nesting (about 80 nested brackets or calls, or 160 operands chained by one operator)"
)

Problem = tuple[codes.Code, Position, str, str]  # code, position, message, hint
_OPERATORS = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


def check_python(source: str, path: str, bound_depth: bool = True) -> Problem | None:
    """The first reason CPython, or the generator's nesting bound, refuses `source`; None if it is fine."""
    return python_tree(source, path, bound_depth)[1]


def python_tree(source: str, path: str, bound_depth: bool = True) -> tuple[ast.Module | None, Problem | None]:
    """(CPython's `ast` of `source`, None), or (None, the first reason CPython or the bound refuses it)."""
    if "\0" in source:
        return None, (
            codes.INVALID_PYTHON,
            _offset_position(source, source.index("\0")),
            "the file contains a NUL byte",
            _VALID_HINT,
        )
    parsed = False  # the parser counts columns in characters, the compiler in UTF-8 bytes
    try:
        with warnings.catch_warnings():  # SyntaxWarnings (e.g. `x is 1`) are the app's business
            warnings.simplefilter("ignore")
            tree = compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
            parsed = True
            deep = deepest_problem(tree, source) if bound_depth else None
            if deep is not None:
                return None, deep
            compile(tree, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        return None, (
            codes.INVALID_PYTHON,
            _syntax_error(error, source, in_bytes=parsed),
            _message(error.msg),
            _VALID_HINT,
        )
    except (RecursionError, MemoryError):
        message = f"{_PYTHON}'s parser gives up on this code: it is nested too deeply"
        return None, (codes.NESTED_TOO_DEEPLY, _deepest_point(source), message, _DEPTH_HINT)
    return tree, None


def check_module(data: bytes, shown: str, diagnostics: Diagnostics) -> None:
    """Report at `shown` (a module copied into the project) why CPython refuses it."""
    text = python_text(data)
    if text is None:
        diagnostics.error_in(
            codes.UNREADABLE_LOCAL_MODULE, shown, "", Position(1, 1), "cannot decode this module", "save it as UTF-8"
        )
        return
    problem = check_python(text, shown, bound_depth=False)  # copied as it is, not read by libcst
    if problem is not None:
        code, *rest = problem
        diagnostics.error_in(code, shown, text, *rest)


def python_text(data: bytes) -> str | None:
    """A module file's text as Python reads it (PEP 263 coding cookie, BOM), or None."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None
    return text[1:] if text.startswith("\ufeff") else text


def deepest_problem(tree: ast.AST, source: str) -> Problem | None:
    """The first node past `MAX_DEPTH` levels of libcst's tree, estimated from CPython's `ast`."""
    level, position = _deepest(tree, source.splitlines(keepends=True), MAX_DEPTH)
    if level <= MAX_DEPTH:
        return None
    return (
        codes.NESTED_TOO_DEEPLY,
        position,
        f"this code is nested too deeply for the generator ({level} levels)",
        _DEPTH_HINT,
    )


def deepest(tree: ast.AST, source: str) -> Problem:
    """The deepest point of the tree, for a RecursionError that `MAX_DEPTH` did not prevent."""
    level, position = _deepest(tree, source.splitlines(keepends=True), None)
    return (
        codes.NESTED_TOO_DEEPLY,
        position,
        f"this code is nested too deeply for the generator ({level} levels)",
        _DEPTH_HINT,
    )


def _deepest(tree: ast.AST, lines: list[str], limit: int | None) -> tuple[int, Position]:
    """(levels, position) of the deepest node, or of the first one found past `limit`."""
    best, position = 0, Position(1, 1)
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        for name, value in ast.iter_fields(node):
            for child in value if isinstance(value, list) else [value]:
                if not isinstance(child, ast.AST) or isinstance(child, _OPERATORS):
                    continue
                level = depth + _weight(node, name, child, lines)
                if level > best:
                    best, position = level, _node_position(child, node, lines)
                    if limit is not None and level > limit:
                        return best, position
                stack.append((child, level))
    return best, position


def _weight(parent: ast.AST, field: str, child: ast.AST, lines: list[str]) -> int:
    """How many levels of libcst's tree one step from `parent` to `child` in `ast` stands for."""
    if isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Call, ast.Compare)) and field != "func":
        return 2  # libcst wraps each element, argument or comparison
    if isinstance(parent, ast.Subscript) and field == "slice":
        return 3
    if isinstance(parent, ast.BoolOp):
        return len(parent.values)  # libcst chains `a and b and c` as nested binary operations
    if field in ("body", "orelse", "finalbody", "handlers"):
        return 2  # a block, then the statement (line)
    if isinstance(child, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(child, "value", ""), (str, bytes)):
        return 1 + _string_pieces(child, lines)  # libcst nests `"a" "b" "c"` one level per piece
    return 1


def _string_pieces(node: ast.AST, lines: list[str]) -> int:
    segment = _segment(node, lines)
    if segment is None or segment.count('"') + segment.count("'") < 40:
        return 0  # too few quotes for a long implicit concatenation
    try:
        tokens = tokenize.generate_tokens(io.StringIO(f"({segment})").readline)
        return sum(1 for token in tokens if token.type == tokenize.STRING)
    except (tokenize.TokenError, SyntaxError):
        return 0


def _segment(node: ast.AST, lines: list[str]) -> str | None:
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    if start is None or end is None or not 0 < start <= end <= len(lines):
        return None
    block = [line.encode() for line in lines[start - 1 : end]]
    block[-1] = block[-1][: node.end_col_offset]  # before the start: both may be on one line
    block[0] = block[0][node.col_offset :]
    return b"".join(block).decode(errors="replace")


def _node_position(node: ast.AST, parent: ast.AST, lines: list[str]) -> Position:
    for candidate in (node, parent):
        line = getattr(candidate, "lineno", None)
        if line is not None:
            return Position(line, _column(lines, line, candidate.col_offset + 1))
    return Position(1, 1)


def _syntax_error(error: SyntaxError, source: str, in_bytes: bool) -> Position:
    line = error.lineno or 1
    lines = source.splitlines(keepends=True)
    offset = error.offset or 0
    if in_bytes and offset:
        offset = _column(lines, line, offset)
    text = lines[line - 1].rstrip("\r\n") if 0 < line <= len(lines) else ""
    if offset < 1:
        digits = re.search(r"\d{4301,}", text)  # the int-string limit gives no column
        offset = digits.start() + 1 if digits else 1
    elif offset > len(text):  # errors in string literals point past the line's end: take the last literal
        offset = _last_string(text, offset) or offset
    return Position(line, max(offset, 1))


def _last_string(text: str, offset: int) -> int | None:
    """The 1-based column of the last string literal that ends before `offset` on a line."""
    found = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[1] < offset:
                found = token.start[1] + 1
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    """The 1-based character column of a 1-based UTF-8 byte offset on a line."""
    if not 0 < line <= len(lines):
        return max(byte_offset, 1)
    prefix = lines[line - 1].encode()[: byte_offset - 1]
    return len(prefix.decode(errors="ignore")) + 1


def _offset_position(source: str, index: int) -> Position:
    line_start = source.rfind("\n", 0, index) + 1
    return Position(source.count("\n", 0, index) + 1, index - line_start + 1)


def _deepest_point(source: str) -> Position:
    """Where brackets nest deepest, or else the start of the longest line, by the tokenizer (which
    does not recurse), for when CPython's parser gives up."""
    best, depth, position = 0, 0, Position(1, 1)
    longest, line_start, count = 0, Position(1, 1), 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                count = 0
                continue
            if count == 0:
                line_start = Position(token.start[0], token.start[1] + 1)
            count += 1
            if count > longest:
                longest, longest_start = count, line_start
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
                if depth > best:
                    best, position = depth, Position(token.start[0], token.start[1] + 1)
            elif token.type == tokenize.OP and token.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        pass
    return position if best >= 20 or not longest else longest_start


def _message(message: str) -> str:
    return message if message.startswith("invalid syntax") else f"invalid syntax: {message}"


def paired(module: cst.Module, tree: ast.Module) -> Iterator[tuple[cst.CSTNode, list[ast.stmt]]]:
    """Each top-level libcst statement, with its CPython statements (one per small statement of a line)."""
    statements = iter(tree.body)
    for statement in module.body:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        yield statement, [next(statements) for _ in range(count)]


def spelled(name: str) -> str:
    """`name` as CPython's tree spells it."""
    return name if name.isascii() else unicodedata.normalize("NFKC", name)
