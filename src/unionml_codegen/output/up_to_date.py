"""Whether this machine's cache entry still vouches for OUT, checked without parsing the app.

While the app is read and validated, input_files.py notes every input the generator looks at
(files read, paths probed, file lists of copied packages). The cache entry this machine writes
(cache.py, outside the repository) records those states by absolute path and a hash,
`sources_sha256`, over them and everything else the output depends on that is cheap to read
again: the options, the generator's version and code, the templates, the version pins found
beside the app (`requirements.find_pins`) and where the app's project root is. It also records
the warnings the run printed, so an up-to-date check prints them again. On the next run
`up_to_date` recomputes all of that and compares. Nothing here is ever read from the
repository: the manifest records none of it.

This module imports nothing heavy: an up-to-date `--check` imports neither libcst nor jinja2
nor black.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .. import __version__
from ..codes import REGISTRY
from ..diagnostics import Diagnostic, Position
from ..input_files import UNSTABLE, AppPaths, current_states
from ..quick import code_digest
from ..requirements import find_pins


def sources_key(states: dict[str, str], setting: dict[str, object], app_dir: Path, root: Path) -> str:
    """The hash of everything the output is made from, as raw bytes and settings (`root`: the app's project)."""
    payload = {
        "generator": __version__,
        "code": code_digest(),  # the generator's code and every template
        "setting": setting,
        "pins": find_pins(app_dir),
        "root": Path(os.path.relpath(root, os.path.realpath(app_dir))).as_posix(),
        "sources": states,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


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


def up_to_date(entry: dict, setting: dict[str, object], paths: AppPaths) -> bool:
    """Whether a cache entry's inputs still hold: the same states of the same paths, the same settings, and
    the app's project root as it is now."""
    recorded, key = entry["sources"], entry["sources_sha256"]
    if any(state == UNSTABLE for state in recorded.values()):
        return False
    states = current_states(recorded)
    return states == recorded and sources_key(states, setting, paths.directory, paths.root) == key
