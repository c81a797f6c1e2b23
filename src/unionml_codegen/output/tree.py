"""OUT opened once; every path below it reached from its descriptor, never through a link.

Nothing below the output directory is ever read, written, moved or removed through a link. Every
path below OUT is reached one directory at a time from a descriptor of OUT (`openat` with
`O_NOFOLLOW`, `renameat`, `unlinkat`), so a link on the way, whether it was there before the run or
planted while it runs, stops the run with `LinkRefused` (and, during a write, a rollback) instead of
being followed. Only regular files are read. OUT itself, when it is a link to a directory, is
resolved once, at the start (`resolve_output`); a link to nothing is refused.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath

from .. import codes

CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | CLOEXEC  # a FIFO opens without waiting


class WriteRefused(Exception):
    """The output directory holds work the generator must not overwrite."""

    def __init__(self, code: codes.Code, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class LinkRefused(WriteRefused):
    """A symbolic link is on the way to a path the generator reads, writes or removes."""

    def __init__(self, message: str):
        super().__init__(codes.LINK_IN_OUTPUT, message)


def resolve_output(out: Path) -> Path:
    """The directory `out` names, links resolved once: OUT itself may be a link to a directory.

    Raises `WriteRefused` for a link to nothing (creating its target would write somewhere the
    path does not show) and for a path that exists and is not a directory.
    """
    shown = Path(out)
    real = Path(os.path.realpath(out))
    if os.path.islink(out) and not os.path.exists(out):
        raise WriteRefused(
            codes.OUTPUT_NOT_A_DIRECTORY,
            f"{shown} is a symbolic link to a directory that does not exist ({os.readlink(out)!r}); "
            "remove the link, or create the directory it points to",
        )
    if os.path.lexists(real) and not os.path.isdir(real):
        raise WriteRefused(codes.OUTPUT_NOT_A_DIRECTORY, f"{shown} exists and is not a directory")
    return real


class Tree:
    """A directory opened once; every path below it is reached one directory at a time, never through a link."""

    def __init__(self, fd: int, shown: Path):
        self.fd = fd
        self.shown = shown

    def open_dir(self, relative: str | PurePosixPath, made=None) -> int:
        """A new descriptor of the directory `relative` ("" or "." for this one).

        With `made` (called with each directory's relative path before it is made), missing
        directories are created.
        """
        fd = os.dup(self.fd)
        done = PurePosixPath()
        try:
            for part in PurePosixPath(relative).parts:
                done = done / part
                try:
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if made is None:
                        raise
                    made(done.as_posix())
                    os.mkdir(part, dir_fd=fd)
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    if entry_kind(fd, part) == "link":
                        raise self.link(done.as_posix()) from None
                    raise
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    def probe(self, relative: str) -> tuple[str, str]:
        """What is at `relative`, as (kind, where): kind "missing", "file", "dir", "link" or "other"
        of the first entry on the way (at `where`) that is not a directory, else of the entry itself."""
        parts = PurePosixPath(relative).parts
        fd = os.dup(self.fd)
        try:
            done = PurePosixPath()
            for index, part in enumerate(parts):
                done = done / part
                kind = entry_kind(fd, part)
                if kind != "dir" or index == len(parts) - 1:
                    return kind, done.as_posix()
                child = os.open(part, DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
            return "dir", ""
        finally:
            os.close(fd)

    def read(self, relative: str, limit: int | None = None) -> bytes:
        """The content of the regular file at `relative` (`OSError` for anything else, a link included)."""
        path = PurePosixPath(relative)
        parent = self.open_dir(path.parent)
        try:
            try:
                fd = os.open(path.name, READ_FLAGS, dir_fd=parent)
            except OSError:
                if entry_kind(parent, path.name) == "link":
                    raise self.link(relative) from None
                raise
        finally:
            os.close(parent)
        return read_open(fd, limit, relative)

    def link(self, relative: str) -> LinkRefused:
        return LinkRefused(link_message([f"{self.shown / relative}: a symbolic link"]))


def entry_kind(dir_fd: int, name: str) -> str:
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"


def read_open(fd: int, limit: int | None, shown: str) -> bytes:
    """Read an open file to its end, if it is a regular file (and no larger than `limit`); close it."""
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"{shown} is not a regular file")
        if limit is not None and info.st_size > limit:
            raise OSError(errno.EFBIG, f"{shown} is larger than {limit} bytes")
        data = handle.read() if limit is None else handle.read(limit + 1)
        if limit is not None and len(data) > limit:
            raise OSError(errno.EFBIG, f"{shown} is larger than {limit} bytes")
        return data


def link_message(problems: list[str]) -> str:
    return (
        "refusing to go through a symbolic link in the output directory:\n  "
        + "\n  ".join(problems)
        + "\nthe generator never reads, writes or removes anything through a link below the output directory; "
        "replace the link with a real directory (or file), or choose another output directory"
    )


class Output:
    """The output directory, opened once (None inside when it does not exist yet)."""

    def __init__(self, out: Path):
        self.shown = Path(out)
        self.real = resolve_output(out)
        try:
            self.fd: int | None = os.open(self.real, DIR_FLAGS)
        except FileNotFoundError:
            self.fd = None
        except OSError as exc:
            raise WriteRefused(
                codes.OUTPUT_NOT_A_DIRECTORY, f"{self.shown}: cannot open it as a directory ({exc.strerror or exc})"
            ) from None
        self.tree = Tree(self.fd, self.shown) if self.fd is not None else None

    def __enter__(self) -> Output:
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def opener_in(dir_fd: int):
    """An `open` opener that creates a new file in `dir_fd`, never through a link."""

    def opener(name: str, flags: int) -> int:
        return os.open(name, flags | os.O_EXCL | os.O_NOFOLLOW | CLOEXEC, 0o666, dir_fd=dir_fd)

    return opener


def quietly(function, *args) -> None:
    try:
        function(*args)
    except OSError:
        pass
