"""write(): put a rendered project in OUT as one transaction: check, stage, journal, commit or roll back.

1. Check: a generated file a person has edited since (its hash differs from the manifest's), or a
   file the generator does not own that is in the way, stops the run with `WriteRefused` unless
   `force` is given. Nothing is touched; when nothing would change, nothing is touched at all (no
   file is rewritten, so timestamps stay as they are).
2. Stage: every file that changes is written, complete, into a temporary directory beside the
   output directory (same file system, so moving a file into place is a rename).
3. Commit: old versions of the files that change or go are moved aside into that temporary
   directory, and the staged files are renamed into place, the manifest last. Every step is
   journaled; any failure (an `OSError` such as a full disk, an exception, Ctrl-C or SIGTERM) rolls
   the journal back, so the output directory is left byte-identical to what it was.
4. Clean up: the temporary directory is removed, on success and on failure.

SIGINT and SIGTERM are deferred while `write` runs (in the main thread): they are noticed between
files, roll back what was done, and are delivered again once everything is cleaned up. Files a
person added next to the generated ones are never moved or copied.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
import signal
import tempfile
import threading
from pathlib import Path, PurePosixPath

from .. import codes, quick
from ..diagnostics import visible
from .cache import Cache, forget_run, note_run
from .compare import Drift, Scan, drift_of, modules_not_ours, scan_paths
from .manifest import MANIFEST, digest, encoded, owned_files, safe_path
from .recover import JOURNAL, TEMP_MARK, lock, recover, undo_all
from .tree import (
    CLOEXEC,
    DIR_FLAGS,
    LinkRefused,
    Output,
    Tree,
    WriteRefused,
    entry_kind,
    link_message,
    opener_in,
    quietly,
)

_IGNORED_PARTS = set(quick.SKIPPED_DIRS)


class RollbackFailed(OSError):
    """A failed write could not be undone completely; the previous files are kept aside."""


def write(
    files: dict[str, str | bytes],
    out: Path,
    force: bool = False,
    runs: Cache | None = None,
    written: dict[str, str] | None = None,
) -> Drift:
    """Make `out` hold `files`, as one transaction; keep files a person added.

    Returns what changed (`Drift`: `changed` rewritten, `missing` created, `extra` removed).
    Raises `WriteRefused` (nothing touched) when a file a person edited, or one the generator
    does not own, would be overwritten or removed and `force` is not given, and `LinkRefused`
    (even with `force`) when a link is on the way; re-raises any failure after restoring `out`
    as it was. A Python module in `out` that the generator does not write is refused even with `force`
    (it would be imported with the project; the generator never removes a file it did not write).
    `runs` is where this machine records the write while it is in progress (cache.py), so that only a
    run of its own, killed, is ever undone.

    A file the manifest lists and the generator no longer writes is removed only when it is ours: this
    machine recorded writing it with those bytes (`written`, cache.py), or it still has the bytes the
    manifest records and begins with the generated-file header. A manifest cannot make the generator
    remove a person's file by listing it.
    """
    unsafe = sorted(path for path in files if not safe_path(path))
    if unsafe:
        raise ValueError(f"generated paths must be relative and inside the output directory: {unsafe}")
    recover(out, runs=runs)
    with Output(out) as output:
        owned = owned_files(output)
        scan = scan_paths(files, owned, output)
        if scan.links:
            raise LinkRefused(link_message(list(dict.fromkeys(scan.links))))
        ours = {path: sha for path, sha in owned.items() if _ours(path, sha, scan, written or {})}
        foreign = [path for path in modules_not_ours(output, files) if path not in ours]
        if foreign:
            raise WriteRefused(
                codes.UNOWNED_MODULE,
                "refusing to write beside files the generator does not write that the project would run:\n  "
                + "\n  ".join(f"{visible(str(output.shown / path))} ({quick.why_foreign(path)})" for path in foreign)
                + "\nthey would be imported or read with the generated project (by `unionml run`, `deploy`, "
                "`pyflyte register` and in the image); move them out of the output directory",
            )
        problems = scan.blocked + _conflicts(files, output.shown, scan, owned, force)
        if problems:
            raise WriteRefused(
                codes.REFUSING_TO_OVERWRITE,
                "refusing to overwrite:\n  "
                + "\n  ".join(problems)
                + "\nmove your changes into the app (or move the files away), or pass --force to overwrite them",
            )
        drift = drift_of(files, scan, ours, diff=False)
        if drift.clean:
            return drift
        writes = {path: encoded(files[path]) for path in [*drift.changed, *drift.missing]}
        with _SignalGuard() as guard:
            _Transaction(output, guard, runs).run(writes, drift.extra)
    return drift


GENERATED_HEADERS = (b"# Generated by unionml-codegen ", b"<!-- Generated by unionml-codegen ")


def _ours(path: str, sha: str, scan: Scan, written: dict[str, str]) -> bool:
    """Whether a file the manifest lists is the generator's to remove (see `write`)."""
    current = scan.existing.get(path)
    if current is None or digest(current) != sha:
        return False
    return written.get(path) == sha or current.startswith(GENERATED_HEADERS)


