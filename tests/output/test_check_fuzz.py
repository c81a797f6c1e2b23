"""Issue 18: `--check` exits 0 only when every generated file equals a fresh render (a fuzz test).

Each trial starts from an honestly generated project (digits_batch: flyte1, with a vendored model),
applies one to three random changes of the kinds a pull request can make (flip or append bytes,
delete or swap files, add a Python module or a harmless file, rewrite a file with its own bytes,
change a value anywhere in the manifest, leave a fake killed-run directory beside OUT), and then,
half of the time, forges the manifest to vouch for the result (every listed file's sha256 and the
content hash recomputed, written canonically). The oracle is computed independently of the
generator's comparison: the fresh render's files against the bytes on disk, plus any Python module
or temporary directory the render does not own. This machine's cache is warm for the honest project
throughout, so every trial also proves that the warm lane never vouches for a changed tree.

A fixed-seed sample runs in the suite; a longer run is

    UNIONML_CODEGEN_FUZZ_TRIALS=2000 UNIONML_CODEGEN_FUZZ_SEED=7 .venv/bin/python -m pytest -q tests/output/test_check_fuzz.py
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import pytest

from unionml_codegen.output.cache import Cache
from unionml_codegen.options import Options
from unionml_codegen.generate import generate, render_app

from ..helpers import EXAMPLES, read_tree

MANIFEST = ".unionml-codegen.json"
TRIALS = int(os.environ.get("UNIONML_CODEGEN_FUZZ_TRIALS", "40"))
SEED = int(os.environ.get("UNIONML_CODEGEN_FUZZ_SEED", "18"))
MODULE_SUFFIXES = (".py", ".pyw", ".pyc", ".pyo", ".so", ".pyd", ".pth")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("check-fuzz")
    pristine = base / "pristine" / "digits_batch"
    shutil.copytree(EXAMPLES / "digits_batch", pristine, ignore=shutil.ignore_patterns("flyte2", "__pycache__"))
    work = base / "work" / "digits_batch"
    cache = Cache(base / "cache")
    shutil.copytree(pristine, work)
    result = generate(work / "app.py", work / "flyte", Options(), cache=cache)  # honest; the cache is warm
    assert result.changes is not None
    pristine_tree = read_tree(work / "flyte")
    expected = {path: content.encode() if isinstance(content, str) else content
                for path, content in render_app(work / "app.py", work / "flyte", Options()).files.items()}  # fmt: skip
    assert expected == pristine_tree
    return work, pristine_tree, expected, cache


def _restore(out: Path, tree: dict[str, bytes]) -> None:
    if out.exists():
        shutil.rmtree(out)
    for leftover in out.parent.glob(f".{out.name}.unionml-codegen-tmp-*"):
        shutil.rmtree(leftover)
    for path, data in tree.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)


def _mutate_json(value, rng: random.Random):
    """`value` with one leaf (or container) changed."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        return {**value, key: _mutate_json(value[key], rng)}
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        return value[:index] + [_mutate_json(value[index], rng)] + value[index + 1 :]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([value + 1, -value - 1, 10**15, 0])
    if isinstance(value, float):
        return value * 2 + 1
    if isinstance(value, str):
        return rng.choice(["", value + "x", "payments", "evil_mod", "not a cron", "@reboot", "../../outside"])
    if isinstance(value, list):
        return [*value, "extra"]
    if isinstance(value, dict):
        return {**value, "extra": 1}
    return "x"


KINDS = ["flip", "append", "delete", "add-module", "add-data", "same-bytes", "manifest", "swap", "leftover"]
HARMLESS = ["add-data", "same-bytes"]  # with the forge (which then recomputes the same hashes): still clean


