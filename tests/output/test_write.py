"""Generated code you can commit: --check/--diff, deterministic output, and safe writes.

A failure at any point (an app with errors, a full disk, an exception or Ctrl-C half-way)
leaves a previously generated output directory byte-identical, with nothing left beside it.
"""

from __future__ import annotations

import builtins
import errno
import inspect
import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from unionml_codegen.output import transaction as write_module
from unionml_codegen.cli import main
from unionml_codegen.options import Options
from unionml_codegen.generate import generate, render_app
from unionml_codegen.output import MANIFEST, TEMP_MARK, RollbackFailed, WriteRefused

from ..helpers import EXAMPLES, read_tree, run_cli
from ..cli.test_cli import BROKEN

FIXED_RATE_SCHEDULE = """model.schedule_training(
    name="fixed_rate_training_schedule",
    fixed_rate=timedelta(days=1),
    reader_time_arg="time",
    hyperparameters=HYPERPARAMETERS,
    splitter_kwargs={"test_size": 0.25},
)
"""


def invoke(cwd: Path, *args: str):
    """`unionml ARGS` in this process (faster than `run_cli`), from `cwd`; stdout and stderr apart."""
    separate = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}
    before = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner(**separate).invoke(main, list(args), prog_name="unionml")
    finally:
        os.chdir(before)


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "digits").mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "digits" / "app.py")
    return tmp_path / "digits"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """digits/app.py with its project generated (by the command line) into digits/flyte, once."""
    app_dir = tmp_path_factory.mktemp("pristine") / "digits"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir)
    assert result.returncode == 0, result.stderr
    return app_dir


@pytest.fixture
def generated(pristine, tmp_path):
    """A copy of `pristine` (the manifest names the app relatively, so a copy is as generated)."""
    shutil.copytree(pristine, tmp_path / "digits")
    return tmp_path / "digits"


def edit_app(app_dir, old: str, new: str) -> None:
    app = app_dir / "app.py"
    text = app.read_text()
    assert old in text
    app.write_text(text.replace(old, new, 1))


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if TEMP_MARK in p.name)


def mtimes(root):
    return {p: p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


# --check and --diff: exit 0 clean, 1 drift; never write


def test_check_and_diff_pass_on_a_current_project(generated):
    check = run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=generated)
    assert (check.returncode, check.stdout) == (0, ""), check.stderr
    assert "flyte is up to date" in check.stderr
    diff = run_cli("generate", "app.py", "-o", "flyte", "--diff", cwd=generated)
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stderr


def test_check_and_diff_report_a_stale_file_and_write_nothing(generated):
    before = read_tree(generated / "flyte")
    edit_app(generated, '"C": 1.0', '"C": 2.0')
    check = invoke(generated, "generate", "app.py", "-o", "flyte", "--check")
    assert check.exit_code == 1
    assert "changed: digits/launch_plans.py" in check.stderr
    assert f"changed: {MANIFEST}" in check.stderr
    assert "run: unionml generate app.py -o flyte" in check.stderr
    diff = invoke(generated, "generate", "app.py", "-o", "flyte", "--diff")
    assert diff.exit_code == 1
    assert "--- a/digits/launch_plans.py\n+++ b/digits/launch_plans.py\n" in diff.stdout
    assert '+        "hyperparameters": {"C": 2.0, "max_iter": 1000},' in diff.stdout
    assert '-  "content_sha256": ' in diff.stdout  # what was taken from the app changed
    assert read_tree(generated / "flyte") == before


def test_check_and_diff_report_a_missing_file(generated):
    (generated / "flyte" / "digits" / "workflows.py").unlink()
    before = read_tree(generated / "flyte")
    check = invoke(generated, "generate", "app.py", "-o", "flyte", "--check")
    assert check.exit_code == 1
    assert check.stderr.count("missing: ") == 1 and "missing: digits/workflows.py" in check.stderr
    assert "changed: " not in check.stderr
    diff = invoke(generated, "generate", "app.py", "-o", "flyte", "--diff")
    assert diff.exit_code == 1
    assert "--- /dev/null\n+++ b/digits/workflows.py\n" in diff.stdout
    assert read_tree(generated / "flyte") == before


