"""Undo what a killed run of this machine left beside OUT, and only that.

A write journals every step in a temporary directory beside OUT (transaction.py). When a run is
killed, the next one finds that directory and rolls its journal back (`recover`), so OUT is what it
was before the killed run. Only a directory whose journal carries the token this machine recorded
for it outside the repository (cache.py) is ever undone: one committed to the repository makes
`--check` fail and `generate` refuse it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from pathlib import Path, PurePosixPath

from .. import codes, quick
from .cache import Cache, forget_run, run_token
from .manifest import MAX_MANIFEST_BYTES, digest, safe_path
from .tree import DIR_FLAGS, LinkRefused, Output, Tree, WriteRefused, entry_kind

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

TEMP_MARK = quick.TEMP_MARK  # prefix (after ".OUT") of the temporary directory beside OUT
JOURNAL = "journal.jsonl"  # in the temporary directory: one JSON object per line, written before each step


def undo_all(journal: list[dict], output: Output, staging: Tree, parent_fd: int) -> list[str]:
    """Undo the journal's steps, last first; a step that was logged but never taken is a no-op."""
    failures = []
    for entry in reversed(journal):
        try:
            _undo(entry, output, staging, parent_fd)
        except (OSError, LinkRefused) as exc:
            failures.append(f"{entry.get('action')} {entry.get('path')}: {exc}")
    return failures


def _undo(entry: dict, output: Output, staging: Tree, parent_fd: int) -> None:
    action, path = entry.get("action"), entry.get("path")
    if not isinstance(path, str) or (path and not safe_path(path)):
        raise OSError(errno.EINVAL, f"not a path in the output directory: {path!r}")
    if not path:  # the output directory itself, created by the run
        if action == "mkdir":
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(output.real.name, dir_fd=parent_fd)
        return
    if output.tree is None:
        return  # OUT was never created, so nothing was done inside it
    relative = PurePosixPath(path)
    try:
        parent = output.tree.open_dir(relative.parent)
    except FileNotFoundError:
        if action in ("placed", "mkdir", "rmdir"):
            return  # nothing of the step is there
        raise
    try:
        here = entry_kind(parent, relative.name)
        if action == "placed":
            if staging.probe(f"new/{path}")[0] != "missing" or here == "missing":
                return  # never moved into place
            if here != "file" or digest(output.tree.read(path)) != entry.get("sha256"):
                raise OSError(errno.EEXIST, f"{output.shown / path} changed since the interrupted run")
            back = staging.open_dir(PurePosixPath("new") / relative.parent, made=lambda _: None)
            try:
                os.replace(relative.name, relative.name, src_dir_fd=parent, dst_dir_fd=back)
            finally:
                os.close(back)
        elif action == "moved":
            if staging.probe(f"old/{path}")[0] == "missing":
                return  # never moved aside
            if here != "missing":
                raise OSError(errno.EEXIST, f"{output.shown / path} is in the way of its previous version")
            aside = staging.open_dir(PurePosixPath("old") / relative.parent)
            try:
                os.replace(relative.name, relative.name, src_dir_fd=aside, dst_dir_fd=parent)
            finally:
                os.close(aside)
        elif action == "mkdir":
            if here == "dir":
                os.rmdir(relative.name, dir_fd=parent)
        elif action == "rmdir":
            if here == "missing":
                os.mkdir(relative.name, dir_fd=parent)
                os.chmod(relative.name, int(entry.get("mode", 0o755)) & 0o7777, dir_fd=parent)
    finally:
        os.close(parent)


def lock(fd: int) -> bool:
    """Take the lock of an open directory without waiting; False when another process holds it."""
    if fcntl is None:
        return False  # no flock (Windows): never treat another run's directory as stale
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


def interrupted(out: Path, runs: Cache | None = None) -> list[str]:
    """The temporary directories that runs of this machine killed while writing `out` left beside it (read only)."""
    try:
        return recover(out, undo=False, runs=runs)
    except (OSError, WriteRefused):
        return []


