"""`unionml run` and `unionml backfill` (local): a launch plan run as the native scheduler would start it.

The oracle is unionml 0.2.1 (as in test_matches_unionml.py); the foil is flytekit's own local route,
`pyflyte run PKG/launch_plans.py PLAN --time T`, which drops the plan's fixed inputs for the workflow's
defaults. The first test runs each command in its own interpreter, as a user runs it; the others call
the command in this process (one flytekit import for all their runs; `in_process` undoes what the
generated projects leave behind). flytekit's local cache is off, so every run computes its outputs.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from ..helpers import EXAMPLES, run_cli, run_python

NO_CACHE = {"FLYTE_LOCAL_CACHE_ENABLED": "false"}
HYPERPARAMETERS = {"C": 0.1, "max_iter": 1000}  # cron_daily_training's; the workflow's default is {}

UNIONML_ORACLE = """
import importlib.util, json
from datetime import datetime, timezone
spec = importlib.util.spec_from_file_location("digits_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
assert type(app.model).__module__ == "unionml.model"
_, metrics = app.model.train(hyperparameters={hyperparameters}, time=datetime(2026, 11, 29, tzinfo=timezone.utc),
                             labeled=True)
print(json.dumps(metrics))
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("operate_run")
    shutil.copy(EXAMPLES / "digits" / "app.py", root / "app.py")
    shutil.copytree(EXAMPLES / "digits" / "flyte", root / "flyte")
    return root


@pytest.fixture
def in_process(monkeypatch):
    """`invoke(*args, cwd=DIR)`: the `unionml` command line called in this process."""
    from click.testing import CliRunner
    from flytekit import LaunchPlan

    from unionml_codegen.cli import main

    monkeypatch.setenv("FLYTE_LOCAL_CACHE_ENABLED", "false")
    path, modules, plans = list(sys.path), set(sys.modules), dict(LaunchPlan.CACHE)
    places = []

    def invoke(*args: str, cwd):
        places.append(str(cwd))
        monkeypatch.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    yield invoke
    sys.path[:] = path
    for name in set(sys.modules) - modules:  # the generated packages, not what they imported
        if any(str(getattr(sys.modules[name], "__file__", None) or "").startswith(place) for place in places):
            del sys.modules[name]
    LaunchPlan.CACHE.clear()
    LaunchPlan.CACHE.update(plans)


def test_run_uses_the_plans_fixed_inputs_where_pyflyte_run_drops_them(workspace):
    env = {**os.environ, **NO_CACHE, "PYTHONDONTWRITEBYTECODE": "1"}
    pyflyte = shutil.which("pyflyte", path=os.path.dirname(sys.executable)) or "pyflyte"
    commands = {  # three interpreters at once: unionml, `unionml run`, and flytekit's plain local call
        "oracle": ([sys.executable, "-c", UNIONML_ORACLE.format(hyperparameters=HYPERPARAMETERS)], workspace),
        "run": ([sys.executable, "-m", "unionml_codegen", "run", "flyte", "cron_daily_training", "--at",
                 "2026-11-29T00:00:00Z", "--json"], workspace),
        "pyflyte": ([pyflyte, "run", "digits/launch_plans.py", "cron_daily_training", "--time", "2026-11-29T00:00:00"],
                    workspace / "flyte"),
    }  # fmt: skip
    started = {
        name: subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (command, cwd) in commands.items()
    }
    done = {name: (process, *process.communicate(timeout=600)) for name, process in started.items()}
    for name, (process, stdout, stderr) in done.items():
        assert process.returncode == 0, f"{name}:\n{stdout}\n{stderr}"

    expected = json.loads(done["oracle"][1].strip().splitlines()[-1])
    record = json.loads(done["run"][1])
    assert record["ok"] and record["kickoff"] == "2026-11-29T00:00:00Z"
    assert record["outputs"]["metrics"] == expected  # exact floats
    assert record["outputs"]["hyperparameters"] == HYPERPARAMETERS
    assert record["outputs"]["model_object"] == "LogisticRegression"

    # flytekit's plain local call of the same launch plan: the workflow's defaults, other metrics, no warning
    printed = done["pyflyte"][1] + done["pyflyte"][2]
    assert "hyperparameters={}" in printed
    metrics = ast.literal_eval(re.search(r"metrics=(\{[^}]*\})", printed).group(1))
    assert metrics != expected


def test_a_fixed_rate_run_passes_the_kickoff_as_the_plan_would_take_it(workspace, in_process):
    """The fixed-rate plan's workflow gets the kickoff through `kickoff_time` and its own fixed inputs
    (test_size 0.25): the outputs of the plan called with that kickoff (test_matches_unionml.py checks
    those against unionml)."""
    result = in_process("run", "flyte", "fixed_rate_training_schedule", "--at", "2026-11-28T06:00:00Z", "--json",
                        cwd=workspace)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    from digits.launch_plans import fixed_rate_training_schedule  # imported by the run, from workspace/flyte

    direct = fixed_rate_training_schedule(kickoff_time=dt.datetime(2026, 11, 28, 6, tzinfo=dt.timezone.utc))
    assert record["outputs"]["metrics"] == direct.metrics
    assert record["outputs"]["hyperparameters"] == direct.hyperparameters == HYPERPARAMETERS


def test_a_three_kickoff_backfill_gives_what_three_runs_give(workspace, in_process):
    result = in_process("backfill", "flyte", "cron_daily_training", "--from", "2026-11-27", "--to", "2026-11-29T12:00",
                        "--json", cwd=workspace)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["ok"], report["failed"], report["skipped"]) == (3, 0, 0)
    kickoffs = [run["kickoff"] for run in report["runs"]]
    assert kickoffs == ["2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z"]
    for run in report["runs"]:
        alone = in_process("run", "flyte", "cron_daily_training", "--at", run["kickoff"], "--json", cwd=workspace)
        assert alone.exit_code == 0, alone.stderr
        assert run == json.loads(alone.stdout)
    assert len({json.dumps(run["outputs"]["metrics"]) for run in report["runs"]}) == 3  # the kickoff reached the reader
    assert "cron_daily_training: 3 ok, 0 failed" in result.stderr


