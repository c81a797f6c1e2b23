"""The manifest: its name, what it records, a safe read of it, and the files it says the generator owns.

`MANIFEST` (`.unionml-codegen.json` at the top of OUT) records the files the generator wrote and
their sha256, plus the provenance `generate.render_app` gives it (the app's path relative to the
output directory, the options, the generator's version and a hash of the generated files) and the
project's schedules (render/record.py). It is read only as a regular file of bounded size reached
without links, and never taken as evidence: what it lists is compared with what the generator
computes now.

Its shape is declared once, in `manifest.schema.json` beside this module (a JSON Schema, published in
docs/workflow.md). The writer checks what it writes against it (`with_manifest`), and every reader gets
a manifest only through `read_manifest`/`manifest_in`, which return None for one that does not match:
keys a reader looks at always have the declared types. Keys the schema does not name are kept at the top
level (a manifest of an older generator), never inside a section. `shape_problems` checks the subset of
JSON Schema the file uses, with the standard library only: an up-to-date `--check` reads manifests, and
stays free of heavy imports (tests/output/test_manifest_schema.py checks it agrees with the `jsonschema` library).
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from .. import quick
from ..diagnostics import GeneratedCodeError
from .tree import Output, WriteRefused

MANIFEST = quick.MANIFEST
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def encoded(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def digest(content: str | bytes) -> str:
    return hashlib.sha256(encoded(content)).hexdigest()


def with_manifest(files: dict[str, str | bytes], provenance: dict[str, object]) -> dict[str, str | bytes]:
    """The project's files plus the manifest that names them, with their hashes."""
    manifest = {**provenance, "files": {path: digest(content) for path, content in sorted(files.items())}}
    problems = shape_problems(manifest)
    if problems:
        raise GeneratedCodeError(f"the manifest does not have the declared shape: {'; '.join(problems[:3])}")
    return {**files, MANIFEST: json.dumps(manifest, indent=2, sort_keys=True) + "\n"}


def read_manifest(out: Path) -> dict | None:
    """The manifest in `out`, or None when there is none, it is not a regular file (a link
    included) of at most `MAX_MANIFEST_BYTES`, or not a JSON object of the declared shape."""
    try:
        with Output(out) as output:
            return manifest_in(output)
    except (OSError, WriteRefused):
        return None


def manifest_in(output: Output) -> dict | None:
    """The manifest of an opened OUT, or None (no OUT, no manifest, not a bounded regular file, not of the
    declared shape)."""
    if output.tree is None:
        return None
    try:
        manifest = json.loads(output.tree.read(MANIFEST, MAX_MANIFEST_BYTES).decode("utf-8"))
    except (OSError, ValueError, WriteRefused):
        return None
    return manifest if not shape_problems(manifest) else None


def owned_files(output: Output) -> dict[str, str]:
    """The files the previous run wrote, by path, with their hashes (only safe relative paths)."""
    files = (manifest_in(output) or {}).get("files")
    if not isinstance(files, dict):
        return {}
    return {
        path: sha
        for path, sha in files.items()
        if isinstance(path, str) and isinstance(sha, str) and safe_path(path) and path != MANIFEST
    }


def safe_path(path: str) -> bool:
    pure = PurePosixPath(path)
    return (
        bool(path)
        and not pure.is_absolute()
        and ".." not in pure.parts
        and "\\" not in path
        and path.isprintable()  # no NUL, newline or other control character
        and pure.as_posix() == path
    )


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The manifest's declared shape (manifest.schema.json)."""
    return json.loads((Path(__file__).parent / "manifest.schema.json").read_text(encoding="utf-8"))


def shape_problems(value: object) -> list[str]:
    """Where `value` does not match the manifest's schema (empty: it does)."""
    problems: list[str] = []
    _check(value, schema(), "manifest", problems)
    return problems


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _check(value: object, node: dict[str, Any], where: str, problems: list[str]) -> None:
    """The keywords manifest.schema.json uses: $ref (local), type, enum, const, oneOf, properties, required,
    additionalProperties, items, minLength, pattern, minimum. An unknown keyword is a bug in the schema."""
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        node = {**schema()["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    unknown = set(node) - _KEYWORDS
    if unknown:
        raise GeneratedCodeError(f"manifest.schema.json uses keywords the reader does not check: {sorted(unknown)}")
    types = node.get("type")
    if types is not None and not any(_TYPES[t](value) for t in ([types] if isinstance(types, str) else types)):
        problems.append(f"{where}: not of type {types}")
        return
    if "enum" in node and value not in node["enum"]:
        problems.append(f"{where}: not one of {node['enum']}")
    if "const" in node and value != node["const"]:
        problems.append(f"{where}: not {node['const']!r}")
    if "oneOf" in node:
        matches = [not _problems_of(value, option, where) for option in node["oneOf"]]
        if matches.count(True) != 1:
            problems.append(f"{where}: matches {matches.count(True)} of its {len(matches)} shapes, not one")
    if isinstance(value, str):
        if len(value) < node.get("minLength", 0):
            problems.append(f"{where}: shorter than {node['minLength']}")
        if "pattern" in node and not re.search(node["pattern"], value):
            problems.append(f"{where}: does not match {node['pattern']}")
    if isinstance(value, int) and not isinstance(value, bool) and value < node.get("minimum", value):
        problems.append(f"{where}: less than {node['minimum']}")
    if isinstance(value, dict):
        properties = node.get("properties", {})
        problems += [f"{where}: no {key!r}" for key in node.get("required", ()) if key not in value]
        extra = node.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                _check(item, properties[key], f"{where}.{key}", problems)
            elif extra is False:
                problems.append(f"{where}: unknown key {key!r}")
            elif isinstance(extra, dict):
                _check(item, extra, f"{where}[{key!r}]", problems)
    if isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            _check(item, node["items"], f"{where}[{index}]", problems)


def _problems_of(value: object, node: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    _check(value, node, where, problems)
    return problems


_KEYWORDS = frozenset(
    {"$schema", "$id", "$defs", "$ref", "title", "description", "type", "enum", "const", "oneOf", "properties",
     "required", "additionalProperties", "items", "minLength", "pattern", "minimum"}
)  # fmt: skip
