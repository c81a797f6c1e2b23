"""Drift: how OUT differs from the generated project (changed, missing and extra files), with unified diffs.

`compare` reads the output directory and reports, in memory, which generated files changed, are
missing, or are extra (generated earlier, per the manifest, and no longer generated), which Python
modules the generator does not write sit in OUT, and which killed runs left directories beside it.
It writes nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from .. import quick
from ..diagnostics import visible
from .manifest import digest, encoded, owned_files, safe_path
from .tree import LinkRefused, Output, WriteRefused, link_message

leftover_runs = quick.leftover_runs


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


@dataclass
class Scan:
    """What is at the paths the generator writes or owns: contents of regular files, and problems."""

    existing: dict[str, bytes] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # entries a generated file cannot replace
    others: set[str] = field(default_factory=set)  # FIFOs, sockets, devices: never read


def scan_paths(files: dict[str, str | bytes], owned: dict[str, str], output: Output) -> Scan:
    scan = Scan()
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
    with Output(out) as output:
        scan = scan_paths(files, owned_files(output), output)
        if scan.links:
            raise LinkRefused(link_message(list(dict.fromkeys(scan.links))))
        drift = drift_of(files, scan, owned_files(output), diff)
        drift.unowned = [path for path in modules_not_ours(output, files) if path not in drift.extra]
    drift.leftovers = leftover_runs(out)
    return drift


def unchanged(out: Path, hashes: dict[str, str]) -> bool:
    """Whether every file of `hashes` is a regular file in `out` (reached without links) with that sha256."""
    try:
        with Output(out) as output:
            if output.tree is None:
                return False
            for path, sha in hashes.items():
                if not safe_path(path) or digest(output.tree.read(path)) != sha:
                    return False
    except (OSError, WriteRefused):
        return False
    return True


def foreign_modules(out: Path, owned) -> list[str]:
    """The Python modules below `out` that are not in `owned` (paths relative to `out`; quick.py)."""
    try:
        with Output(out) as output:
            return modules_not_ours(output, owned)
    except (OSError, WriteRefused):
        return ["."]  # cannot be listed: never taken for clean


def modules_not_ours(output: Output, owned) -> list[str]:
    return [] if output.fd is None else quick.foreign_modules(output.fd, owned)


def drift_of(files: dict[str, str | bytes], scan: Scan, owned: dict[str, str], diff: bool) -> Drift:
    drift = Drift()
    existing = scan.existing
    for path, content in sorted(files.items()):
        new = encoded(content)
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
