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
   directory, and the staged files are renamed into place, the manifest last. Every step is
   journaled; any failure (an `OSError` such as a full disk, an exception, Ctrl-C or SIGTERM)
   rolls the journal back, so the output directory is left byte-identical to what it was.
4. Clean up: the temporary directory is removed, on success and on failure.

SIGINT and SIGTERM are deferred while `write` runs (in the main thread): they are noticed
between files, roll back what was done, and are delivered again once everything is cleaned up.
Files a person added next to the generated ones are never moved or copied.

Symbolic links: nothing below the output directory is ever read, written, moved or removed
through a link. Every path below OUT is reached one directory at a time from a descriptor of
OUT (`openat` with `O_NOFOLLOW`, `renameat`, `unlinkat`), so a link on the way, whether it was
there before the run or planted while it runs, stops the run with `LinkRefused` (and, during
the commit, a rollback) instead of being followed. Only regular files are read. OUT itself,
when it is a link to a directory, is resolved once, at the start (`resolve_output`); a link to
nothing is refused.

The manifest (`MANIFEST`) records the files the generator owns and their sha256, plus the
provenance `generate.render_app` gives it (the app's path relative to the output directory,
the options, the generator's version and a hash of the generated files).
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import hashlib
import json
import os
import shutil
import signal
import stat
import tempfile
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import codes
from . import quick
from .diagnostics import visible
from .cache import Cache, forget_run, note_run, run_token

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

MANIFEST = quick.MANIFEST
_IGNORED_PARTS = set(quick.SKIPPED_DIRS)
TEMP_MARK = quick.TEMP_MARK  # prefix (after ".OUT") of the temporary directory beside OUT
MAX_MANIFEST_BYTES = 16 * 1024 * 1024

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC  # a FIFO opens without waiting


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


class RollbackFailed(OSError):
    """A failed write could not be undone completely; the previous files are kept aside."""


@dataclass
class Drift:
    """How the output directory differs from the generated project (paths relative to it)."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)  # Python modules in OUT the generator does not write
    leftovers: list[str] = field(default_factory=list)  # temporary directories of a write beside OUT

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.unowned or self.leftovers)

    def summary(self) -> str:
        lines = [f"changed: {visible(p)}" for p in self.changed]
        lines += [f"missing: {visible(p)}" for p in self.missing]
        lines += [f"extra:   {visible(p)}" for p in self.extra]
        lines += [f"extra:   {visible(p)} ({quick.why_foreign(p)})" for p in self.unowned]
        lines += [f"interrupted: ../{visible(name)} (a write that did not finish, or a directory committed to look "
                  "like one)" for name in self.leftovers]  # fmt: skip
        return "\n".join(lines)


def _encoded(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def digest(content: str | bytes) -> str:
    return hashlib.sha256(_encoded(content)).hexdigest()


def with_manifest(files: dict[str, str | bytes], provenance: dict[str, object]) -> dict[str, str | bytes]:
    """The project's files plus the manifest that names them, with their hashes."""
    manifest = {**provenance, "files": {path: digest(content) for path, content in sorted(files.items())}}
    return {**files, MANIFEST: json.dumps(manifest, indent=2, sort_keys=True) + "\n"}


# The output directory, reached without following links


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


class _Tree:
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
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if made is None:
                        raise
                    made(done.as_posix())
                    os.mkdir(part, dir_fd=fd)
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError:
                    if _kind(fd, part) == "link":
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
                kind = _kind(fd, part)
                if kind != "dir" or index == len(parts) - 1:
                    return kind, done.as_posix()
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
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
                fd = os.open(path.name, _READ_FLAGS, dir_fd=parent)
            except OSError:
                if _kind(parent, path.name) == "link":
                    raise self.link(relative) from None
                raise
        finally:
            os.close(parent)
        return _read_open(fd, limit, relative)

    def link(self, relative: str) -> LinkRefused:
        return LinkRefused(_link_message([f"{self.shown / relative}: a symbolic link"]))


def _kind(dir_fd: int, name: str) -> str:
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"


def _read_open(fd: int, limit: int | None, shown: str) -> bytes:
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


def _link_message(problems: list[str]) -> str:
    return (
        "refusing to go through a symbolic link in the output directory:\n  "
        + "\n  ".join(problems)
        + "\nthe generator never reads, writes or removes anything through a link below the output directory; "
        "replace the link with a real directory (or file), or choose another output directory"
    )


class _Output:
    """The output directory, opened once (None inside when it does not exist yet)."""

    def __init__(self, out: Path):
        self.shown = Path(out)
        self.real = resolve_output(out)
        try:
            self.fd: int | None = os.open(self.real, _DIR_FLAGS)
        except FileNotFoundError:
            self.fd = None
        except OSError as exc:
            raise WriteRefused(
                codes.OUTPUT_NOT_A_DIRECTORY, f"{self.shown}: cannot open it as a directory ({exc.strerror or exc})"
            ) from None
        self.tree = _Tree(self.fd, self.shown) if self.fd is not None else None

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def manifest(self) -> dict | None:
        if self.tree is None:
            return None
        try:
            manifest = json.loads(self.tree.read(MANIFEST, MAX_MANIFEST_BYTES).decode("utf-8"))
        except (OSError, ValueError, WriteRefused):
            return None
        return manifest if isinstance(manifest, dict) else None

    def owned(self) -> dict[str, str]:
        """The files the previous run wrote, by path, with their hashes (only safe relative paths)."""
        files = (self.manifest() or {}).get("files")
        if not isinstance(files, dict):
            return {}
        return {
            path: sha
            for path, sha in files.items()
            if isinstance(path, str) and isinstance(sha, str) and _safe(path) and path != MANIFEST
        }


def read_manifest(out: Path) -> dict | None:
    """The manifest in `out`, or None when there is none, it is not a regular file (a link
    included) of at most `MAX_MANIFEST_BYTES`, or not a JSON object."""
    try:
        with _Output(out) as output:
            return output.manifest()
    except (OSError, WriteRefused):
        return None


def unchanged(out: Path, hashes: dict[str, str]) -> bool:
    """Whether every file of `hashes` is a regular file in `out` (reached without links) with that sha256."""
    try:
        with _Output(out) as output:
            if output.tree is None:
                return False
            for path, sha in hashes.items():
                if not _safe(path) or digest(output.tree.read(path)) != sha:
                    return False
    except (OSError, WriteRefused):
        return False
    return True


def _safe(path: str) -> bool:
    pure = PurePosixPath(path)
    return (
        bool(path)
        and not pure.is_absolute()
        and ".." not in pure.parts
        and "\\" not in path
        and path.isprintable()  # no NUL, newline or other control character
        and pure.as_posix() == path
    )


@dataclass
class _Scan:
    """What is at the paths the generator writes or owns: contents of regular files, and problems."""

    existing: dict[str, bytes] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # entries a generated file cannot replace
    others: set[str] = field(default_factory=set)  # FIFOs, sockets, devices: never read


def _scan(files: dict[str, str | bytes], owned: dict[str, str], output: _Output) -> _Scan:
    scan = _Scan()
    if output.tree is None:
        return scan
    shown = output.shown
    for path in sorted(set(files) | set(owned)):
        kind, where = output.tree.probe(path)
        if kind == "link":
            scan.links.append(f"{shown / where}: a symbolic link")
        elif kind == "missing":
            continue
        elif where != path:
            if path in files:
                scan.blocked.append(f"{shown / where}: a file is in the way of the generated directory {where}")
        elif kind == "dir":
            if path in files:
                scan.blocked.append(f"{shown / path}: a directory is in the way of a generated file")
        elif kind == "other":
            scan.others.add(path)
        else:
            scan.existing[path] = output.tree.read(path)
    return scan


def compare(files: dict[str, str | bytes], out: Path, diff: bool = False) -> Drift:
    """How `out` differs from `files`; with `diff`, unified diffs too. Reads only, writes nothing.

    Raises `LinkRefused` when a link is on the way to a generated or owned file.
    """
    with _Output(out) as output:
        scan = _scan(files, output.owned(), output)
        if scan.links:
            raise LinkRefused(_link_message(list(dict.fromkeys(scan.links))))
        drift = _compare(files, scan, output.owned(), diff)
        drift.unowned = [path for path in _foreign_modules(output, files) if path not in drift.extra]
    drift.leftovers = leftover_runs(out)
    return drift


def foreign_modules(out: Path, owned) -> list[str]:
    """The Python modules below `out` that are not in `owned` (paths relative to `out`; quick.py)."""
    try:
        with _Output(out) as output:
            return _foreign_modules(output, owned)
    except (OSError, WriteRefused):
        return ["."]  # cannot be listed: never taken for clean


def _foreign_modules(output: _Output, owned) -> list[str]:
    return [] if output.fd is None else quick.foreign_modules(output.fd, owned)


leftover_runs = quick.leftover_runs


def _compare(files: dict[str, str | bytes], scan: _Scan, owned: dict[str, str], diff: bool) -> Drift:
    drift = Drift()
    existing = scan.existing
    for path, content in sorted(files.items()):
        new = _encoded(content)
        if path not in existing and path not in scan.others:
            drift.missing.append(path)
            if diff:
                drift.diffs.append(_diff(None, content, path))
            continue
        current = existing.get(path)
        if current != new:
            drift.changed.append(path)
            if diff:
                drift.diffs.append(_diff(current, content, path))
    for path in sorted(set(owned) - set(files)):
        if path in existing or path in scan.others:
            drift.extra.append(path)
            if diff:
                drift.diffs.append(_diff(existing.get(path), None, path))
    return drift


def _diff(old: bytes | None, new: str | bytes | None, path: str) -> str:
    """A unified diff of a generated text file; never the bytes of a vendored file (`new` as bytes): a model
    or data file may be anything the app pointed at, and a CI log is public. Control characters other than
    tabs are shown escaped, so a file's text cannot write to the terminal or forge a CI annotation."""
    before = "/dev/null" if old is None else f"a/{path}"
    after = "/dev/null" if new is None else f"b/{path}"
    if isinstance(new, bytes) or (new is None and not path.endswith(_TEXT_SUFFIXES)):
        return f"Binary files {before} and {after} differ ({_sha(old)} -> {_sha(new)})\n"
    try:
        old_text = "" if old is None else old.decode("utf-8")
        new_text = "" if new is None else new
    except UnicodeDecodeError:
        return f"Binary files {before} and {after} differ ({_sha(old)} -> {_sha(new)})\n"
    lines = list(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True), before, after))
    return "".join(
        _visible(line) + "\n" if line.endswith("\n") else _visible(line) + "\n\\ No newline at end of file\n"
        for line in lines
    )


