"""Put a rendered project on disk safely, or compare it with what is there.

The whole project is written to a temporary directory beside the output directory and
swapped into place only when complete, so a failure at any point leaves the output
directory as it was. A manifest (`MANIFEST`) records the files the generator owns and their
hashes: a generated file a person has edited, or a file the generator does not own in the
way, stops the run unless `force` is given. Files a person added next to the generated ones
are kept.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".unionml-codegen.json"
_IGNORED_PARTS = {"__pycache__", ".pytest_cache"}


class WriteRefused(Exception):
    """The output directory holds work the generator must not overwrite."""


@dataclass
class Drift:
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


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def with_manifest(files: dict[str, str], provenance: dict[str, object]) -> dict[str, str]:
    """The project's files plus the manifest that names them, with their hashes."""
    manifest = {**provenance, "files": {path: digest(text) for path, text in sorted(files.items())}}
    return {**files, MANIFEST: json.dumps(manifest, indent=2, sort_keys=True) + "\n"}


def _existing(out: Path) -> dict[str, Path]:
    if not out.is_dir():
        return {}
    found = {}
    for path in out.rglob("*"):
        relative = path.relative_to(out)
        if path.is_file() and not (set(relative.parts) & _IGNORED_PARTS):
            found[relative.as_posix()] = path
    return found


def _owned(out: Path) -> dict[str, str]:
    try:
        manifest = json.loads((out / MANIFEST).read_text())
        return dict(manifest.get("files", {}))
    except (OSError, ValueError, AttributeError):
        return {}


def compare(files: dict[str, str], out: Path, diff: bool = False) -> Drift:
    drift = Drift()
    existing = _existing(out)
    owned = _owned(out)
    for path, text in files.items():
        if path not in existing:
            drift.missing.append(path)
            if diff:
                drift.diffs.append(_diff("", text, path))
            continue
        current = existing[path].read_text(errors="replace")
        if current != text:
            drift.changed.append(path)
            if diff:
                drift.diffs.append(_diff(current, text, path))
    for path in sorted(set(owned) - set(files)):
        if path in existing:
            drift.extra.append(path)
            if diff:
                drift.diffs.append(_diff(existing[path].read_text(errors="replace"), "", path))
    return drift


def _diff(old: str, new: str, path: str) -> str:
    return "".join(
        difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}")
    )


def write(files: dict[str, str], out: Path, force: bool = False) -> None:
    """Replace `out` with `files` in one step, keeping files a person added."""
    out = out.resolve()
    existing = _existing(out)
    owned = _owned(out)
    problems = []
    for path, location in sorted(existing.items()):
        if path in owned:
            if digest(location.read_text(errors="replace")) != owned[path] and not force:
                problems.append(f"{out / path}: generated earlier and edited since")
        elif path in files and path != MANIFEST and not force:
            if location.read_text(errors="replace") != files[path]:
                problems.append(f"{out / path}: not written by the generator")
    if problems:
        raise WriteRefused(
            "refusing to overwrite:\n  " + "\n  ".join(problems) + "\nmove the changes into the app, or pass --force"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        staging.chmod(_directory_mode())
        for path, location in existing.items():
            if path not in owned and path not in files:
                target = staging / path  # a person's own file: keep it
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(location, target)
        for path, text in files.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _directory_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    backup.rmdir()
    os.rename(out, backup)
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(backup, out)
        raise
    shutil.rmtree(backup, ignore_errors=True)
