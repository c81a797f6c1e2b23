"""A hash of everything the generated project is made from, to skip rendering when nothing changed.

The hash covers what the generator took from the app (the typed spec, without source positions,
which move when a comment is added but change no generated file), the options, the generator's
version and the templates. `unionml generate --check` on an up-to-date project compares it with
the one recorded in the manifest and the files on disk with their recorded hashes, and so never
imports black or jinja2 nor renders anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from . import __version__
from .diagnostics import Position
from .sources import templates_digest
from .write import MANIFEST, read_manifest, unchanged

#: Bump when what the manifest records changes (not only the generated files), so that a project
#: generated before is rendered again rather than recognised as up to date: 2 = warnings carry codes.
MANIFEST_FORMAT = 2


def fingerprint(app: Any, settings: dict[str, Any]) -> str:
    payload = {
        "generator": __version__,
        "manifest": MANIFEST_FORMAT,
        "templates": _templates_digest(_target(settings)),
        "settings": settings,
        "app": _canonical(app),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def up_to_date(out: Path, key: str) -> bool:
    """Whether `out` was generated from the same inputs and no generated file changed since."""
    manifest = read_manifest(out)
    if not manifest or manifest.get("input_sha256") != key:
        return False
    return outputs_unchanged(out, manifest)


def outputs_unchanged(out: Path, manifest: dict) -> bool:
    """Whether every file the manifest records is in `out` with its recorded hash."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        return False
    if MANIFEST in files or not all(isinstance(path, str) and isinstance(sha, str) for path, sha in files.items()):
        return False
    return unchanged(out, files)  # regular files only, reached without following a link


def _canonical(value: Any) -> Any:
    if isinstance(value, Position):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            f.name: _canonical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.metadata.get("fingerprint", True)
        }
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, dict):
        return [[_canonical(k), _canonical(v)] for k, v in value.items()]  # order matters to the output
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(json.dumps(_canonical(v), sort_keys=True) for v in value)
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, (dt.timedelta, dt.datetime, dt.date)):
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return [type(value).__name__, value]
    return repr(value)


def _templates_digest(target: str) -> str:
    return templates_digest(target)


def _target(settings: dict[str, Any]) -> str:
    options = settings.get("options")
    target = options.get("target") if isinstance(options, dict) else None
    return target if isinstance(target, str) else "flyte1"