_TEXT_SUFFIXES = (".py", ".md", ".txt", ".json", "Dockerfile", ".toml", ".cfg", ".yaml", ".yml")


def _sha(content: str | bytes | None) -> str:
    return "none" if content is None else "sha256 " + digest(content)[:16]


def _visible(line: str) -> str:
    """A diff line without its end of line, control characters (tabs aside) escaped."""
    body = line[:-1] if line.endswith("\n") else line
    if body.endswith("\r"):
        body = body[:-1] + "\\r"
    return "".join(c if c == "\t" or (c.isprintable() or c == " ") else _escape(c) for c in body)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


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
    unsafe = sorted(path for path in files if not _safe(path))
    if unsafe:
        raise ValueError(f"generated paths must be relative and inside the output directory: {unsafe}")
    recover(out, runs=runs)
    with _Output(out) as output:
        owned = output.owned()
        scan = _scan(files, owned, output)
        if scan.links:
            raise LinkRefused(_link_message(list(dict.fromkeys(scan.links))))
        ours = {path: sha for path, sha in owned.items() if _ours(path, sha, scan, written or {})}
        foreign = [path for path in _foreign_modules(output, files) if path not in ours]
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
        drift = _compare(files, scan, ours, diff=False)
        if drift.clean:
            return drift
        writes = {path: _encoded(files[path]) for path in [*drift.changed, *drift.missing]}
        with _SignalGuard() as guard:
            _Transaction(output, guard, runs).run(writes, drift.extra)
    return drift


