"""Reading the generator's inputs: regular files of bounded size, and paths that stay in the project.

The generator runs in pre-commit hooks and CI on pull requests, so an app, a `pyproject.toml`
or a manifest may have been written by anyone. What they name is read only if it is

- inside the project (`project_root`), links resolved: paths in the app (`model_file=`), in
  `[tool.unionml-codegen]` and in a manifest. Paths the user gives on the command line (the
  app, `-o`, `--model`) are the user's own choice and may be anywhere;
- a regular file (never a FIFO, a device, a socket or a directory: opening one never waits), of
  at most the size bound for its kind, whose size does not change while it is read (which also
  rules out `/proc` files, whose size reads as 0).

Errors are `InputError`s whose message names the path and the problem, and never quotes the
file's content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from . import states
from .sources import note_read

MB = 1024 * 1024
MAX_APP_BYTES = 16 * MB  # the app and pyproject.toml
MAX_CONFIG_BYTES = 16 * MB
MAX_MODEL_BYTES = 512 * MB  # a vendored model file
MARKERS = states.MARKERS
#: Version-control metadata: never an input, whatever names it (a checkout's .git/config holds the token CI
#: cloned with; a model file or a local package's file that is, or links to, one would be copied into OUT).
VCS_METADATA = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", ".pijul"})


class InputError(Exception):
    """An input file cannot be used; the message says why, without quoting its content."""


def project_root(directory: Path) -> Path:
    """The project that `directory` belongs to, links resolved (states.project_root)."""
    return Path(states.project_root(directory))


def inside(path: Path, root: Path) -> bool:
    """Whether `path`, links resolved, is `root` or below it."""
    real = os.path.realpath(path)
    try:
        return os.path.commonpath([real, os.path.realpath(root)]) == os.path.realpath(root)
    except ValueError:  # different drives (Windows)
        return False


def check_path(value: str, what: str) -> None:
    """Refuse path text no file system accepts (a NUL character), before it reaches `open`."""
    if "\0" in value:
        raise InputError(f"{what} contains a NUL character")


def version_control_metadata(path: Path | str) -> bool:
    """Whether `path`, as given or with its links resolved, is in (or is) a version-control directory."""
    for form in (os.path.abspath(path), os.path.realpath(path)):
        if VCS_METADATA & set(Path(form).parts):
            return True
    return False


def read_file(path: Path, limit: int, what: str, *, note: bool = True) -> bytes:
    """The bytes of `path`, if it is a regular file of at most `limit` bytes (links followed).

    `note=False` for a read whose result the up-to-date check covers otherwise (version pins:
    sources.py hashes `pins.find_pins` itself)."""
    check_path(os.fspath(path), what)
    if version_control_metadata(path):
        raise InputError(
            f"{what} is version-control metadata (inside {'/'.join(sorted(VCS_METADATA))}), never an input"
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)  # a FIFO opens at once
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"{what}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{what} is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{what} is not a regular file (a FIFO, a device or a socket is never read)")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > limit:
            raise InputError(f"{what} is larger than the limit of {_size(limit)} ({_size(info.st_size)})")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"{what}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(f"{what} is larger than the limit of {_size(limit)}")
    if len(data) != info.st_size:
        raise InputError(f"{what} changed size while it was read, or is not an ordinary file")
    if note:
        note_read(path, data)  # for the next run's check without parsing (sources.py)
    return data


def _size(count: int) -> str:
    return f"{count / MB:.0f} MB" if count >= MB else f"{count} bytes"


def decode_python(data: bytes, what: str) -> str:
    """Python source text from its bytes as Python reads them: the PEP 263 coding cookie (or a
    UTF-8 BOM) names the encoding, UTF-8 otherwise; newlines are translated to "\\n"."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown encoding in the cookie, or a first line that is not UTF-8
        if "invalid or missing encoding declaration" in str(exc.msg):
            encoding = "utf-8"  # report where the bytes stop being UTF-8, below
        else:
            raise InputError(f"{what}: {exc.msg}") from None
    try:
        return io.TextIOWrapper(io.BytesIO(data), encoding=encoding).read()
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{what} is not valid {encoding} text: byte 0x{data[exc.start]:02x} on line {line} cannot be decoded"
        ) from None
    except LookupError as exc:
        raise InputError(f"{what}: {exc}") from None