def _conflicts(files: dict[str, str | bytes], shown: Path, scan: Scan, owned: dict[str, str], force: bool) -> list[str]:
    problems = []
    for path in sorted((set(files) | set(owned)) - {MANIFEST}):
        if force or (path not in scan.existing and path not in scan.others):
            continue
        current = scan.existing.get(path)
        if path in files and current == encoded(files[path]):
            continue  # already what the generator writes
        if path in owned:
            if current is None or hashlib.sha256(current).hexdigest() != owned[path]:
                gone = "" if path in files else " (no longer generated: it would be removed)"
                problems.append(f"{shown / path}: generated earlier and edited since{gone}")
        else:
            problems.append(f"{shown / path}: not written by the generator")
    return problems


class _Interrupted(BaseException):
    """A deferred signal arrived: undo, then let the signal act."""


class _SignalGuard:
    """Defer SIGINT and SIGTERM (main thread only); deliver them again on exit.

    `check()` raises `_Interrupted` once a signal has arrived, so the caller can roll back at
    a safe point. On exit the previous handlers are restored and each deferred signal is
    raised again, so Ctrl-C still ends in KeyboardInterrupt and SIGTERM still terminates.
    """

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __enter__(self) -> _SignalGuard:
        self.pending: list[int] = []
        self.previous: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                handler = signal.getsignal(sig)
                if handler is None or handler is signal.SIG_IGN:
                    continue  # set outside Python (cannot be restored), or ignored on purpose
                try:
                    self.previous[sig] = signal.signal(sig, self._note)
                except (OSError, ValueError):
                    pass
        return self

    def _note(self, signum, frame) -> None:
        self.pending.append(signum)

    def check(self) -> None:
        if self.pending:
            raise _Interrupted

    def __exit__(self, exc_type, exc, tb) -> bool:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(self.pending):
            signal.raise_signal(sig)  # the restored handler acts: KeyboardInterrupt, termination, ...
        if exc_type is _Interrupted:
            raise KeyboardInterrupt
        return False


def _commit_order(paths) -> list[str]:
    """Sorted, the manifest last: until it is in place, the previous manifest describes the files."""
    return sorted(paths, key=lambda path: (path == MANIFEST, path))