def test_check_and_diff_report_an_extra_file_the_generator_no_longer_writes(generated):
    before = read_tree(generated / "flyte")
    edit_app(generated, FIXED_RATE_SCHEDULE, "")
    now = render_app(generated / "app.py", generated / "flyte").files
    gone = sorted(set(json.loads(before[MANIFEST])["files"]) - set(now))
    assert gone, "removing the fixed-rate schedule should leave a generated file out"
    (generated / "flyte" / "NOTES.md").write_text("a person's own file is not extra\n")
    check = invoke(generated, "generate", "app.py", "-o", "flyte", "--check")
    assert check.exit_code == 1
    assert [line for line in check.stderr.splitlines() if line.startswith("extra:")] == [
        f"extra:   {path}" for path in gone
    ]
    diff = invoke(generated, "generate", "app.py", "-o", "flyte", "--diff")
    assert diff.exit_code == 1
    assert f"--- a/{gone[0]}\n+++ /dev/null\n" in diff.stdout
    assert read_tree(generated / "flyte") == {**before, "NOTES.md": b"a person's own file is not extra\n"}


# determinism: the same bytes from any working directory and any absolute path


def test_the_same_bytes_from_the_app_dir_its_parent_and_absolute_paths(tmp_path):
    trees = []
    for where, cwd, args in (
        ("a", "a/digits", ["app.py", "-o", "flyte"]),
        ("b", "b", ["digits/app.py", "-o", "digits/flyte"]),
        ("c", ".", [str(tmp_path / "c/digits/app.py"), "-o", str(tmp_path / "c/digits/flyte")]),
    ):
        (tmp_path / where / "digits").mkdir(parents=True)
        shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / where / "digits" / "app.py")
        result = run_cli("generate", *args, cwd=tmp_path / cwd)
        assert result.returncode == 0, result.stderr
        trees.append(read_tree(tmp_path / where / "digits" / "flyte"))
    assert trees[0] == trees[1] == trees[2]
    assert all(str(tmp_path).encode() not in data for data in trees[0].values())
    manifest = json.loads(trees[0][MANIFEST])
    assert sorted(manifest) == ["app", "content_sha256", "files", "generator", "options", "project", "schedules"]
    assert manifest["app"] == "../app.py"
    assert manifest["options"] == {"image": "ghcr.io/your-org/your-app:latest", "models": {}, "package": "digits"}


