"""Put a rendered project on disk safely, or compare it with what is there.

`compare` reads the output directory and reports, in memory, which generated files changed,
are missing, or are extra (generated earlier, per the manifest, and no longer generated).

`write` changes the output directory as one transaction:

1. Check: a generated file a person has edited since (its hash differs from the manifest's),
   or a file the generator does not own that is in the way, stops the run with `WriteRefused`
   unless `force` is given. Nothing is touched; when nothing would change, nothing is touched
   at all (no file is rewritten, so timestamps stay as they are).
2. Stage: every file that changes is written, complete, into a temporary directory beside the
   output directory (same file system, so moving a file into place is a rename).
3. Commit: old versions of the files that change or go are moved aside into that temporary
   directory, and the staged files are renamed into place. Every step is journaled; any
   failure (an `OSError` such as a full disk, an exception, Ctrl-C or SIGTERM) rolls the
   journal back, so the output directory is left byte-identical to what it was.
4. Clean up: the temporary directory is removed, on success and on failure.

SIGINT and SIGTERM are deferred while `write` runs (in the main thread): they are noticed
between files, roll back what was done, and are delivered again once everything is cleaned up.
Files a person added next to the generated ones are never moved or copied.

The manifest (`MANIFEST`) records the files the generator owns and their sha256, plus the
provenance `generate.render_app` gives it (the app's path relative to the output directory,
the options, the generator's version and a hash of the generated files).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import os
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = ".unionml-codegen.json"
_IGNORED_PARTS = {"__pycache__", ".pytest_cache"}
TEMP_MARK = ".unionml-codegen-tmp-"  # prefix (after ".OUT") of the temporary directory beside OUT


class WriteRefused(Exception):
    """The output directory holds work the generator must not overwrite."""


class RollbackFailed(OSError):
    """A failed write could not be undone completely; the previous files are kept aside."""


@dataclass
class Drift:
    """How the output directory differs from the generated project (paths relative to it)."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def summary(self) -> str:
        lines = [f"changed: {p}" for p in self.changed]
        lines += [f"missing: {p}" for p in self.missing]
        lines += [f"extra:   {p}" for p in self.extra]
        return "\n".join(lines)


def _encoded(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def digest(content: str | bytes) -> str:
    return hashlib.sha256(_encoded(content)).hexdigest()


def with_manifest(files: dict[str, str | bytes], provenance: dict[str, object]) -> dict[str, str | bytes]:
    """The project's files plus the manifest that names them, with their hashes."""
    manifest = {**provenance, "files": {path: digest(content) for path, content in sorted(files.items())}}
    return {**files, MANIFEST: json.dumps(manifest, indent=2, sort_keys=True) + "\n"}


def read_manifest(out: Path) -> dict | None:
    """The manifest in `out`, or None when there is none or it is not a JSON object."""
    try:
        manifest = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _owned(out: Path) -> dict[str, str]:
    """The files the previous run wrote, by path, with their hashes (only safe relative paths)."""
    files = (read_manifest(out) or {}).get("files")
    if not isinstance(files, dict):
        return {}
    return {
        path: sha
        for path, sha in files.items()
        if isinstance(path, str) and isinstance(sha, str) and _safe(path) and path != MANIFEST
    }


def _safe(path: str) -> bool:
    pure = PurePosixPath(path)
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path


def _existing(out: Path) -> dict[str, Path]:
    """The files under `out` (caches left out), by POSIX path relative to it."""
    found: dict[str, Path] = {}
    if not out.is_dir():
        return found
    for root, dirs, names in os.walk(out):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED_PARTS)
        base = Path(root)
        for name in names:
            path = base / name
            if path.is_file():
                found[path.relative_to(out).as_posix()] = path
    return found


def compare(files: dict[str, str | bytes], out: Path, diff: bool = False) -> Drift:
    """How `out` differs from `files`; with `diff`, unified diffs too. Reads only, writes nothing."""
    out = Path(out)
    return _compare(files, out, _existing(out), _owned(out), diff)


def _compare(
    files: dict[str, str | bytes], out: Path, existing: dict[str, Path], owned: dict[str, str], diff: bool
) -> Drift:
    drift = Drift()
    for path, content in sorted(files.items()):
        new = _encoded(content)
        if path not in existing:
            drift.missing.append(path)
            if diff:
                drift.diffs.append(_diff(None, new, path))
            continue
        current = existing[path].read_bytes()
        if current != new:
            drift.changed.append(path)
            if diff:
                drift.diffs.append(_diff(current, new, path))
    for path in sorted(set(owned) - set(files)):
        if path in existing:
            drift.extra.append(path)
            if diff:
                drift.diffs.append(_diff(existing[path].read_bytes(), None, path))
    return drift


