"""The warm lane of `unionml generate --check` (output/cache.py, output/up_to_date.py): an up-to-date project is recognised
from this machine's cache entry, the raw bytes of what the generation read, without parsing the app or
importing libcst, jinja2 or black; any edit of an input or an output still comes out as drift."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from unionml_codegen import input_files
from unionml_codegen.output import cache, up_to_date
from unionml_codegen.options import Options
from unionml_codegen.generate import render_app
from unionml_codegen.output import MANIFEST

from ..helpers import EXAMPLES, REPO, run_cli

HEAVY = ("libcst", "jinja2", "black", "croniter", "flytekit", "cron_descriptor")

# runs the CLI in this interpreter, then prints which heavy modules it imported
_IMPORTS = """
import json, sys
sys.argv = ["unionml", *json.loads(sys.argv[1])]
from unionml_codegen.cli import main
try:
    main(prog_name="unionml")
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
operate = sorted(m for m in sys.modules if m.startswith("unionml_codegen.operate"))
print(json.dumps({"code": code, "heavy": heavy, "operate": operate}))
""" % (HEAVY,)


def _cli_run(*args: str, cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORTS, json.dumps(args)], cwd=cwd, env=env, capture_output=True, text=True
    )
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "stderr": proc.stderr}


def _cli_imports(*args: str, cwd: Path) -> tuple[int, list[str], str]:
    report = _cli_run(*args, cwd=cwd)
    return report["code"], report["heavy"], report["stderr"]


@pytest.fixture
def project(tmp_path):
    """A copy of the wine app (a local package, a requirements file with pins), generated."""
    app_dir = tmp_path / "wine"
    shutil.copytree(REPO / "tests" / "apps" / "wine_project", app_dir)
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir)
    assert result.returncode == 0, result.stderr
    return app_dir


def test_an_up_to_date_check_imports_no_parser_renderer_or_formatter(project):
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", cwd=project)
    assert code == 0, stderr
    assert "flyte is up to date" in stderr
    assert heavy == []


def test_generate_loads_none_of_the_commands_that_operate_a_project(project):
    report = _cli_run("generate", "app.py", "-o", "flyte", "--check", cwd=project)
    assert report["code"] == 0, report["stderr"]
    assert report["operate"] == []
    backfill = _cli_run("backfill", "--help", cwd=project)  # loaded when named, with its --remote
    assert backfill["code"] == 0 and "unionml_codegen.operate.remote_backfill" in backfill["operate"]


def test_help_imports_nothing_heavy(tmp_path):
    for args in (
        ["--help"],
        ["generate", "--help"],
        ["schedules", "--help"],
        ["run", "--help"],
        ["backfill", "--help"],
    ):
        code, heavy, _ = _cli_imports(*args, cwd=tmp_path)
        assert code == 0
        assert heavy == []


def test_the_warnings_of_the_generation_are_shown_again_by_an_up_to_date_check(tmp_path):
    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "app.py")
    first = run_cli("generate", "app.py", "-o", "flyte", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", cwd=tmp_path)
    assert (code, heavy) == (0, [])
    warnings = [line for line in first.stderr.splitlines() if "warning:" in line]
    assert warnings
    assert [line for line in stderr.splitlines() if "warning:" in line] == warnings
    assert first.stderr.split("wrote flyte")[0] == stderr.split("flyte is up to date")[0]  # source line, caret, hint


def test_a_comment_only_edit_parses_the_app_and_still_comes_out_clean(project):
    app = project / "app.py"
    app.write_text(app.read_text() + "\n# a comment\n")
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", cwd=project)
    assert code == 0, stderr
    assert "libcst" in heavy  # rendered and compared: the cache entry was of other bytes
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", cwd=project)
    assert (code, heavy) == (0, []), stderr  # the clean comparison was recorded: warm again


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


EDITS = {
    "the app": lambda d: _append(d / "app.py", '\nmodel.schedule_training("extra", expression="0 1 * * *")\n'),
    "a local helper module": lambda d: _append(d / "winery" / "features.py", "\nEXTRA = 1\n"),
    "a new file in a local package": lambda d: (d / "winery" / "extra.py").write_text("X = 1\n"),
    "the requirements file's pins": lambda d: (d / "requirements.txt").write_text("pandas==2.2.3\n"),
    "a pins file that appears": lambda d: (d / "requirements.in").write_text("pyarrow==15.0.0\n"),
    "pyproject dependencies": lambda d: (d / "pyproject.toml").write_text(
        '[project]\nname = "w"\nversion = "0"\ndependencies = ["pyarrow==15.0.0"]\n'
    ),
    "a local module shadowing a third-party import": lambda d: (d / "sklearn.py").write_text("X = 1\n"),
    "a generated file": lambda d: _append(d / "flyte" / "requirements.txt", "extra\n"),
    "a generated file removed": lambda d: (d / "flyte" / "Dockerfile").unlink(),
    "the manifest": lambda d: _append(d / "flyte" / MANIFEST, "\n"),
    "the manifest's options": lambda d: (d / "flyte" / MANIFEST).write_text(
        (d / "flyte" / MANIFEST).read_text().replace('"ghcr.io/your-org/your-app:latest"', '"other:1"')
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edit_of_any_input_or_output_is_not_taken_for_up_to_date(project, edit):
    EDITS[edit](project)
    result = run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=project)
    assert result.returncode != 0, result.stderr


@pytest.mark.parametrize("edit", ["a local helper module", "the requirements file's pins", "a pins file that appears"])
def test_an_edit_of_an_input_regenerates(project, edit):
    before = (project / "flyte" / MANIFEST).read_bytes()
    EDITS[edit](project)
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "wrote flyte" in result.stderr
    assert (project / "flyte" / MANIFEST).read_bytes() != before


def test_a_local_module_replaced_by_a_link_out_of_the_project_is_not_taken_for_up_to_date(project, tmp_path):
    (project / "pyproject.toml").write_text('[project]\nname = "w"\nversion = "0"\n')  # the project's root
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=project).returncode == 0
    outside = tmp_path / "elsewhere" / "features.py"
    outside.parent.mkdir()
    shutil.copy(project / "winery" / "features.py", outside)
    (project / "winery" / "features.py").unlink()
    (project / "winery" / "features.py").symlink_to(outside)
    result = run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=project)
    assert result.returncode == 2, result.stderr
    assert "outside the app's project" in result.stderr


def test_a_changed_option_is_not_taken_for_up_to_date(project):
    result = run_cli("generate", "app.py", "-o", "flyte", "--check", "--image", "other:1", cwd=project)
    assert result.returncode == 1, result.stderr


def test_an_edited_model_file_is_drift(tmp_path):
    app_dir = tmp_path / "batch"
    shutil.copytree(EXAMPLES / "digits_batch", app_dir, ignore=shutil.ignore_patterns("flyte"))
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir).returncode == 0
    assert run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=app_dir).returncode == 0
    _append_bytes = (app_dir / "model.joblib").read_bytes() + b"\0"
    (app_dir / "model.joblib").write_bytes(_append_bytes)
    assert run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=app_dir).returncode == 1


def test_a_bound_model_file_edit_is_drift(tmp_path):
    app_dir = tmp_path / "guide"
    shutil.copytree(EXAMPLES / "seed_guide", app_dir, ignore=shutil.ignore_patterns("flyte"))
    words = (EXAMPLES / "seed_guide" / "generate.args").read_text().replace("examples/seed_guide/", "").split()
    assert run_cli("generate", "app.py", "-o", "flyte", *words, cwd=app_dir).returncode == 0
    assert run_cli("generate", "app.py", "-o", "flyte", "--check", *words, cwd=app_dir).returncode == 0
    (app_dir / "model.joblib").write_bytes((app_dir / "model.joblib").read_bytes() + b"\0")
    assert run_cli("generate", "app.py", "-o", "flyte", "--check", *words, cwd=app_dir).returncode == 1


_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


@pytest.mark.parametrize("case", ["wine_project", "sketch_torch"])
def test_every_file_the_generation_opens_is_a_recorded_source(tmp_path, case):
    """Guards the key: a file read by any means (a new reader added later) must be recorded, or
    be one the key reads again anyway (the pins files, the templates, the generator's own code)."""
    global _OPENED
    app_dir = tmp_path / case
    shutil.copytree(REPO / "tests" / "apps" / case, app_dir)
    sys.addaudithook(_audit)  # cannot be removed; it records only while _OPENED is a list
    _OPENED = []
    try:
        result = render_app(app_dir / "app.py", app_dir / "flyte", Options())
    finally:
        opened, _OPENED = _OPENED, None
    recorded = {os.path.normpath(path) for path in result.notes}
    ignored = (sys.prefix, sys.base_prefix, str(REPO / "src"), str(REPO / "templates"))
    pins = {"requirements.txt", "requirements.in", "pyproject.toml"}  # find_pins runs again for the key
    unrecorded = {
        path
        for path in (os.path.normpath(os.path.abspath(p)) for p in opened)
        if not path.startswith(ignored) and os.path.basename(path) not in pins and not path.endswith(".pyc")
    }
    assert unrecorded <= recorded
    assert any(path.endswith("app.py") for path in recorded)


def test_the_manifest_records_no_input_state_and_no_machine_path(project):
    manifest = json.loads((project / "flyte" / MANIFEST).read_text())
    assert not {"sources", "sources_sha256", "input_sha256", "warnings"} & set(manifest)
    assert str(project.parent) not in json.dumps(manifest)


def test_a_file_read_twice_with_different_contents_is_never_recorded_as_up_to_date():
    with input_files.recording() as notes:
        input_files.note_read("x.py", b"one")
        input_files.note_read("x.py", b"two")
    assert list(notes.values()) == [input_files.UNSTABLE]
    entry = {"sources": {os.path.abspath("x.py"): input_files.UNSTABLE}, "sources_sha256": "0"}
    assert not up_to_date.up_to_date(entry, {}, input_files.AppPaths.of("x.py", "out"))


def _entries(directory: Path) -> list[Path]:
    return sorted((directory / "entries").glob("*.json"))


def test_the_warm_lane_needs_this_machines_entry(project, tmp_path):
    """--no-cache and a new cache directory both render; only an entry that the generator wrote spares it."""
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", "--no-cache", cwd=project)
    assert code == 0 and "libcst" in heavy, stderr
    fresh = tmp_path / "fresh-cache"
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", "--cache-dir", str(fresh),
                                       cwd=project)  # fmt: skip
    assert code == 0 and "libcst" in heavy, stderr
    [entry] = _entries(fresh)
    assert json.loads(entry.read_text())["files"][MANIFEST]
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", "--cache-dir", str(fresh),
                                       cwd=project)  # fmt: skip
    assert (code, heavy) == (0, []), stderr


