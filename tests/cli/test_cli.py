"""The command line contract of DESIGN.md: exit codes, compiler-style diagnostics, nothing written on error."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ..helpers import EXAMPLES, read_tree, run_cli


@pytest.fixture
def app_dir(tmp_path) -> Path:
    (tmp_path / "digits").mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "digits" / "app.py")
    return tmp_path / "digits"


def test_generate_writes_the_project_and_check_finds_it_current(app_dir):
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir)
    assert result.returncode == 0, result.stderr
    assert (app_dir / "flyte" / "digits" / "launch_plans.py").is_file()
    assert run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=app_dir).returncode == 0


def test_check_and_diff_report_a_changed_file_with_exit_1(app_dir):
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir).returncode == 0
    app = app_dir / "app.py"
    app.write_text(app.read_text().replace('"C": 1.0', '"C": 2.0'))
    check = run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=app_dir)
    assert check.returncode == 1
    assert "changed: digits/launch_plans.py" in check.stderr
    diff = run_cli("generate", "app.py", "-o", "flyte", "--diff", cwd=app_dir)
    assert diff.returncode == 1
    assert '-        "hyperparameters": {"C": 1.0, "max_iter": 1000},' in diff.stdout
    assert '+        "hyperparameters": {"C": 2.0, "max_iter": 1000},' in diff.stdout


BROKEN = """\
from datetime import datetime
import os
from typing import List
import pandas as pd
from unionml import Dataset, Model

dataset = Dataset()
model = Model(dataset=dataset, init=dict)


@dataset.reader
def reader(time: datetime) -> pd.DataFrame:
    return pd.DataFrame()


@model.trainer
def trainer(m: dict, x: pd.DataFrame, y: pd.DataFrame) -> dict:
    return m


@model.predictor
def predictor(m: dict, x: pd.DataFrame) -> List[float]:
    return []


@model.evaluator
def evaluator(m: dict, x: pd.DataFrame, y: pd.DataFrame) -> float:
    return 1.0


model.schedule_training("a", expression="0 0 * * *", reader_time_arg="time", hyperparameters={"C": os.getenv("C")})
if os.getenv("SCHEDULE"):
    model.schedule_training("b", expression="0 0 * * *", reader_time_arg="time")
"""


def test_app_errors_are_all_reported_like_a_compiler_and_nothing_is_written(app_dir):
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir).returncode == 0
    before = read_tree(app_dir / "flyte")
    (app_dir / "app.py").write_text(BROKEN)
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    first = lines.index(
        "app.py:31:100: error: the call to 'os.getenv' cannot be evaluated without running the app [UMG301]"
    )
    assert lines[first + 1].startswith("    model.schedule_training(")
    assert lines[first + 2] == "    " + " " * 99 + "^"
    assert lines[first + 3].startswith("  hint: ")
    assert any(
        line.startswith("app.py:33:5: error: model.schedule_training(...) is inside an `if` block") for line in lines
    )
    assert "2 errors; nothing was written" in result.stderr
    assert read_tree(app_dir / "flyte") == before


def test_a_syntax_error_is_a_diagnostic_with_exit_2(app_dir):
    (app_dir / "app.py").write_text("from unionml import Model\n\nmodel = Model(\n    name='x'\n  dataset=1)\n")
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir)
    assert result.returncode == 2
    assert result.stderr.startswith("app.py:4:10: error: invalid syntax")
    assert "Traceback" not in result.stderr
    assert not (app_dir / "flyte").exists()


def test_a_missing_app_file_is_exit_2_without_traceback(tmp_path):
    result = run_cli("generate", "nope.py", "-o", "flyte", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_start_up_imports_neither_flytekit_nor_the_app_libraries(app_dir):
    code = textwrap.dedent("""
        import sys
        from unionml_codegen.cli import main
        try:
            main(["generate", "app.py", "-o", "flyte"], prog_name="unionml")
        except SystemExit as exit:
            assert not exit.code, exit.code
        heavy = sorted(m for m in ("flytekit", "pandas", "sklearn", "unionml", "numpy") if m in sys.modules)
        print("heavy:", heavy)
        """)
    result = subprocess.run([sys.executable, "-c", code], cwd=app_dir, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stdout


def test_the_unionml_script_on_path_is_ours():
    script = Path(sys.executable).parent / "unionml"
    result = subprocess.run([str(script), "generate", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--check" in result.stdout and "without importing it" in result.stdout


def test_check_of_an_up_to_date_project_renders_nothing_but_still_sees_edits(app_dir):
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir).returncode == 0
    code = textwrap.dedent("""
        import sys
        from unionml_codegen.cli import main
        try:
            main(["generate", "app.py", "-o", "flyte", "--check"], prog_name="unionml")
        except SystemExit as exit:
            print("exit:", exit.code)
        print("rendered:", sorted(m for m in ("black", "jinja2") if m in sys.modules))
        """)
    clean = subprocess.run([sys.executable, "-c", code], cwd=app_dir, capture_output=True, text=True, timeout=60)
    assert "exit: 0" in clean.stdout and "rendered: []" in clean.stdout, clean.stdout + clean.stderr
    workflows = app_dir / "flyte" / "digits" / "workflows.py"
    workflows.write_text(workflows.read_text() + "# a hand edit\n")
    edited = subprocess.run([sys.executable, "-c", code], cwd=app_dir, capture_output=True, text=True, timeout=60)
    assert "exit: 1" in edited.stdout and "changed: digits/workflows.py" in edited.stderr