def _diff(old: bytes | None, new: bytes | None, path: str) -> str:
    before = "/dev/null" if old is None else f"a/{path}"
    after = "/dev/null" if new is None else f"b/{path}"
    try:
        old_text = "" if old is None else old.decode("utf-8")
        new_text = "" if new is None else new.decode("utf-8")
    except UnicodeDecodeError:
        return f"Binary files {before} and {after} differ\n"
    lines = list(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True), before, after))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def write(files: dict[str, str | bytes], out: Path, force: bool = False) -> Drift:
    """Make `out` hold `files`, as one transaction; keep files a person added.

    Returns what changed (`Drift`: `changed` rewritten, `missing` created, `extra` removed).
    Raises `WriteRefused` (nothing touched) when a file a person edited, or one the generator
    does not own, would be overwritten or removed and `force` is not given; re-raises any
    failure after restoring `out` as it was.
    """
    unsafe = sorted(path for path in files if not _safe(path))
    if unsafe:
        raise ValueError(f"generated paths must be relative and inside the output directory: {unsafe}")
    shown = Path(out)
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise WriteRefused(f"{shown} exists and is not a directory")
    existing, owned = _existing(out), _owned(out)
    problems = _conflicts(files, out, shown, existing, owned, force)
    if problems:
        raise WriteRefused(
            "refusing to overwrite:\n  "
            + "\n  ".join(problems)
            + "\nmove your changes into the app (or move the files away), or pass --force to overwrite them"
        )
    drift = _compare(files, out, existing, owned, diff=False)
    if drift.clean:
        return drift
    writes = {path: _encoded(files[path]) for path in [*drift.changed, *drift.missing]}
    with _SignalGuard() as guard:
        _Transaction(out, guard).run(writes, drift.extra)
    return drift


def _conflicts(
    files: dict[str, str | bytes], out: Path, shown: Path, existing: dict[str, Path], owned: dict[str, str], force: bool
) -> list[str]:
    problems = []
    for path in sorted((set(files) | set(owned)) - {MANIFEST}):
        target = out / path
        if target.is_dir() and not target.is_symlink() and path in files:
            problems.append(f"{shown / path}: a directory is in the way of a generated file")
            continue
        if force or path not in existing:
            continue
        current = existing[path].read_bytes()
        if path in files and current == _encoded(files[path]):
            continue  # already what the generator writes
        if path in owned:
            if hashlib.sha256(current).hexdigest() != owned[path]:
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


class _Transaction:
    """Stage, commit with a journal, roll back on any failure, clean up."""

    def __init__(self, out: Path, guard: _SignalGuard):
        self.out = out
        self.guard = guard
        self.journal: list[tuple[str, str]] = []  # (action, path relative to out, or "" for out)
        self.created_parents: list[Path] = []
        self.tmp: Path | None = None
        self.modes: dict[str, int] = {}

    def run(self, writes: dict[str, bytes], removals: list[str]) -> None:
        try:
            self._make_parents()
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}{TEMP_MARK}", dir=self.out.parent))
            self._stage(writes)
            try:
                self._commit(writes, removals)
                self.guard.check()
            except BaseException:
                self._rollback()
                raise
        except BaseException:
            for parent in reversed(self.created_parents):
                _quietly(os.rmdir, parent)
            raise
        finally:
            if self.tmp is not None and self.tmp.exists():
                shutil.rmtree(self.tmp, ignore_errors=True)

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
        assert self.tmp is not None
        for path, data in sorted(writes.items()):
            self.guard.check()
            target = self.tmp / "new" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)

    def _commit(self, writes: dict[str, bytes], removals: list[str]) -> None:
        if not self.out.exists():
            os.mkdir(self.out)
            self.journal.append(("mkdir", ""))
        for path in sorted(removals):
            self._move_aside(path)
        for path in sorted(removals):
            self._prune_empty_parents(path)
        for path in sorted(writes):
            target = self.out / path
            self._make_dirs(PurePosixPath(path).parent)
            if target.exists() or target.is_symlink():
                self._move_aside(path)
            os.replace(self.tmp / "new" / path, target)
            self.journal.append(("placed", path))

    def _move_aside(self, path: str) -> None:
        aside = self.tmp / "old" / path
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.out / path, aside)
        self.journal.append(("moved", path))

    def _make_dirs(self, relative: PurePosixPath) -> None:
        current = PurePosixPath()
        for part in relative.parts:
            current = current / part
            directory = self.out / current
            if not directory.is_dir():
                os.mkdir(directory)
                self.journal.append(("mkdir", current.as_posix()))

    def _prune_empty_parents(self, path: str) -> None:
        """Remove the directories that removing `path` emptied (caches such as __pycache__ aside)."""
        for parent in PurePosixPath(path).parents:
            if parent == PurePosixPath("."):
                break
            directory = self.out / parent
            try:
                entries = os.listdir(directory)
            except OSError:
                break
            if not set(entries) <= _IGNORED_PARTS:
                break  # a person's files (or generated ones) remain: keep it and its parents
            for cache in sorted(entries):
                self._move_aside(f"{parent.as_posix()}/{cache}")
            mode = directory.stat().st_mode & 0o7777
            os.rmdir(directory)
            self.modes[parent.as_posix()] = mode
            self.journal.append(("rmdir", parent.as_posix()))

    def _rollback(self) -> None:
        failures = []
        for action, path in reversed(self.journal):
            target = self.out / path if path else self.out
            try:
                if action == "placed":
                    os.unlink(target)
                elif action == "moved":
                    os.replace(self.tmp / "old" / path, target)
                elif action == "mkdir":
                    os.rmdir(target)
                elif action == "rmdir":
                    os.mkdir(target)
                    os.chmod(target, self.modes[path])
            except OSError as exc:
                failures.append(f"{action} {path}: {exc}")
        self.journal.clear()
        if failures:
            kept, self.tmp = self.tmp, None  # keep the previous files for the person to restore
            raise RollbackFailed(
                errno.EIO,
                f"could not restore {self.out} completely ({'; '.join(failures)}); "
                f"the previous versions of its files are in {kept / 'old'}",
            )


def _quietly(function, *args) -> None:
    try:
        function(*args)
    except OSError:
        pass