@pytest.mark.parametrize("damage", ["truncated", "not json", "another key", "a list", "world-writable"])
def test_a_damaged_or_foreign_cache_entry_is_a_miss(project, tmp_path, damage):
    directory = tmp_path / "c"
    assert _cli_imports("generate", "app.py", "-o", "flyte", "--check", "--cache-dir", str(directory),
                        cwd=project)[0] == 0  # fmt: skip
    [entry] = _entries(directory)
    data = json.loads(entry.read_text())
    if damage == "truncated":
        entry.write_text(entry.read_text()[:-20])
    elif damage == "not json":
        entry.write_text("\x00garbage")
    elif damage == "another key":
        entry.write_text(json.dumps({**data, "key": "0" * 64}))
    elif damage == "a list":
        entry.write_text("[]")
    else:
        os.chmod(directory / "entries", 0o777)
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", "--cache-dir", str(directory),
                                       cwd=project)  # fmt: skip
    assert code == 0 and "libcst" in heavy, stderr


def test_a_cache_directory_inside_the_project_is_never_used(project):
    """A pull request could commit one: its entries, and its run records, are never read (nor written)."""
    (project / "pyproject.toml").write_text('[project]\nname = "w"\nversion = "0"\n')  # the project's root
    inside = project / ".cache" / "unionml-codegen"
    for _ in range(2):
        code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", "--cache-dir", str(inside),
                                           cwd=project)  # fmt: skip
        assert code == 0 and "libcst" in heavy, stderr
    assert not inside.exists()


