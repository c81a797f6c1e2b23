"""The manifest's shape is declared once (src/unionml_codegen/output/manifest.schema.json): the writer checks
what it writes against it, every reader gets only manifests that match, and the standard-library checker
(output/manifest.py, `shape_problems`) agrees with the `jsonschema` library on every example and on
manifests changed one field at a time."""

from __future__ import annotations

import copy
import json
import shutil

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unionml_codegen.diagnostics import GeneratedCodeError
from unionml_codegen.output import MANIFEST, read_manifest, with_manifest
from unionml_codegen.output.manifest import schema, shape_problems

from ..helpers import EXAMPLES, run_cli

MANIFESTS = sorted(EXAMPLES.glob(f"*/flyte*/{MANIFEST}"))
VALIDATOR = jsonschema.Draft202012Validator(schema())


def test_the_schema_is_a_valid_json_schema_and_every_example_manifest_matches_it():
    jsonschema.Draft202012Validator.check_schema(schema())
    assert len(MANIFESTS) >= 10
    for path in MANIFESTS:
        manifest = json.loads(path.read_text())
        assert shape_problems(manifest) == [], path
        assert list(VALIDATOR.iter_errors(manifest)) == [], path


def _leaves(value, path=()):
    """Every place in a JSON document: (path, value)."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


REPLACEMENTS = [None, True, 0, -1, 59, "", "x", "0" * 64, [], {}, ["x"], {"x": 1}, 1.5]


@settings(max_examples=400, deadline=None)
@given(
    which=st.integers(min_value=0, max_value=len(MANIFESTS) - 1),
    place=st.integers(min_value=0),
    replacement=st.sampled_from(REPLACEMENTS),
    delete=st.booleans(),
)
def test_the_standard_library_checker_agrees_with_jsonschema_on_changed_manifests(which, place, replacement, delete):
    manifest = json.loads(MANIFESTS[which].read_text())
    places = [path for path, _ in _leaves(manifest) if path]
    path = places[place % len(places)]
    changed = copy.deepcopy(manifest)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    assert (shape_problems(changed) == []) == (not list(VALIDATOR.iter_errors(changed))), (path, replacement, delete)


def test_the_writer_refuses_a_manifest_of_another_shape():
    with pytest.raises(GeneratedCodeError, match="declared shape"):
        with_manifest({"a.py": "x = 1\n"}, {"app": "../app.py", "generator": "unionml-codegen 0", "options": {}})


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m["files"].update({"pkg/x.py": "not a sha256"}),
        lambda m: m["options"].update({"package": 7}),
        lambda m: m["schedules"][0].update({"kind": "sometimes"}),
        lambda m: m["schedules"][0]["schedule"].update({"fixed_rate_seconds": "3600"}),
        lambda m: m.pop("app"),
    ],
)
def test_a_reader_gets_no_manifest_of_another_shape(tmp_path, change):
    out = tmp_path / "flyte"
    shutil.copytree(EXAMPLES / "seed_guide" / "flyte", out)
    assert read_manifest(out) is not None
    manifest = json.loads((out / MANIFEST).read_text())
    change(manifest)
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert read_manifest(out) is None
    result = run_cli("schedules", str(out))  # an operate command reads it through read_manifest
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr


def test_keys_of_an_older_manifest_at_the_top_level_are_ignored_not_refused(tmp_path):
    out = tmp_path / "flyte"
    shutil.copytree(EXAMPLES / "digits" / "flyte", out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["input_sha256"] = "0" * 64  # what earlier versions of the generator recorded
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert read_manifest(out) == manifest