class _Transaction:
    """Stage, commit with a write-ahead journal, roll back on any failure, clean up.

    The temporary directory beside OUT holds `new/` (staged files), `old/` (what was moved
    aside) and `JOURNAL`. Each commit step is appended to the journal before it is taken, and
    the directory is locked (`flock`) while this process lives, so a run killed with SIGKILL
    (no handler runs) is undone by the next `write` (`recover`), which knows the directory is
    stale because it can take the lock.
    """

    def __init__(self, output: Output, guard: _SignalGuard, runs: Cache | None = None):
        self.runs = runs
        self.token = secrets.token_hex(16)
        self.output = output
        self.out = output.real
        self.guard = guard
        self.journal: list[dict] = []
        self.created_parents: list[Path] = []
        self.tmp: Path | None = None
        self.parent_fd: int | None = None
        self.tmp_fd: int | None = None
        self.journal_fd: int | None = None

    def run(self, writes: dict[str, bytes], removals: list[str]) -> None:
        try:
            self._make_parents()
            self.parent_fd = os.open(self.out.parent, DIR_FLAGS)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}{TEMP_MARK}", dir=self.out.parent))
            self.tmp_fd = os.open(self.tmp.name, DIR_FLAGS, dir_fd=self.parent_fd)
            lock(self.tmp_fd)  # held until this process ends, however it ends
            note_run(self.runs, self.tmp, self.token)  # outside the repository: this run is ours to undo
            self.staging = Tree(self.tmp_fd, self.tmp)
            self.journal_fd = os.open(
                JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW | CLOEXEC,
                0o600, dir_fd=self.tmp_fd,
            )  # fmt: skip
            self._log({"out": self.out.name, "pid": os.getpid(), "token": self.token})
            self._stage(writes)
            try:
                self._commit(writes, removals)
                self.guard.check()
            except BaseException:
                self._rollback()
                raise
            self._log({"committed": True})  # from here on, a run killed before cleaning up needs no undo
        except BaseException:
            for parent in reversed(self.created_parents):
                quietly(os.rmdir, parent)
            raise
        finally:
            for fd in (self.journal_fd, self.tmp_fd, self.parent_fd):
                if fd is not None:
                    os.close(fd)
            if self.tmp is not None and os.path.isdir(self.tmp) and not os.path.islink(self.tmp):
                shutil.rmtree(self.tmp, ignore_errors=True)
                forget_run(self.runs, self.tmp)

    @property
    def tree(self) -> Tree:
        assert self.output.tree is not None
        return self.output.tree

    def _log(self, entry: dict) -> None:
        """Append a step to the journal before taking it (a step never taken is undone as a no-op)."""
        if "action" in entry:
            self.journal.append(entry)
        os.write(self.journal_fd, (json.dumps(entry, sort_keys=True) + "\n").encode())

    def _make_parents(self) -> None:
        missing = []
        for parent in [self.out.parent, *self.out.parent.parents]:
            if parent.exists():
                break
            missing.append(parent)
        for parent in reversed(missing):
            os.mkdir(parent)
            self.created_parents.append(parent)

    def _stage(self, writes: dict[str, bytes]) -> None:
        for path, data in sorted(writes.items()):
            self.guard.check()
            target = PurePosixPath("new") / path
            parent = self.staging.open_dir(target.parent, made=lambda _: None)
            try:
                opener = opener_in(parent)
                with open(target.name, "wb", opener=opener) as handle:
                    handle.write(data)
            finally:
                os.close(parent)

    def _commit(self, writes: dict[str, bytes], removals: list[str]) -> None:
        if self.output.fd is None:
            self._log({"action": "mkdir", "path": ""})
            os.mkdir(self.out.name, dir_fd=self.parent_fd)
            self.output.fd = os.open(self.out.name, DIR_FLAGS, dir_fd=self.parent_fd)
            self.output.tree = Tree(self.output.fd, self.output.shown)
        for path in sorted(removals):
            self._move_aside(path)
        for path in sorted(removals):
            self._prune_empty_parents(path)
        for path in _commit_order(writes):
            relative = PurePosixPath(path)
            parent = self.tree.open_dir(relative.parent, made=self._made)
            try:
                kind = entry_kind(parent, relative.name)
                if kind == "link":
                    raise self.tree.link(path)
                if kind != "missing":
                    self._move_aside(path)
                staged = self.staging.open_dir(PurePosixPath("new") / relative.parent)
                try:
                    self._log({"action": "placed", "path": path, "sha256": digest(writes[path])})
                    os.replace(relative.name, relative.name, src_dir_fd=staged, dst_dir_fd=parent)
                finally:
                    os.close(staged)
            finally:
                os.close(parent)

    def _made(self, relative: str) -> None:
        self._log({"action": "mkdir", "path": relative})

    def _move_aside(self, path: str) -> None:
        relative = PurePosixPath(path)
        parent = self.tree.open_dir(relative.parent)
        try:
            if entry_kind(parent, relative.name) == "link":
                raise self.tree.link(path)
            aside = self.staging.open_dir(PurePosixPath("old") / relative.parent, made=lambda _: None)
            try:
                self._log({"action": "moved", "path": path})
                os.replace(relative.name, relative.name, src_dir_fd=parent, dst_dir_fd=aside)
            finally:
                os.close(aside)
        finally:
            os.close(parent)

    def _prune_empty_parents(self, path: str) -> None:
        """Remove the directories that removing `path` emptied (caches such as __pycache__ aside)."""
        for parent in PurePosixPath(path).parents:
            if parent == PurePosixPath("."):
                break
            try:
                fd = self.tree.open_dir(parent)
            except (OSError, LinkRefused):
                break
            try:
                entries = os.listdir(fd)
                mode = os.fstat(fd).st_mode & 0o7777
            finally:
                os.close(fd)
            if not set(entries) <= _IGNORED_PARTS:
                break  # a person's files (or generated ones) remain: keep it and its parents
            for cache in sorted(entries):
                self._move_aside(f"{parent.as_posix()}/{cache}")
            above = self.tree.open_dir(parent.parent)
            try:
                self._log({"action": "rmdir", "path": parent.as_posix(), "mode": mode})
                os.rmdir(parent.name, dir_fd=above)
            finally:
                os.close(above)

    def _rollback(self) -> None:
        failures = undo_all(self.journal, self.output, self.staging, self.parent_fd)
        self.journal.clear()
        if failures:
            kept, self.tmp = self.tmp, None  # keep the previous files for the person to restore
            raise RollbackFailed(
                errno.EIO,
                f"could not restore {self.out} completely ({'; '.join(failures)}); "
                f"the previous versions of its files are in {kept / 'old'}",
            )