def _mutation(out: Path, rng: random.Random, kinds: list[str]) -> str:
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    kind = rng.choice(kinds)
    path = rng.choice(files)
    target = out / path
    if kind == "flip" and target.stat().st_size:
        data = bytearray(target.read_bytes())
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        target.write_bytes(bytes(data))
    elif kind == "append":
        target.write_bytes(target.read_bytes() + rng.choice([b"\n", b" ", b"import os\n", b"\x00"]))
    elif kind == "delete":
        target.unlink()
    elif kind == "add-module":
        place = rng.choice(["", "digits_batch/", "digits_batch/models/", "sub/"])
        name = rng.choice(["zz_unowned.py", "sklearn.py", "evil.pth", "x.pyc", "pkg.so"])
        (out / place).mkdir(parents=True, exist_ok=True)
        (out / place / name).write_bytes(b"import os\n")
    elif kind == "add-data":
        (out / rng.choice(["NOTES.md", "digits_batch/data.csv"])).write_text("mine\n")
    elif kind == "same-bytes":
        target.write_bytes(target.read_bytes())
    elif kind == "manifest" and (out / MANIFEST).is_file():
        try:
            manifest = json.loads((out / MANIFEST).read_bytes())
        except ValueError:  # an earlier change of this trial broke it: break it some more
            manifest = {"files": {}}
        (out / MANIFEST).write_text(json.dumps(_mutate_json(manifest, rng), indent=2, sort_keys=True) + "\n")
    elif kind == "swap":
        other = out / rng.choice(files)
        first, second = target.read_bytes(), other.read_bytes()
        target.write_bytes(second)
        other.write_bytes(first)
    elif kind == "leftover":
        fake = out.parent / f".{out.name}.unionml-codegen-tmp-{rng.randrange(10**6):06d}"
        (fake / "old").mkdir(parents=True)
        (fake / "journal.jsonl").write_text(json.dumps({"out": out.name}) + "\n")
    return f"{kind} {path}"


def _forge(out: Path) -> None:
    """Make the manifest vouch for whatever is on disk now (issue 18, item 1)."""
    try:
        manifest = json.loads((out / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return
    files = {}
    for path in manifest["files"]:
        if isinstance(path, str) and (out / path).is_file():
            files[path] = hashlib.sha256((out / path).read_bytes()).hexdigest()
    content = hashlib.sha256()
    for path, sha in sorted(files.items()):
        content.update(f"{path}\0{sha}\n".encode())
    manifest.update(files=files, content_sha256=content.hexdigest())
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _truly_clean(out: Path, expected: dict[str, bytes]) -> bool:
    """The oracle: every rendered file on disk with its bytes, and nothing importable or half-written added."""
    for path, data in expected.items():
        target = out / path
        if not target.is_file() or target.is_symlink() or target.read_bytes() != data:
            return False
    for path in out.rglob("*"):
        relative = path.relative_to(out)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts[:-1]):
            continue
        if path.is_file() and path.name.endswith(MODULE_SUFFIXES) and relative.as_posix() not in expected:
            return False
    return not list(out.parent.glob(f".{out.name}.unionml-codegen-tmp-*"))


def test_check_passes_exactly_when_the_tree_is_a_fresh_render(setup):
    work, pristine, expected, cache = setup
    out = work / "flyte"
    rng = random.Random(SEED)
    outcomes = {True: 0, False: 0}
    for trial in range(TRIALS):
        _restore(out, pristine)
        kinds = HARMLESS if rng.random() < 0.2 else KINDS
        changes = [_mutation(out, rng, kinds) for _ in range(rng.randint(1, 3))]
        forged = rng.random() < 0.5
        if forged:
            _forge(out)
        clean = _truly_clean(out, expected)
        try:
            result = generate(work / "app.py", out, Options(), check=True, cache=cache)
            reported = result.drift is not None and result.drift.clean
        except Exception as exc:  # a refusal (a link, an unreadable manifest) is never "up to date"
            reported = False
            assert type(exc).__name__ in ("WriteRefused", "LinkRefused"), (trial, changes, exc)
        assert reported == clean, f"trial {trial}: {changes} (forged: {forged}): --check said {reported}"
        outcomes[clean] += 1
    _restore(out, pristine)
    assert generate(work / "app.py", out, Options(), check=True, cache=cache).reused  # the warm lane still works
    assert outcomes[False] > outcomes[True] > 0  # both answers were exercised