def recover(out: Path, undo: bool = True, runs: Cache | None = None) -> list[str]:
    """Undo what runs of this machine killed while writing `out` left, and remove their temporary directories.

    Only directories beside OUT named like ours (`.OUT` + `TEMP_MARK` + ...), real directories
    owned by this user, whose lock no live process holds, and whose journal carries the token that
    this machine recorded for them outside the repository (`runs`, cache.py), are touched: one
    committed to the repository is never "undone" into OUT. Returns the names of those removed
    (without `undo`: of those it would undo, touching nothing). Raises `WriteRefused` when one
    cannot be undone, or is stale and not ours (it is then kept, and named).
    """
    removed = []
    with Output(out) as output:
        try:
            parent_fd = os.open(output.real.parent, DIR_FLAGS)
        except FileNotFoundError:
            return removed
        try:
            prefix = f".{output.real.name}{TEMP_MARK}"
            for name in sorted(n for n in os.listdir(parent_fd) if n.startswith(prefix)):
                if _recover_one(name, output, parent_fd, undo, runs):
                    removed.append(name)
        finally:
            os.close(parent_fd)
    return removed


def _recover_one(name: str, output: Output, parent_fd: int, undo: bool, runs: Cache | None) -> bool:
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    except OSError:
        return False  # a link, a file, or gone: not ours to touch
    tmp = output.real.parent / name
    try:
        if os.fstat(fd).st_uid != os.getuid() or not lock(fd):
            return False  # another user's, or its run is still going
        token = run_token(runs, tmp)
        staging = Tree(fd, tmp)
        try:
            lines = staging.read(JOURNAL, MAX_MANIFEST_BYTES).decode("utf-8").splitlines()
        except FileNotFoundError:
            lines = []  # killed before the journal was opened: nothing was done in OUT
        except (OSError, UnicodeDecodeError, WriteRefused):
            lines = None
        if token is None and not lines and _empty(tmp):
            lines = []  # killed between making it and recording it: nothing was done, nothing is in it
        elif token is None or lines is None or (lines and _header_token(lines[0]) != token):
            if not undo:
                return False
            raise WriteRefused(
                codes.FOREIGN_RUN_DIRECTORY,
                f"{tmp} looks like what a killed run of unionml generate leaves beside {output.shown}, but no run "
                "on this machine left it (it may come from the repository); it is not undone into the output "
                "directory: remove it (if it is yours, the previous versions of the files are in its old/)",
            )
        if not undo:
            return True
        journal, committed = [], False
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                break  # the last line, cut short by the kill: that step was never taken
            if isinstance(entry, dict) and "action" in entry:
                journal.append(entry)
            committed = committed or (isinstance(entry, dict) and entry.get("committed") is True)
        if committed:
            journal = []  # the write was complete: only the temporary directory is left to remove
        if lines and json.loads(lines[0]).get("out") != output.real.name:
            return False
        failures = undo_all(journal, output, staging, parent_fd)
        if failures:
            raise WriteRefused(
                codes.ROLLBACK_INCOMPLETE,
                f"a run that was killed while writing {output.shown} left it half-written, and it could not "
                f"be undone ({'; '.join(failures)}); the previous versions of its files are in {tmp / 'old'}: "
                f"restore what you need, then remove {tmp}",
            )
        shutil.rmtree(tmp, ignore_errors=True)
        forget_run(runs, tmp)
        return True
    except ValueError:
        return False
    finally:
        os.close(fd)


def _empty(directory: Path) -> bool:
    """Whether nothing but empty directories is below `directory` (links not followed)."""
    for _, _, names in os.walk(directory):
        if names:
            return False
    return True


def _header_token(line: str) -> str | None:
    try:
        header = json.loads(line)
    except ValueError:
        return None
    return header.get("token") if isinstance(header, dict) else None