def test_a_failing_kickoff_is_reported_readably_and_stops_the_backfill(tmp_path, in_process):
    app = (EXAMPLES / "digits" / "app.py").read_text()
    app = app.replace(
        "    data = load_digits(as_frame=True).frame.head(snapshot_size(time))\n",
        "    if time.day == 28:\n"
        "        raise ValueError(f'no snapshot for {time:%Y-%m-%d}')\n"
        "    data = load_digits(as_frame=True).frame.head(snapshot_size(time))\n",
    )
    tmp_path = tmp_path / "flaky"
    tmp_path.mkdir()
    (tmp_path / "app.py").write_text(app)
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=tmp_path).returncode == 0

    failed = in_process("run", "cron_daily_training", "--at", "2026-11-28", cwd=tmp_path)
    assert failed.exit_code == 1
    error = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1
    assert re.fullmatch(
        r"error: cron_daily_training at 2026-11-28T00:00:00Z failed: ValueError: no snapshot for 2026-11-28 "
        r"\(.*/flyte/\w+/components.py:\d+, in reader\)",
        error[0],
    ), error[0]
    assert "Traceback" not in failed.stderr and failed.stdout == ""

    stop = in_process("backfill", "cron_daily_training", "--from", "2026-11-28", "--to", "2026-11-29", "--json",
                      cwd=tmp_path)  # fmt: skip
    assert stop.exit_code == 1
    report = json.loads(stop.stdout)
    assert (report["ok"], report["failed"], report["skipped"]) == (0, 1, 1)
    assert "ValueError: no snapshot for 2026-11-28" in report["runs"][0]["error"]
    assert "1 not run (stopped at the first failure" in stop.stderr

    go_on = in_process("backfill", "cron_daily_training", "--from", "2026-11-28", "--to", "2026-11-29",
                       "--continue-on-error", cwd=tmp_path)  # fmt: skip
    assert go_on.exit_code == 1
    assert re.findall(r"^(\S+)  (ok|FAILED)$", go_on.stdout, re.M) == [
        ("2026-11-28T00:00:00Z", "FAILED"), ("2026-11-29T00:00:00Z", "ok")]  # fmt: skip
    assert go_on.stdout.rstrip().endswith("cron_daily_training: 1 ok, 1 failed")


def test_usage_errors_exit_2_before_anything_runs(workspace):
    for args, message, code in [
        (("run", "flyte", "nope"), "has no schedule 'nope' [UMG753]\n  hint: its schedules: cron_daily_training,",
         "UMG753"),
        (("backfill", "flyte", "cron_daily_training", "--from", "2026-11-29", "--to", "2026-11-28"),
         "before it starts", "UMG799"),
        (("run", "flyte", "cron_daily_training", "--at", "tomorrow"), "'tomorrow' is not an ISO 8601 time", "UMG764"),
    ]:  # fmt: skip
        result = run_cli(*args, cwd=workspace)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert result.stderr.splitlines()[0].startswith("error: ") and result.stderr.splitlines()[0].endswith(
            f" [{code}]"
        ), result.stderr
    empty = run_cli("backfill", "flyte", "cron_daily_training", "--from", "2026-11-29T01:00", "--to", "2026-11-29T02:00",
                    cwd=workspace)  # fmt: skip
    assert empty.returncode == 0 and "no kickoff of cron_daily_training" in empty.stderr


def test_a_failure_is_shown_at_the_users_code_not_inside_python_or_a_package():
    from unionml_codegen.operate.local_run import _summary

    def reader():
        try:
            json.loads("not json")  # raises inside the standard library
        except ValueError as exc:
            raise RuntimeError("the snapshot is not JSON") from exc

    try:
        reader()
    except RuntimeError as exc:
        summary = _summary(exc)
    assert summary.startswith("RuntimeError: the snapshot is not JSON (")
    assert summary.endswith("test_operate_run.py:" + summary.rsplit(":", 1)[1]) and "in reader)" in summary