def test_the_cache_keeps_at_most_its_bound_of_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    store = cache.Cache(tmp_path / "c")
    for number in range(6):
        cache.store(store, f"{number:064d}", {"files": {"a": "b"}, "sources": {}, "sources_sha256": "", "warnings": []})
        os.utime(store.entries / f"{number:064d}.json", (number, number))
    assert [p.stem for p in _entries(store.directory)] == [f"{n:064d}" for n in (3, 4, 5)]
    assert cache.load(store, f"{5:064d}") is not None and cache.load(store, f"{0:064d}") is None


def test_a_cache_entry_records_warnings_with_codes_and_one_without_is_not_replayed(tmp_path):
    app_dir = tmp_path / "digits"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
    directory = tmp_path / "c"
    assert run_cli("generate", "app.py", "-o", "flyte", "--cache-dir", str(directory), cwd=app_dir).returncode == 0
    [entry] = _entries(directory)
    data = json.loads(entry.read_text())
    assert (
        data["warnings"]
        and up_to_date.replayed_warnings(data["warnings"], "app.py")[0].code == data["warnings"][0]["code"]
    )
    for warning in data["warnings"]:
        del warning["code"]
    assert up_to_date.replayed_warnings(data["warnings"], "app.py") is None
    entry.write_text(json.dumps(data))
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte", "--check", "--cache-dir", str(directory),
                                       cwd=app_dir)  # fmt: skip
    assert code == 0 and "libcst" in heavy and "warning:" in stderr


# The command line's warm lane (quick.py): answered before click, the reader or the renderer is imported

_QUICK = """
import json, sys
from unionml_codegen import quick
ok = quick.answered(json.loads(sys.argv[1]))
ours = sorted(m for m in sys.modules if m.startswith("unionml_codegen"))
print(json.dumps({"ok": ok, "ours": ours, "click": "click" in sys.modules, "pathlib": "pathlib" in sys.modules}))
"""


