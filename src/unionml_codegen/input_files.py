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

Every read and every probe is also noted while `recording()` is active: the states of the
paths that decided the output (the app, the local modules it copies, model files, the paths
probed to tell a local import from a third-party one, the file lists of copied packages). The
cache entry this machine writes (output/up_to_date.py) records them, so that a later `--check`
recognises an up-to-date project without parsing.
"""

from __future__ import annotations

import hashlib
import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from . import states
from .states import file_state, tree_state

MB = 1024 * 1024
MAX_APP_BYTES = 16 * MB  # the app and pyproject.toml
MAX_CONFIG_BYTES = 16 * MB
MAX_MODEL_BYTES = 512 * MB  # a vendored model file
MARKERS = states.MARKERS
#: Version-control metadata: never an input, whatever names it (a checkout's .git/config holds the token CI
#: cloned with; a model file or a local package's file that is, or links to, one would be copied into OUT).
VCS_METADATA = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", ".pijul"})


# -- what a generation read, noted for the up-to-date check

UNSTABLE = "unstable"  # read twice with different contents: never matches

_recording: dict[str, str] | None = None  # absolute path (parents resolved) -> state


@contextmanager
def recording() -> Iterator[dict[str, str]]:
    """Note the inputs read inside the block; yields the notes (absolute path -> state)."""
    global _recording
    previous, _recording = _recording, {}
    try:
        yield _recording
    finally:
        _recording = previous


@contextmanager
def unrecorded() -> Iterator[None]:
    """Reads inside the block are not noted: their result is part of `sources_key` itself (the
    version pins: only their `[project] dependencies` and requirement lines count, not the bytes
    of a whole pyproject.toml)."""
    global _recording
    previous, _recording = _recording, None
    try:
        yield
    finally:
        _recording = previous


def _note(path: Path | str, state: str) -> None:
    if _recording is None:
        return
    key = _located(path)
    if _recording.get(key, state) != state:
        state = UNSTABLE
    _recording[key] = state


def note_read(path: Path | str, data: bytes) -> None:
    """A file the generator read, with the bytes it read."""
    _note(path, "sha256:" + hashlib.sha256(data).hexdigest())


def note_probe(path: Path | str) -> None:
    """A path whose existence or kind the generator looked at."""
    if _recording is not None:
        _note(path, file_state(path))


def note_tree(directory: Path | str) -> None:
    """A local package directory whose files the generator listed."""
    if _recording is not None:
        _note(directory, tree_state(directory))


def _located(path: Path | str) -> str:
    """`path` absolute, its parent directories' links resolved (a link itself stays a link)."""
    absolute = os.path.abspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))


def current_states(recorded: dict[str, str]) -> dict[str, str]:
    """The states of the recorded (absolute) paths now."""
    return {
        path: tree_state(path) if state.startswith("tree:") else file_state(path) for path, state in recorded.items()
    }


@dataclass(frozen=True)
class AppPaths:
    """The app's paths, resolved once per run and handed down to every stage that needs them."""

    app: Path  # the app, as given
    out: Path  # the output directory, as given
    shown: str  # the app's path in messages
    directory: Path  # the app's directory (the import root starts there)
    real_directory: Path  # the same, links resolved
    root: Path  # the project the app belongs to (project_root), links resolved
    relative: str  # the app's path relative to OUT, with forward slashes (the manifest and the headers name it)

    @classmethod
    def of(cls, app: Path | str, out: Path | str, shown: str | None = None) -> AppPaths:
        app, out = Path(app), Path(out)
        return cls(
            app=app,
            out=out,
            shown=shown or str(app),
            directory=app.parent,
            real_directory=Path(os.path.realpath(app)).parent,
            root=project_root(app.parent),
            relative=relative_to(app, out),
        )


def relative_to(path: Path, out_dir: Path) -> str:
    """`path` relative to the output directory, with forward slashes."""
    try:
        return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows): there is no relative path
        return path.resolve().as_posix()


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
    output/up_to_date.py hashes `requirements.find_pins` itself)."""
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
        note_read(path, data)  # for the next run's check without parsing (recorded below)
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