def test_an_edit_that_changes_nothing_generated_changes_no_file(generated):
    out = generated / "flyte"
    before, stamps = read_tree(out), mtimes(out)
    edit_app(generated, "model.schedule_training(\n", "# retrain every day\nmodel.schedule_training(\n")
    edit_app(generated, "    print(metrics)\n", "    print(metrics)  # for a person running the app\n")
    assert invoke(generated, "generate", "app.py", "-o", "flyte", "--check").exit_code == 0
    result = invoke(generated, "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 0, result.stderr
    assert "nothing was written" in result.stderr
    assert read_tree(out) == before  # the manifest and its content hash included
    assert mtimes(out) == stamps  # not even rewritten with the same bytes


# safe writes: refuse to lose a person's work; --force


def test_a_hand_edited_generated_file_is_refused_naming_it_and_force_overwrites_it(generated):
    out = generated / "flyte"
    edited = out / "digits" / "workflows.py"
    pristine = edited.read_bytes()
    edited.write_text(edited.read_text() + "# a person's fix\n")
    edit_app(generated, '"C": 1.0', '"C": 2.0')
    before = read_tree(out)
    refused = invoke(generated, "generate", "app.py", "-o", "flyte")
    assert refused.exit_code == 2
    assert "flyte/digits/workflows.py: generated earlier and edited since" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert read_tree(out) == before
    forced = invoke(generated, "generate", "app.py", "-o", "flyte", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert edited.read_bytes() == pristine
    assert invoke(generated, "generate", "app.py", "-o", "flyte", "--check").exit_code == 0


def test_a_file_the_generator_does_not_own_in_the_way_is_refused(app_dir):
    out = app_dir / "flyte"
    (out / "digits").mkdir(parents=True)
    (out / "digits" / "workflows.py").write_text("# mine\n")
    refused = invoke(app_dir, "generate", "app.py", "-o", "flyte")
    assert refused.exit_code == 2
    assert "flyte/digits/workflows.py: not written by the generator" in refused.stderr
    assert read_tree(out) == {"digits/workflows.py": b"# mine\n"}
    assert invoke(app_dir, "generate", "app.py", "-o", "flyte", "--force").exit_code == 0
    assert b"# mine" not in (out / "digits" / "workflows.py").read_bytes()


def test_an_output_path_that_is_a_file_is_refused(app_dir):
    (app_dir / "flyte").write_text("not a directory\n")
    result = invoke(app_dir, "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 2
    assert "'flyte' is a file" in result.stderr
    files = render_app(app_dir / "app.py", app_dir / "flyte").files
    with pytest.raises(WriteRefused, match="flyte exists and is not a directory"):
        write_module.write(files, app_dir / "flyte")
    assert (app_dir / "flyte").read_text() == "not a directory\n"


def test_files_no_longer_generated_are_removed_and_a_persons_own_files_kept(generated):
    out = generated / "flyte"
    before = read_tree(out)
    (out / "NOTES.md").write_text("mine\n")
    (out / "digits" / "data.csv").write_text("# mine too\n")
    (out / "digits" / "__pycache__").mkdir()
    (out / "digits" / "__pycache__" / "kickoff.cpython-311.pyc").write_bytes(b"\0")
    edit_app(generated, FIXED_RATE_SCHEDULE, "")
    gone = set(json.loads(before[MANIFEST])["files"]) - set(render_app(generated / "app.py", out).files)
    assert gone
    result = invoke(generated, "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 0, result.stderr
    assert "removed" in result.stderr
    after = read_tree(out)
    assert not gone & set(after)
    assert after["NOTES.md"] == b"mine\n" and after["digits/data.csv"] == b"# mine too\n"
    assert invoke(generated, "generate", "app.py", "-o", "flyte", "--check").exit_code == 0


def test_a_package_no_longer_generated_goes_with_its_directory_and_caches(app_dir):
    out = app_dir / "flyte"
    assert invoke(app_dir, "generate", "app.py", "-o", "flyte", "--package", "old_name").exit_code == 0
    (out / "old_name" / "__pycache__").mkdir()
    (out / "old_name" / "__pycache__" / "workflows.cpython-311.pyc").write_bytes(b"\0")
    (out / "NOTES.md").write_text("mine\n")
    assert invoke(app_dir, "generate", "app.py", "-o", "flyte").exit_code == 0
    assert not (out / "old_name").exists()
    assert (out / "NOTES.md").read_text() == "mine\n"
    assert (out / "digits" / "workflows.py").is_file()
    assert not leftovers(app_dir)


# failures at any stage leave OUT byte-identical and nothing beside it


def test_an_app_with_errors_leaves_the_output_byte_identical(generated):
    before = read_tree(generated / "flyte")
    (generated / "app.py").write_text(BROKEN)
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=generated)
    assert result.returncode == 2
    assert "nothing was written" in result.stderr
    assert read_tree(generated / "flyte") == before
    assert not leftovers(generated)


def _failing_at(n: int, error: BaseException, real):
    calls = {"count": 0}

    def fake(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == n:
            raise error
        return real(*args, **kwargs)

    return fake, calls


def _stale(app_dir):
    """A generated project with an app edit pending: writing it changes, creates and removes files."""
    assert invoke(app_dir, "generate", "app.py", "-o", "flyte").exit_code == 0
    (app_dir / "flyte" / "NOTES.md").write_text("mine\n")
    edit_app(app_dir, FIXED_RATE_SCHEDULE, "")
    edit_app(app_dir, '"C": 1.0', '"C": 2.0')
    return read_tree(app_dir / "flyte")


def test_a_full_disk_while_staging_files_leaves_the_output_byte_identical(app_dir, monkeypatch):
    before = _stale(app_dir)
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    for n in (1, 3):
        fake, _ = _failing_at(n, full, builtins.open)
        monkeypatch.setattr(write_module, "open", fake, raising=False)
        with pytest.raises(OSError) as raised:
            generate(app_dir / "app.py", app_dir / "flyte")
        assert raised.value.errno == errno.ENOSPC
        assert read_tree(app_dir / "flyte") == before
        assert not leftovers(app_dir)


def test_a_failure_at_any_step_of_the_commit_is_rolled_back(app_dir, monkeypatch):
    before = _stale(app_dir)
    files = render_app(app_dir / "app.py", app_dir / "flyte").files
    real = os.replace
    for n in range(1, 100):
        fake, calls = _failing_at(n, OSError(errno.ENOSPC, "No space left on device"), real)
        monkeypatch.setattr(os, "replace", fake)
        try:
            changes = write_module.write(files, app_dir / "flyte")
        except OSError:
            assert read_tree(app_dir / "flyte") == before, f"not restored after a failure at rename {n}"
            assert not leftovers(app_dir)
            continue
        break
    assert n > 5 and changes.extra and changes.changed, "every rename of the commit failed once"
    assert calls["count"] == n - 1
    after = read_tree(app_dir / "flyte")
    assert after == {path: data if isinstance(data, bytes) else data.encode() for path, data in files.items()} | {
        "NOTES.md": b"mine\n"
    }
    assert not leftovers(app_dir)


def test_when_even_the_rollback_fails_the_previous_files_are_kept_aside(app_dir, monkeypatch):
    before = _stale(app_dir)
    files = render_app(app_dir / "app.py", app_dir / "flyte").files
    real, calls = os.replace, {"count": 0}

    def broken_from_the_fourth_rename(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] >= 4:
            raise OSError(errno.EIO, "Input/output error")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, "replace", broken_from_the_fourth_rename)
    with pytest.raises(RollbackFailed) as raised:
        write_module.write(files, app_dir / "flyte")
    monkeypatch.undo()
    (kept,) = [app_dir / name for name in leftovers(app_dir)]
    assert f"the previous versions of its files are in {kept / 'old'}" in raised.value.strerror
    assert {**read_tree(app_dir / "flyte"), **read_tree(kept / "old")} == before  # nothing lost


def test_an_interrupt_while_writing_leaves_the_output_byte_identical(app_dir, monkeypatch):
    before = _stale(app_dir)
    fake, _ = _failing_at(2, KeyboardInterrupt(), builtins.open)
    monkeypatch.setattr(write_module, "open", fake, raising=False)
    with pytest.raises(KeyboardInterrupt):
        generate(app_dir / "app.py", app_dir / "flyte")
    assert read_tree(app_dir / "flyte") == before
    assert not leftovers(app_dir)


@pytest.fixture
def default_sigint():
    """Python's own Ctrl-C handler (other tests' libraries, flytekit's for one, install theirs)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_the_commit_is_deferred_then_rolled_back(app_dir, monkeypatch, default_sigint):
    before = _stale(app_dir)
    real = os.replace

    def replace_and_press_ctrl_c(*args, **kwargs):
        real(*args, **kwargs)
        if not getattr(replace_and_press_ctrl_c, "pressed", False):
            replace_and_press_ctrl_c.pressed = True
            signal.raise_signal(signal.SIGINT)  # deferred: this rename completes, and the next ones

    monkeypatch.setattr(os, "replace", replace_and_press_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        generate(app_dir / "app.py", app_dir / "flyte")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert read_tree(app_dir / "flyte") == before
    assert not leftovers(app_dir)


def test_the_cli_reports_a_write_failure_or_an_interrupt_without_a_traceback(app_dir, monkeypatch):
    before = _stale(app_dir)
    monkeypatch.chdir(app_dir)
    runner = CliRunner()
    for error, code, message in (
        (OSError(errno.ENOSPC, "No space left on device"), 2, "error: cannot write flyte: [Errno 28] No space"),
        (KeyboardInterrupt(), 130, "interrupted; flyte was left as it was"),
    ):
        fake, _ = _failing_at(2, error, builtins.open)
        monkeypatch.setattr(write_module, "open", fake, raising=False)
        result = runner.invoke(main, ["generate", "app.py", "-o", "flyte"])
        assert result.exit_code == code, result.output
        assert message in result.output
        assert "Traceback" not in result.output
        assert read_tree(app_dir / "flyte") == before
    assert not leftovers(app_dir)


def test_write_refused_touches_nothing(generated):
    out = generated / "flyte"
    (out / "README.md").write_text("edited\n")
    before, stamps = read_tree(out), mtimes(out)
    files = render_app(generated / "app.py", out, Options(image="example.com/other:1")).files
    with pytest.raises(WriteRefused, match="README.md: generated earlier and edited since"):
        write_module.write(files, out)
    assert (read_tree(out), mtimes(out)) == (before, stamps)