def _quick(*args: str, cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", _QUICK, json.dumps(args)], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "stderr": proc.stderr}


def test_a_clean_check_is_answered_by_the_warm_lane_with_the_same_words(tmp_path):
    app_dir = tmp_path / "digits"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir).returncode == 0
    assert not _quick("generate", "app.py", "-o", "flyte", "--check", cwd=app_dir)["ok"]  # nothing recorded yet
    full = run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=app_dir)
    assert full.returncode == 0, full.stderr
    report = _quick("generate", "app.py", "-o", "flyte", "--check", cwd=app_dir)
    assert report["ok"] and report["stderr"] == full.stderr and "warning:" in full.stderr
    assert report["ours"] == ["unionml_codegen", "unionml_codegen.quick", "unionml_codegen.states"]
    assert not report["click"] and not report["pathlib"]
    cold = run_cli("generate", "app.py", "-o", "flyte", "--check", "--no-cache", cwd=app_dir)
    assert (cold.returncode, cold.stderr) == (0, full.stderr)  # the same words as a render and comparison


QUICK_EDITS = {
    "a pyproject.toml appears in the working directory": lambda d: (d / "pyproject.toml").write_text(
        '[tool.unionml-codegen]\nimage = "other:1"\n'
    ),
    "a directory appears where manifests are discovered": lambda d: (d / "other").mkdir(),
    "a pins file appears beside the app": lambda d: (d / "requirements.txt").write_text("pandas==2.2.3\n"),
    "the app": lambda d: _append(d / "app.py", "\n# a comment\n"),
    "a generated file": lambda d: _append(d / "flyte" / "Dockerfile", "\n"),
    "a module in OUT": lambda d: (d / "flyte" / "sklearn.py").write_text("X = 1\n"),
    "a leftover beside OUT": lambda d: (d / ".flyte.unionml-codegen-tmp-x").mkdir(),
    "the record itself": None,
}


@pytest.mark.parametrize("edit", sorted(QUICK_EDITS))
def test_the_warm_lane_never_answers_for_a_changed_tree(tmp_path, edit):
    app_dir = tmp_path / "digits"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
    cache_dir = tmp_path / "cache"
    args = ("generate", "app.py", "-o", "flyte", "--check", "--cache-dir", str(cache_dir))
    assert run_cli(*args[:4], "--cache-dir", str(cache_dir), cwd=app_dir).returncode == 0
    assert run_cli(*args, cwd=app_dir).returncode == 0
    assert _quick(*args, cwd=app_dir)["ok"]
    if QUICK_EDITS[edit] is None:
        [record] = (cache_dir / "invocations").glob("*.json")
        record.write_text(record.read_text()[:-10])
    else:
        QUICK_EDITS[edit](app_dir)
    assert not _quick(*args, cwd=app_dir)["ok"]


def test_the_warm_lane_takes_only_arguments_it_knows(tmp_path):
    for args in (
        ("generate", "app.py", "-o", "flyte"),  # not a check: writes
        ("generate", "app.py", "-o", "flyte", "--check", "--no-cache"),
        ("generate", "app.py", "-o", "flyte", "--check", "--force"),
        ("generate", "app.py", "-o", "flyte", "--check", "--help"),
        ("schedules", "flyte"),
    ):
        assert not _quick(*args, cwd=tmp_path)["ok"]


def test_a_record_in_a_cache_inside_the_project_is_never_used(tmp_path):
    app_dir = tmp_path / "digits"
    app_dir.mkdir()
    (app_dir / ".git").mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
    inside = app_dir / ".cache"
    outside = tmp_path / "cache"
    args = ["generate", "app.py", "-o", "flyte", "--check"]
    assert run_cli(*args[:4], cwd=app_dir).returncode == 0
    assert run_cli(*args, "--cache-dir", str(outside), cwd=app_dir).returncode == 0
    from unionml_codegen import quick

    [record] = (outside / "invocations").glob("*.json")
    (inside / "invocations").mkdir(parents=True, mode=0o700)
    os.chmod(inside, 0o700)
    key = quick.invocation_key([*args, "--cache-dir", str(inside)], str(app_dir))
    shutil.copy(record, inside / "invocations" / f"{key}.json")  # a pull request commits a record, well keyed
    assert not _quick(*args, "--cache-dir", str(inside), cwd=app_dir)["ok"]
    shutil.move(inside, outside.parent / "moved")  # the same record, outside the project: it would be taken
    moved = outside.parent / "moved"
    key = quick.invocation_key([*args, "--cache-dir", str(moved)], str(app_dir))
    shutil.copy(record, moved / "invocations" / f"{key}.json")
    assert _quick(*args, "--cache-dir", str(moved), cwd=app_dir)["ok"]
