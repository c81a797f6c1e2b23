"""The raw inputs a generation read, so that a warm `--check` recognises an up-to-date project without parsing.

While the app is read and validated, every input file the generator looks at is noted here:

- every file read through `inputs.read_file` (the app, the local modules it copies, model files),
  by the sha256 of the bytes read;
- every path probed to decide what the app's imports are (`helpers.py`, `helpers/__init__.py`
  beside the app), by its state now: missing, a directory, or a file and its sha256;
- the file list of each local package copied (`rglob`), so a file added to it counts.

The cache entry this machine writes (cache.py, outside the repository) records those states by
absolute path and a hash, `sources_sha256`, over them and everything else the output depends on
that is cheap to read again: the options, the generator's version and code, the templates, the
version pins found beside the app (`pins.find_pins`) and where the app's project root is. It also
records the warnings the run printed, so an up-to-date check prints them again. On the next run
`up_to_date` recomputes all of that and compares. Nothing here is ever read from the repository:
the manifest records none of it.

This module imports nothing heavy: an up-to-date `--check` imports neither libcst nor jinja2
nor black.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from . import __version__
from .states import file_state, tree_state

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


def sources_key(states: dict[str, str], setting: dict[str, object], app_dir: Path) -> str:
    """The hash of everything the output is made from, as raw bytes and settings."""
    from .inputs import project_root
    from .quick import code_digest
    from .pins import find_pins

    root = Path(os.path.relpath(project_root(app_dir), os.path.realpath(app_dir))).as_posix()
    payload = {
        "generator": __version__,
        "code": code_digest(),  # the generator's code and every template
        "setting": setting,
        "pins": find_pins(app_dir),
        "root": root,
        "sources": states,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


#: What `--target` names: flyte1 (flytekit 1.x, the default) or flyte2 (the `flyte` 2.x SDK).
TARGETS = ("flyte1", "flyte2")
DEFAULT_TARGET = "flyte1"


def recorded_warnings(diagnostics) -> list[dict[str, object]]:
    """The warnings of a run, as the manifest records them (without the app's path, given at each run)."""
    return [
        {
            "code": d.code,
            "line": d.position.line,
            "column": d.position.column,
            "message": d.message,
            "hint": d.hint,
            "text": d.text,
        }
        for d in diagnostics.items
        if d.severity == "warning"
    ]


def replayed_warnings(recorded: object, path: str) -> list | None:
    """The recorded warnings as diagnostics of `path`; None when the record is not one we wrote."""
    from .codes import REGISTRY  # not on quick.py's path, which replays a record's text as it was printed
    from .diagnostics import Diagnostic, Position

    if not isinstance(recorded, list):
        return None
    warnings = []
    for item in recorded:
        if not isinstance(item, dict):
            return None
        code, line, column, message, hint, text = (
            item.get(k) for k in ("code", "line", "column", "message", "hint", "text")
        )
        if not (isinstance(line, int) and isinstance(column, int) and isinstance(message, str)):
            return None
        if code not in REGISTRY or REGISTRY[code].severity != "warning":
            return None
        if not isinstance(hint, str) or not (text is None or isinstance(text, str)):
            return None
        warnings.append(Diagnostic("warning", path, Position(line, column), message, hint, text, code))
    return warnings


def up_to_date(entry: dict, setting: dict[str, object], app_dir: Path) -> bool:
    """Whether a cache entry's inputs still hold: the same states of the same paths, the same settings."""
    recorded, key = entry["sources"], entry["sources_sha256"]
    if any(state == UNSTABLE for state in recorded.values()):
        return False
    states = current_states(recorded)
    return states == recorded and sources_key(states, setting, app_dir) == key