GENERATED_HEADERS = (b"# Generated by unionml-codegen ", b"<!-- Generated by unionml-codegen ")


def _ours(path: str, sha: str, scan: _Scan, written: dict[str, str]) -> bool:
    """Whether a file the manifest lists is the generator's to remove (see `write`)."""
    current = scan.existing.get(path)
    if current is None or digest(current) != sha:
        return False
    return written.get(path) == sha or current.startswith(GENERATED_HEADERS)


def _conflicts(
    files: dict[str, str | bytes], shown: Path, scan: _Scan, owned: dict[str, str], force: bool
) -> list[str]:
    problems = []
    for path in sorted((set(files) | set(owned)) - {MANIFEST}):
        if force or (path not in scan.existing and path not in scan.others):
            continue
        current = scan.existing.get(path)
        if path in files and current == _encoded(files[path]):
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


JOURNAL = "journal.jsonl"  # in the temporary directory: one JSON object per line, written before each step


class _Transaction:
    """Stage, commit with a write-ahead journal, roll back on any failure, clean up.

    The temporary directory beside OUT holds `new/` (staged files), `old/` (what was moved
    aside) and `JOURNAL`. Each commit step is appended to the journal before it is taken, and
    the directory is locked (`flock`) while this process lives, so a run killed with SIGKILL
    (no handler runs) is undone by the next `write` (`recover`), which knows the directory is
    stale because it can take the lock.
    """

    def __init__(self, output: _Output, guard: _SignalGuard, runs: Cache | None = None):
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
            self.parent_fd = os.open(self.out.parent, _DIR_FLAGS)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}{TEMP_MARK}", dir=self.out.parent))
            self.tmp_fd = os.open(self.tmp.name, _DIR_FLAGS, dir_fd=self.parent_fd)
            _lock(self.tmp_fd)  # held until this process ends, however it ends
            note_run(self.runs, self.tmp, self.token)  # outside the repository: this run is ours to undo
            self.staging = _Tree(self.tmp_fd, self.tmp)
            self.journal_fd = os.open(
                JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW | _CLOEXEC,
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
                _quietly(os.rmdir, parent)
            raise
        finally:
            for fd in (self.journal_fd, self.tmp_fd, self.parent_fd):
                if fd is not None:
                    os.close(fd)
            if self.tmp is not None and os.path.isdir(self.tmp) and not os.path.islink(self.tmp):
                shutil.rmtree(self.tmp, ignore_errors=True)
                forget_run(self.runs, self.tmp)

    @property
    def tree(self) -> _Tree:
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
                opener = _opener(parent)
                with open(target.name, "wb", opener=opener) as handle:
                    handle.write(data)
            finally:
                os.close(parent)

    def _commit(self, writes: dict[str, bytes], removals: list[str]) -> None:
        if self.output.fd is None:
            self._log({"action": "mkdir", "path": ""})
            os.mkdir(self.out.name, dir_fd=self.parent_fd)
            self.output.fd = os.open(self.out.name, _DIR_FLAGS, dir_fd=self.parent_fd)
            self.output.tree = _Tree(self.output.fd, self.output.shown)
        for path in sorted(removals):
            self._move_aside(path)
        for path in sorted(removals):
            self._prune_empty_parents(path)
        for path in _commit_order(writes):
            relative = PurePosixPath(path)
            parent = self.tree.open_dir(relative.parent, made=self._made)
            try:
                kind = _kind(parent, relative.name)
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
            if _kind(parent, relative.name) == "link":
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
        failures = _undo_all(self.journal, self.output, self.staging, self.parent_fd)
        self.journal.clear()
        if failures:
            kept, self.tmp = self.tmp, None  # keep the previous files for the person to restore
            raise RollbackFailed(
                errno.EIO,
                f"could not restore {self.out} completely ({'; '.join(failures)}); "
                f"the previous versions of its files are in {kept / 'old'}",
            )


def _undo_all(journal: list[dict], output: _Output, staging: _Tree, parent_fd: int) -> list[str]:
    """Undo the journal's steps, last first; a step that was logged but never taken is a no-op."""
    failures = []
    for entry in reversed(journal):
        try:
            _undo(entry, output, staging, parent_fd)
        except (OSError, LinkRefused) as exc:
            failures.append(f"{entry.get('action')} {entry.get('path')}: {exc}")
    return failures


def _undo(entry: dict, output: _Output, staging: _Tree, parent_fd: int) -> None:
    action, path = entry.get("action"), entry.get("path")
    if not isinstance(path, str) or (path and not _safe(path)):
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
        here = _kind(parent, relative.name)
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


def _lock(fd: int) -> bool:
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
    with _Output(out) as output:
        try:
            parent_fd = os.open(output.real.parent, _DIR_FLAGS)
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


def _recover_one(name: str, output: _Output, parent_fd: int, undo: bool, runs: Cache | None) -> bool:
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError:
        return False  # a link, a file, or gone: not ours to touch
    tmp = output.real.parent / name
    try:
        if os.fstat(fd).st_uid != os.getuid() or not _lock(fd):
            return False  # another user's, or its run is still going
        token = run_token(runs, tmp)
        staging = _Tree(fd, tmp)
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
        failures = _undo_all(journal, output, staging, parent_fd)
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


def _opener(dir_fd: int):
    """An `open` opener that creates a new file in `dir_fd`, never through a link."""

    def opener(name: str, flags: int) -> int:
        return os.open(name, flags | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC, 0o666, dir_fd=dir_fd)

    return opener


def _quietly(function, *args) -> None:
    try:
        function(*args)
    except OSError:
        pass
