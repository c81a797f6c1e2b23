"""The state of a path, as the caches record it and compare it: nothing but the standard library's
`os`, `stat` and `hashlib`, so that quick.py can check a warm project in about the time Python takes to start.

- `file_state`: "missing", "dir", "other" (a FIFO, a device: never opened), "too-large", "unreadable",
  or "sha256:..." of a regular file; prefixed with "link:" when the path is a symbolic link;
- `project_root`: the project a directory belongs to (input_files.py, for every containment check);
- `protected_roots`: the directories a cache must lie outside of (a pull request can commit anything there);
- `tree_state`: the names of the files below a local package directory, as the reader lists them to copy
  them (input_files.py notes it for each package copied).
"""

from __future__ import annotations

import hashlib
import os
import stat

MAX_SOURCE_BYTES = 512 * 1024 * 1024  # the largest input read (a model file, inputs.MAX_MODEL_BYTES)
MARKERS = (".git", "pyproject.toml")


def project_root(directory: str | os.PathLike) -> str:
    """The project that `directory` belongs to, links resolved.

    The nearest directory at or above `directory` that holds `.git` or `pyproject.toml`, unless
    that is the file system's root or the home directory (a dotfiles repository there must not
    make every file of the user's "the project"); without one, `directory` itself.
    """
    start = candidate = os.path.realpath(directory)
    home = os.path.realpath(os.path.expanduser("~"))
    while True:
        if any(os.path.lexists(os.path.join(candidate, marker)) for marker in MARKERS):
            if candidate == os.path.dirname(candidate) or candidate == home:
                break
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            break
        candidate = parent
    return start


def repository_root(directory: str | os.PathLike) -> str | None:
    """The outermost directory at or above `directory` that holds `.git` (never the root of the file system or
    the home directory): what a checkout holds, which a pull request can fill. A `.git` cannot be committed,
    so unlike a `pyproject.toml` a pull request cannot move this root."""
    candidate = os.path.realpath(directory)
    home = os.path.realpath(os.path.expanduser("~"))
    found = None
    while True:
        if candidate != home and candidate != os.path.dirname(candidate):
            if os.path.lexists(os.path.join(candidate, ".git")):
                found = candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            return found
        candidate = parent


def protected_roots(*directories: str | os.PathLike) -> set[str]:
    """Where a cache must not lie: the project and the checkout of each directory (the app's, the output's,
    the working directory)."""
    roots = set()
    for directory in directories:
        roots.add(project_root(directory))
        repository = repository_root(directory)
        if repository is not None:
            roots.add(repository)
    return roots


def inside_any(path: str | os.PathLike, roots: set[str]) -> bool:
    real = os.path.realpath(path)
    for root in roots:
        try:
            if os.path.commonpath([real, root]) == root:
                return True
        except ValueError:  # different drives
            continue
    return False


def file_state(path: str | os.PathLike) -> str:
    """What is at `path`: "missing", "dir", "other" (never opened) or "sha256:..." of a regular file;
    prefixed with "link:" when `path` is a symbolic link (where it points decides what may be read)."""
    try:
        if os.path.islink(path):
            return "link:" + _target_state(path)
    except (OSError, ValueError):
        return "unreadable"
    return _target_state(path)


def _target_state(path: str | os.PathLike) -> str:
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except (OSError, ValueError):
        return "unreadable"
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    if not stat.S_ISREG(info.st_mode):
        return "other"
    if info.st_size > MAX_SOURCE_BYTES:
        return "too-large"
    content = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return "other"
            for block in iter(lambda: handle.read(1 << 20), b""):
                content.update(block)
    except OSError:
        return "unreadable"
    return "sha256:" + content.hexdigest()


def tree_state(directory: str | os.PathLike) -> str:
    """The files below a local package directory, as `read/app.py` lists them to copy them."""
    from pathlib import Path  # only for a project that copies a local package

    root = Path(directory)
    try:
        names = sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if "__pycache__" not in path.relative_to(root).parts and path.suffix != ".pyc" and not path.is_dir()
        )
    except OSError:
        return "unreadable"
    return "tree:" + hashlib.sha256("\n".join(names).encode()).hexdigest()
