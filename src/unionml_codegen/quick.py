"""The warm lane of the command line: `unionml generate ... --check` answered from this machine's cache
before the command-line library, the reader or the renderer is imported.

A pre-commit hook runs `unionml generate --check` on every commit, so on a developer's machine it should
cost about what starting Python costs. After a `--check` (or `--diff`) that came out clean, the command
line records, in the cache directory (output/cache.py; never in the repository), an *invocation record* under a
key made of the arguments, the working directory, the environment that can change what they mean, and
the generator's own code and templates. It holds:

- `probes`: the state (states.py) of every path that decided what the arguments resolve to and what the
  projects depend on beyond their recorded inputs: each `pyproject.toml` and `.git` from the working
  directory, the apps and the output directories up to the root, the version pins' files beside each
  app and above it, and the working directory's entries (where manifests are discovered);
- `targets`: for each project checked, the states of the inputs its render read, the sha256 of every
  file it rendered, the manifest included;
- `stderr`: what the clean run printed.

`answered` takes the record only when every probe and every input is unchanged, every generated file is
on disk with its bytes (read without following links), no Python module the generator does not write is
in OUT and nothing is left beside it by a write; it then prints what the clean run printed and the
command exits 0. Anything else, and any argument it does not know, goes to the full command line
(cli.py), which renders and compares. This module imports only the standard library's `os`, `sys`,
`json`, `hashlib` and `stat`.

It is one module on purpose: the warm lane imports nothing else of the package (the start-up
budget), so its record I/O, path states and code digest live here.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys

from . import __version__
from .states import file_state, inside_any, protected_roots, tree_state

FORMAT = 1
ENV = ("UNIONML_CODEGEN_CACHE_DIR", "UNIONML_CODEGEN_NO_CACHE", "XDG_CACHE_HOME", "HOME")
MANIFEST = ".unionml-codegen.json"
TEMP_MARK = ".unionml-codegen-tmp-"
MAX_RECORD_BYTES = 8 * 1024 * 1024
#: What Python imports, or runs at start-up (`.pth`), from a directory on its path.
MODULE_SUFFIXES = (".py", ".pyw", ".pyc", ".pyo", ".so", ".pyd", ".pth")
SKIPPED_DIRS = ("__pycache__", ".pytest_cache")
PROBED_NAMES = ("pyproject.toml", ".git", "requirements.txt", "requirements.in")

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC


def main() -> None:
    """The `unionml` console script (and `python -m unionml_codegen`)."""
    route = sys.modules.get(__package__ + ".route")  # a `unionml` process: the real unionml from here on (route.py)
    if route is not None:
        route.release()
    if answered(sys.argv[1:]):
        sys.exit(0)
    from .cli import main as cli

    cli(prog_name="unionml")


# Where the cache is, and the generator's own code


def cache_directory(argv: list[str] | None = None) -> str:
    """`--cache-dir` of the arguments, else `$UNIONML_CODEGEN_CACHE_DIR`, else the user's cache directory."""
    given = _option(argv or [], "--cache-dir")
    if given:
        return os.path.abspath(given)
    configured = os.environ.get("UNIONML_CODEGEN_CACHE_DIR")
    if configured:
        return os.path.abspath(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.abspath(os.path.join(base, "unionml-codegen"))


def _option(argv: list[str], name: str) -> str | None:
    for index, word in enumerate(argv):
        if word == name and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def templates_dir() -> str:
    packaged = os.path.join(_PACKAGE, "templates")
    if os.path.isdir(packaged):
        return packaged
    return os.path.join(os.path.dirname(os.path.dirname(_PACKAGE)), "templates")  # a source checkout


#: The libraries whose versions shape the output (black formats it, libcst reads the app, jinja2 lays it out,
#: cron-descriptor words the README, croniter times the previews).
RENDERING_LIBRARIES = ("black", "libcst", "jinja2", "cron_descriptor", "croniter")


def _library_states() -> list[str]:
    """Where each rendering library is installed, with its top module's size and time: an upgrade is a miss
    (without importing any of them: `find_spec` only locates)."""
    import importlib.util  # already imported by the interpreter's start-up (site)

    states = []
    for name in RENDERING_LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
            info = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            info, origin = None, None
        states.append(f"{name}:{origin}:{info.st_size}:{info.st_mtime_ns}" if info else f"{name}:missing")
    return states


def code_digest() -> str:
    """A hash of the generator's code and templates, and of where its rendering libraries are installed: any
    change to them (not only a new version number) is a miss."""
    content = hashlib.sha256(__version__.encode())
    content.update("\0".join(_library_states()).encode())
    for base, label in ((_PACKAGE, "code"), (templates_dir(), "templates")):
        paths = []
        for directory, names, files in os.walk(base):
            names[:] = [name for name in names if name != "__pycache__"]
            paths += [os.path.join(directory, name) for name in files if name.endswith((".py", ".jinja"))]
        for path in sorted(paths):
            with open(path, "rb") as handle:
                content.update(f"{label}/{os.path.relpath(path, base)}".encode() + b"\0" + handle.read())
    return content.hexdigest()


def private_dir(path: str | os.PathLike, create: bool = False) -> bool:
    """Whether `path` is a real directory of this user that nobody else can write (made so if `create`)."""
    if create:
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError:
            return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def read_record(path: str | os.PathLike, limit: int = MAX_RECORD_BYTES) -> object | None:
    """The JSON value of a record this user wrote in a private directory of the cache; None for anything else
    (missing, a link, not a regular file, another user's, larger than `limit`, not JSON): a miss."""
    if not private_dir(os.path.dirname(os.path.abspath(path))):
        return None
    try:
        fd = os.open(path, _READ_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                return None
            return json.loads(handle.read(limit + 1).decode("utf-8"))
    except (OSError, ValueError):
        return None


def write_record(path: str | os.PathLike, value: object) -> bool:
    """Write a record atomically (a temporary file beside it, renamed), its directory made private; False
    when the cache cannot be written (it is then skipped, never an error)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not private_dir(directory, create=True):
        return False
    import tempfile  # only when something is recorded, never on the warm lane's answer

    try:
        fd, temporary = tempfile.mkstemp(prefix=".record-", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(value, handle, sort_keys=True)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
    except OSError:
        return False
    return True


def prune(directory: str | os.PathLike, keep: int) -> None:
    """Keep the `keep` most recently used records of a directory of the cache."""
    try:
        entries = [entry for entry in os.scandir(directory) if entry.name.endswith(".json")]
        if len(entries) <= keep:
            return
        entries.sort(key=lambda entry: entry.stat(follow_symlinks=False).st_mtime, reverse=True)
        for old in entries[keep:]:
            os.unlink(old.path)
    except OSError:
        pass


# The output directory, reached without following links


def read_below(root_fd: int, relative: str) -> bytes | None:
    """The bytes of the regular file at `relative` below the directory `root_fd`; None for anything else
    (missing, a link anywhere on the way, not a regular file)."""
    parts = relative.split("/")
    if not relative or any(part in ("", ".", "..") for part in parts):
        return None
    fd = os.dup(root_fd)
    try:
        for part in parts[:-1]:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        handle = os.open(parts[-1], _READ_FLAGS, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    with os.fdopen(handle, "rb") as opened:
        if not stat.S_ISREG(os.fstat(opened.fileno()).st_mode):
            return None
        return opened.read()


#: Hidden entries at the top of OUT that are the generator's or harmless: every other one is reported, because
#: the image runs with OUT as its working and home directory (WORKDIR /root), where flytekit (`.flyte/`), pip
#: (`.config/pip/`), cloud SDKs (`.aws/`, `.config/gcloud/`), `.netrc` and others read their configuration.
ALLOWED_HIDDEN = (MANIFEST, ".gitignore", ".gitattributes")
#: Configuration flytekit reads from the working directory (configuration/file.py: ./flytekit.config).
CONFIG_FILES = ("flytekit.config",)


def why_foreign(path: str) -> str:
    """Why `foreign_modules` reports `path`, in words."""
    name = path.rsplit("/", 1)[-1]
    if "__pycache__" in path.split("/"):
        return "bytecode Python would run instead of the generated source"
    if name.startswith(".") or name in CONFIG_FILES:
        return "configuration the generated code reads at run time: the image's working and home directory is OUT"
    if name.endswith(MODULE_SUFFIXES):
        return "a Python module the generator does not write: it would be imported with the project"
    return "a symbolic link: the generator never vouches for what a link points to"


def foreign_modules(root_fd: int, owned) -> list[str]:
    """What is below the directory `root_fd` that the generated project would run and the generator does not
    write (paths relative to it; `why_foreign` says why): the project root and every package below it are on
    the import path of `unionml run`, `deploy`, `pyflyte register` and the image, so
    - a Python module not in `owned` (`.py`, `.pyc`, `.so`, `.pth`, ...) is imported with the generated code,
      or shadows a third-party one;
    - a symbolic link, whatever its name (a link named `sklearn` to a package), is never followed here;
    - in `__pycache__`, a hash-based `.pyc` (never written by an import: Python trusts it without comparing
      it with the source's time) or any other module; timestamp-based ones, which Python checks against the
      source it sits beside, are the caches a local run leaves and may stay;
    - at the top of OUT, a hidden entry (other than the manifest, .gitignore, .gitattributes) or
      `flytekit.config`: OUT is the image's working and home directory.
    Hidden directories below the top are skipped (never importable by name), and nothing is followed."""
    found: list[str] = []
    pending = [(os.dup(root_fd), "")]
    while pending:
        fd, relative = pending.pop()
        try:
            for entry in sorted(os.scandir(fd), key=lambda e: e.name):
                path = f"{relative}/{entry.name}" if relative else entry.name
                if path in owned or path == MANIFEST:
                    continue
                if entry.is_symlink():
                    found.append(path)
                elif not relative and (entry.name.startswith(".") or entry.name in CONFIG_FILES):
                    if entry.name not in ALLOWED_HIDDEN and entry.name != ".pytest_cache":
                        found.append(path)
                elif entry.is_dir(follow_symlinks=False):
                    if entry.name == "__pycache__":
                        found += _foreign_bytecode(fd, entry.name, path)
                    elif not entry.name.startswith(".") and entry.name not in SKIPPED_DIRS:
                        try:
                            pending.append((os.open(entry.name, _DIR_FLAGS, dir_fd=fd), path))
                        except OSError:
                            found.append(path)  # a directory that cannot be listed is never taken for clean
                elif entry.name.endswith(MODULE_SUFFIXES):
                    found.append(path)
        finally:
            os.close(fd)
    return sorted(found)


def _foreign_bytecode(parent_fd: int, name: str, relative: str) -> list[str]:
    """The entries of a `__pycache__` directory Python could run instead of the source beside it."""
    found = []
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError:
        return [relative]
    try:
        for entry in os.scandir(fd):
            path = f"{relative}/{entry.name}"
            if not entry.is_file(follow_symlinks=False) or not entry.name.endswith(".pyc"):
                found.append(path)  # a link, a directory, a .py: nothing an import writes
                continue
            try:
                handle = os.open(entry.name, _READ_FLAGS, dir_fd=fd)
                with os.fdopen(handle, "rb") as opened:
                    header = opened.read(8)
            except OSError:
                found.append(path)
                continue
            if len(header) == 8 and int.from_bytes(header[4:8], "little") != 0:
                found.append(path)  # hash-based (PEP 552); a file too short to be bytecode is never run
    finally:
        os.close(fd)
    return found


def leftover_runs(out: str | os.PathLike) -> list[str]:
    """The entries beside `out` named like the temporary directory of a write (`.OUT` + `TEMP_MARK` + ...):
    a run still writing, one that was killed, or something committed to look like one."""
    real = os.path.realpath(out)
    prefix = f".{os.path.basename(real)}{TEMP_MARK}"
    try:
        return sorted(name for name in os.listdir(os.path.dirname(real)) if name.startswith(prefix))
    except OSError:
        return []


def output_matches(out: str, files: dict[str, str]) -> bool:
    """Whether OUT holds every file of `files` with its sha256, no foreign module and no leftover write."""
    try:
        fd = os.open(os.path.realpath(out), _DIR_FLAGS)
    except OSError:
        return False
    try:
        for path, sha in files.items():
            data = read_below(fd, path)
            if data is None or hashlib.sha256(data).hexdigest() != sha:
                return False
        if foreign_modules(fd, files):
            return False
    except OSError:
        return False
    finally:
        os.close(fd)
    return not leftover_runs(out)


# The invocation record


def invocation_key(argv: list[str], cwd: str) -> str:
    payload = {
        "format": FORMAT,
        "argv": argv,
        "cwd": os.path.realpath(cwd),
        "env": {name: os.environ.get(name) for name in ENV},
        "code": code_digest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _qualifies(argv: list[str]) -> bool:
    """A `generate --check`/`--diff` whose every word this lane knows; anything else goes to cli.py."""
    if not argv or argv[0] != "generate" or not ({"--check", "--diff"} & set(argv)):
        return False
    known_flags = {"--check", "--diff"}
    with_value = {"-o", "--output", "--image", "--package", "--model", "--target", "--cache-dir"}
    words = iter(argv[1:])
    positional = 0
    for word in words:
        if word in known_flags:
            continue
        if word in with_value:
            if next(words, None) is None:
                return False
        elif word.startswith("--") and word.split("=", 1)[0] in with_value:
            continue
        elif word.startswith("-"):
            return False  # --no-cache, --force, --help, or a word to report as an error
        else:
            positional += 1
    return positional <= 1 and os.environ.get("UNIONML_CODEGEN_NO_CACHE", "") in ("", "0")


def probe_paths(cwd: str, targets: list[dict]) -> dict[str, str]:
    """The paths whose states decide what the arguments mean beyond each project's recorded inputs."""
    paths: dict[str, str] = {}
    starts = [cwd] + [os.path.dirname(t["app"]) for t in targets] + [os.path.dirname(t["out"]) for t in targets]
    for start in starts:
        directory = os.path.realpath(start)
        while True:
            for name in PROBED_NAMES:
                paths[os.path.join(directory, name)] = "file"
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
    paths[os.path.realpath(cwd)] = "listing"  # where manifests are discovered: in it, and one level down
    try:
        for entry in os.scandir(cwd):
            if entry.is_dir():
                paths[os.path.join(os.path.realpath(entry.path), MANIFEST)] = "file"
    except OSError:
        pass
    return paths


def _state(path: str, kind: str) -> str:
    if kind == "listing":
        try:
            return "listing:" + hashlib.sha256("\0".join(sorted(os.listdir(path))).encode()).hexdigest()
        except OSError:
            return "unreadable"
    return file_state(path)


def _unchanged(states: dict[str, str]) -> bool:
    for path, state in states.items():
        if state.startswith("listing:"):
            now = _state(path, "listing")
        elif state.startswith("tree:"):
            now = tree_state(path)
        else:
            now = file_state(path)
        if now != state:
            return False
    return True


def _record_path(directory: str, key: str) -> str:
    return os.path.join(directory, "invocations", key + ".json")


def answered(argv: list[str]) -> bool:
    """Print what a clean run of these arguments printed, when this machine's record still holds."""
    if not _qualifies(argv):
        return False
    cwd = os.getcwd()
    directory = cache_directory(argv)
    if inside_any(directory, protected_roots(cwd)):
        return False
    record = read_record(_record_path(directory, invocation_key(argv, cwd)))
    if not isinstance(record, dict):
        return False
    try:
        if record["format"] != FORMAT or not _unchanged(record["probes"]):
            return False
        for target in record["targets"]:
            if inside_any(directory, protected_roots(os.path.dirname(target["app"]), os.path.dirname(target["out"]))):
                return False
            if not _unchanged(target["sources"]) or not output_matches(target["out"], target["files"]):
                return False
        text = record["stderr"]
    except (KeyError, TypeError, AttributeError):
        return False
    if not isinstance(text, str):
        return False
    sys.stderr.write(text)
    sys.stderr.flush()
    return True


def remember(argv: list[str], cwd: str, targets: list[dict], stderr: str) -> None:
    """Record a clean run (cli.py calls this after every target of a --check/--diff came out clean).
    `targets`: for each, the app and OUT (absolute), its inputs' states and its files' sha256."""
    if not _qualifies(argv) or not targets:
        return
    directory = cache_directory(argv)
    places = [cwd] + [os.path.dirname(t["app"]) for t in targets] + [os.path.dirname(t["out"]) for t in targets]
    if inside_any(directory, protected_roots(*places)):
        return
    probes = {path: _state(path, kind) for path, kind in probe_paths(cwd, targets).items()}
    record = {"format": FORMAT, "probes": probes, "targets": targets, "stderr": stderr}
    if write_record(_record_path(directory, invocation_key(argv, cwd)), record):
        prune(os.path.join(directory, "invocations"), keep=256)
