"""What this machine's generator rendered, kept outside the repository: the only fast path.

A pull request controls every file in the repository, the generated project and its manifest
included, so no file there may say "this project is up to date". The generator itself records,
in the user's cache directory (like black's), what it rendered:

- an entry per (app, output directory, options): the state of every input the render read (the
  app, the local modules it copied, model files, the paths it probed; `input_files.py`), a hash of
  those states with everything else the output depends on (the options, the version pins, the
  generator's own code and templates), the sha256 of every file it rendered, the manifest
  included, and the warnings it printed;
- a record per write in progress (`runs/`), so that a run killed while writing is undone only
  when this machine started it (recover.py).

A hit means: the inputs are the ones this machine rendered from, byte for byte, and every
generated file on disk equals what it rendered. Anything else renders and compares. An entry that
cannot be read, is not valid JSON, names another key, or sits in a directory another user could
write, is a miss. Entries are written to a temporary file and renamed, so concurrent runs never
see half an entry; the oldest are pruned beyond `MAX_ENTRIES`.

Where: `--cache-dir`, else `$UNIONML_CODEGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/unionml-codegen`,
else `~/.cache/unionml-codegen`. `--no-cache` (or `UNIONML_CODEGEN_NO_CACHE=1`) neither reads nor
writes entries. A cache directory inside the app's project is never used: the pull request could
have committed it.

This module imports nothing heavy: a warm `--check` imports neither libcst nor jinja2 nor black.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..quick import cache_directory, prune, read_record, write_record
from ..states import inside_any, protected_roots

ENV_DIR = "UNIONML_CODEGEN_CACHE_DIR"
ENV_OFF = "UNIONML_CODEGEN_NO_CACHE"
FORMAT = 1  # bump when an entry's shape changes: older entries are then misses
MAX_ENTRIES = 512
MAX_ENTRY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Cache:
    """The cache directory, and whether entries are used (`enabled`); run records are kept either way."""

    directory: Path
    enabled: bool = True

    @property
    def entries(self) -> Path:
        return self.directory / "entries"

    @property
    def runs(self) -> Path:
        return self.directory / "runs"


def default_directory() -> Path:
    return Path(cache_directory())


def configured(directory: str | os.PathLike | None = None, *, disabled: bool = False) -> Cache:
    """The cache the options and environment name."""
    off = disabled or os.environ.get(ENV_OFF, "") not in ("", "0")
    return Cache(Path(os.path.abspath(directory if directory is not None else default_directory())), not off)


def usable_for(cache: Cache | None, *places: Path) -> Cache | None:
    """`cache`, unless it lies inside the project or the checkout of one of `places` (the app's directory, the
    output directory, the working directory), where a pull request could have committed it: then no cache at
    all, not even run records."""
    if cache is None or inside_any(cache.directory, protected_roots(*places)):
        return None
    return cache


def entry_key(app: Path, out: Path, setting: dict[str, object]) -> str:
    """Which entry describes this app, output directory and options."""
    payload = {
        "format": FORMAT,
        "app": os.path.realpath(app),
        "out": os.path.realpath(out),
        "setting": setting,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load(cache: Cache, key: str) -> dict | None:
    """The entry stored under `key`, or None (a miss) for anything but a well-formed entry of that key."""
    if not cache.enabled:
        return None
    path = cache.entries / f"{key}.json"
    entry = read_record(path, MAX_ENTRY_BYTES)
    if not _well_formed(entry) or entry["key"] != key:
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return entry


def _well_formed(entry: object) -> bool:
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        return False
    files, states = entry.get("files"), entry.get("sources")
    return (
        isinstance(entry.get("key"), str)
        and isinstance(entry.get("sources_sha256"), str)
        and isinstance(entry.get("warnings"), list)
        and isinstance(files, dict)
        and bool(files)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
        and isinstance(states, dict)
        and all(isinstance(k, str) and os.path.isabs(k) and isinstance(v, str) for k, v in states.items())
    )


def store(cache: Cache, key: str, entry: dict) -> None:
    """Write an entry atomically; a cache that cannot be written is skipped."""
    if cache.enabled and write_record(cache.entries / f"{key}.json", {**entry, "format": FORMAT, "key": key}):
        prune(cache.entries, MAX_ENTRIES)


# What this machine last wrote into each output directory: the files a later write may remove


def _written_record(cache: Cache, out: Path) -> Path:
    return cache.directory / "outputs" / (hashlib.sha256(os.fsencode(os.path.realpath(out))).hexdigest() + ".json")


def note_written(cache: Cache | None, out: Path, files: dict[str, str]) -> None:
    """Record the files (path -> sha256) that OUT holds as this machine's generator wrote or found them."""
    if cache is not None:
        write_record(_written_record(cache, out), {"out": os.path.realpath(out), "files": files})


def last_written(cache: Cache | None, out: Path) -> dict[str, str]:
    """The files this machine last recorded for OUT (empty when it never did)."""
    record = read_record(_written_record(cache, out), MAX_ENTRY_BYTES) if cache is not None else None
    files = record.get("files") if isinstance(record, dict) and record.get("out") == os.path.realpath(out) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


# Records of the writes in progress (transaction.py and recover.py)


def _run_record(cache: Cache, tmp: Path) -> Path:
    name = hashlib.sha256(os.fsencode(os.path.realpath(tmp))).hexdigest()[:40]
    return cache.runs / f"{name}.json"


def note_run(cache: Cache | None, tmp: Path, token: str) -> bool:
    """Record that this machine is writing through the temporary directory `tmp`."""
    return cache is not None and write_record(_run_record(cache, tmp), {"tmp": os.path.realpath(tmp), "token": token})


def run_token(cache: Cache | None, tmp: Path) -> str | None:
    """The token this machine recorded for a write through `tmp`, or None: not ours to undo."""
    record = read_record(_run_record(cache, tmp), 4096) if cache is not None else None
    if not isinstance(record, dict) or record.get("tmp") != os.path.realpath(tmp):
        return None
    token = record.get("token")
    return token if isinstance(token, str) and token else None


def forget_run(cache: Cache | None, tmp: Path) -> None:
    if cache is None:
        return
    try:
        os.unlink(_run_record(cache, tmp))
    except OSError:
        pass
