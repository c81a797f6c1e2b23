"""The manifest's `schedules` section, `operate/project.py` (finding and loading a generated project),
the kickoff enumerator (`operate/kickoffs.py`) and `unionml schedules`."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from unionml_codegen.operate.kickoffs import KickoffError, kickoffs_between, next_kickoffs, parse_time
from unionml_codegen.operate.project import OperateError, load_project
from unionml_codegen.output import MANIFEST

from ..helpers import EXAMPLES, run_cli

UTC = dt.timezone.utc


def t(text: str) -> dt.datetime:
    return parse_time(text)


class Cadence:
    def __init__(self, cron=None, fixed_rate=None):
        self.cron, self.fixed_rate = cron, fixed_rate


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """The digits example generated in a directory of its own (its manifest as this generator writes it)."""
    root = tmp_path_factory.mktemp("operate") / "digits"
    root.mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", root / "app.py")
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


# the manifest and its loading


def test_the_manifest_records_every_schedule_in_app_order_as_the_launch_plans_say():
    project = load_project(EXAMPLES / "digits_batch" / "flyte")
    assert project.package == "digits_batch"
    assert [s.name for s in project.schedules] == ["weekly_retraining", "daily_predictions",
                                                   "hourly_predictions_with_latest_model"]  # fmt: skip
    weekly, daily, hourly = project.schedules
    assert (weekly.kind, weekly.cron, weekly.kickoff_input, weekly.fixed_rate) == (
        "training",
        "0 3 * * MON",
        "time",
        None,
    )
    assert weekly.workflow == "digits_batch.workflows.digits_classifier_train"
    assert weekly.launch_plan == "digits_batch.launch_plans.weekly_retraining"
    assert weekly.fixed_inputs["hyperparameters"] == {"C": 0.1, "max_iter": 1000}
    assert weekly.outputs == ("model_object", "hyperparameters", "metrics")
    assert daily.kind == "prediction" and daily.outputs == ("o0",)
    source = daily.model_source
    assert (source.kind, source.vendored) == ("file", "digits_batch/models/30518f316a884048-model.joblib")
    vendored = EXAMPLES / "digits_batch" / "flyte" / source.vendored
    import hashlib

    assert hashlib.sha256(vendored.read_bytes()).hexdigest() == source.sha256
    assert daily.fixed_inputs["model_file"] == "models/30518f316a884048-model.joblib"
    assert (hourly.fixed_rate, hourly.kickoff_input, hourly.run_kickoff_input) == (dt.timedelta(hours=1), None,
                                                                                   "kickoff_time")  # fmt: skip
    assert hourly.model_source.kind == "version" and hourly.model_source.latest
    assert hourly.time_workflow is None  # the project has no plain predict-with-version workflow
    (model,) = project.models
    assert model.training_workflow == "digits_batch.workflows.digits_classifier_train"
    workflows = (EXAMPLES / "digits_batch" / "flyte" / "digits_batch" / "workflows.py").read_text()
    launch_plans = (EXAMPLES / "digits_batch" / "flyte" / "digits_batch" / "launch_plans.py").read_text()
    for schedule in project.schedules:  # every name the manifest gives exists in the generated code
        assert f"def {schedule.workflow.rsplit('.', 1)[1]}(" in workflows
        assert f"\n{schedule.launch_plan_attribute} = LaunchPlan.get_or_create(" in launch_plans
    for name in [*model.training_workflows, *model.prediction_workflows]:
        assert f"def {name.rsplit('.', 1)[1]}(" in workflows


def test_fixed_rate_plans_name_the_workflow_that_takes_the_time(digits):
    project = load_project(digits / "flyte")
    fixed = project.schedule("fixed_rate_training_schedule")
    assert fixed.workflow == "digits.workflows.digits_classifier_train_at_scheduled_time"
    assert (fixed.time_workflow, fixed.time_input) == ("digits.workflows.digits_classifier_train", "time")
    assert fixed.fixed_inputs["splitter_kwargs"]["test_size"] == 0.25


def test_values_json_cannot_hold_are_kept_as_python_literals():
    from unionml_codegen.names import json_and_python

    plain, python = json_and_python(
        {"a": {"x": [1, "s", None]}, "b": dt.timedelta(days=1), "c": (1, 2), "d": float("nan")}
    )
    assert plain == {"a": {"x": [1, "s", None]}}
    assert set(python) == {"b", "c", "d"} and python["b"] == "timedelta(days=1)" and python["c"] == "(1, 2)"


def test_the_project_is_found_like_generate_finds_it(digits, tmp_path, monkeypatch):
    flyte = (digits / "flyte").resolve()
    assert load_project(None, cwd=digits).directory.resolve() == flyte  # the manifest just below the cwd
    assert load_project(None, cwd=flyte).directory.resolve() == flyte  # the manifest in the cwd
    (digits / "pyproject.toml").write_text('[tool.unionml-codegen]\napp = "app.py"\noutput = "flyte"\n')
    try:
        sub = digits / "sub"
        sub.mkdir(exist_ok=True)
        assert load_project(None, cwd=sub).directory.resolve() == flyte  # pyproject's output, from below
    finally:
        (digits / "pyproject.toml").unlink()
    with pytest.raises(OperateError, match="no generated project here"):
        load_project(None, cwd=tmp_path)
    shutil.copytree(digits / "flyte", tmp_path / "one")
    shutil.copytree(digits / "flyte", tmp_path / "two")
    with pytest.raises(OperateError, match=r"several generated projects here \(.*one, .*two\); name the one"):
        load_project(None, cwd=tmp_path)


def test_a_missing_project_an_old_manifest_and_an_unknown_schedule_are_one_line_errors(digits, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(digits / "flyte", old)
    manifest = json.loads((old / MANIFEST).read_text())
    del manifest["schedules"], manifest["project"]
    (old / MANIFEST).write_text(json.dumps(manifest))
    (tmp_path / "empty").mkdir()
    cases = {
        ("schedules", "nowhere"): ("nowhere does not exist [UMG750]", "give the directory"),
        ("schedules", "empty"): ("empty has no readable .unionml-codegen.json", "give the directory"),
        ("schedules", "old"): ("does not record the schedules [UMG751]", "regenerate it with `unionml generate`"),
    }
    for args, (message, hint) in cases.items():
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, result
        first, second = result.stderr.splitlines()  # the error with its code, then its hint
        assert first.startswith("error: ") and message in first and re.search(r" \[UMG75\d\]$", first), first
        assert second.startswith("  hint: ") and hint in second
        assert "Traceback" not in result.stderr
    with pytest.raises(OperateError, match="has no schedule 'nope'; its schedules: cron_daily_training, "):
        load_project(digits / "flyte").schedule("nope")


def test_generate_rewrites_a_manifest_from_before_the_schedules_section(digits, tmp_path):
    shutil.copy(digits / "app.py", tmp_path / "app.py")
    shutil.copytree(digits / "flyte", tmp_path / "flyte")
    path = tmp_path / "flyte" / MANIFEST
    manifest = json.loads(path.read_text())
    del manifest["schedules"], manifest["project"]
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    check = run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=tmp_path)
    assert check.returncode == 1, check.stderr
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=tmp_path).returncode == 0
    assert load_project(tmp_path / "flyte").schedules


# kickoffs, hand-computed (2026-11-29 is a Sunday)


def test_next_kickoffs_of_a_cron_an_alias_and_a_fixed_rate():
    now = t("2026-11-29T10:30:00Z")
    assert next_kickoffs(Cadence("0 0 * * *"), now, 3) == [t("2026-11-30"), t("2026-12-01"), t("2026-12-02")]
    assert next_kickoffs(Cadence("@weekly"), now, 2) == [t("2026-12-06"), t("2026-12-13")]  # Sundays at midnight
    assert next_kickoffs(Cadence("0 3 * * MON"), now, 2) == [t("2026-11-30T03:00"), t("2026-12-07T03:00")]
    assert next_kickoffs(Cadence("@hourly"), now, 1) == [t("2026-11-29T11:00")]
    assert next_kickoffs(Cadence("@monthly"), now, 1) == [t("2026-12-01")]
    daily = Cadence(fixed_rate=dt.timedelta(days=1))
    assert next_kickoffs(daily, now, 2) == [t("2026-11-30T10:30"), t("2026-12-01T10:30")]  # activated now
    activated = t("2026-11-20T06:15:42.5Z")  # phase from the activation time, to the second
    assert next_kickoffs(daily, now, 2, activated=activated) == [t("2026-11-30T06:15:42"), t("2026-12-01T06:15:42")]
    every = Cadence("@every 1h30m")
    assert next_kickoffs(every, now, 2, activated=t("2026-11-29T00:00")) == [
        t("2026-11-29T12:00"),
        t("2026-11-29T13:30"),
    ]
    on_time = t("2026-11-30T00:00")
    assert next_kickoffs(Cadence("0 0 * * *"), on_time, 1) == [t("2026-12-01")]  # strictly after


def test_kickoffs_in_a_range_include_both_ends():
    cron = Cadence("0 0 * * *")
    assert kickoffs_between(cron, t("2026-11-27"), t("2026-11-29")) == [
        t("2026-11-27"),
        t("2026-11-28"),
        t("2026-11-29"),
    ]
    assert kickoffs_between(cron, t("2026-11-27T00:00:01"), t("2026-11-28T23:59")) == [t("2026-11-28")]
    daily = Cadence(fixed_rate=dt.timedelta(days=1))
    assert kickoffs_between(daily, t("2026-11-27T12:00"), t("2026-11-29T12:00")) == [
        t("2026-11-27T12:00"), t("2026-11-28T12:00"), t("2026-11-29T12:00")]  # fmt: skip
    activated = t("2026-11-01T06:00")
    assert kickoffs_between(daily, t("2026-11-27"), t("2026-11-29"), activated=activated) == [
        t("2026-11-27T06:00"), t("2026-11-28T06:00")]  # fmt: skip
    assert kickoffs_between(cron, t("2026-12-01T01:00"), t("2026-12-01T23:00")) == []
    with pytest.raises(KickoffError, match="ends .* before it starts"):
        kickoffs_between(cron, t("2026-11-29"), t("2026-11-28"))
    with pytest.raises(KickoffError, match="more than 10 kickoffs"):
        kickoffs_between(Cadence("* * * * *"), t("2026-11-29"), t("2026-11-30"), limit=10)
    with pytest.raises(KickoffError, match="more than 10 kickoffs"):
        kickoffs_between(daily, t("2026-01-01"), t("2026-12-31"), limit=10)


def test_naive_and_zoned_times_are_utc():
    assert parse_time("2026-11-29T01:00:00+01:00") == dt.datetime(2026, 11, 29, tzinfo=UTC)
    assert parse_time("2026-11-29") == dt.datetime(2026, 11, 29, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        parse_time("yesterday")


# unionml schedules


def test_schedules_lists_each_schedule_with_its_next_kickoffs_and_caveats(digits):
    result = run_cli("schedules", "flyte", "--now", "2026-11-29T10:30:00Z", "-n", "2", "--json", cwd=digits)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = {row["name"]: row for row in report["schedules"]}
    assert list(rows) == ["cron_daily_training", "non_standard_training_schedule", "fixed_rate_training_schedule"]
    assert rows["cron_daily_training"]["next_kickoffs"] == ["2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"]
    assert rows["non_standard_training_schedule"]["next_kickoffs"] == ["2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"]
    assert rows["non_standard_training_schedule"]["fixed_inputs"]["hyperparameters"] == {"C": 1.0, "max_iter": 1000}
    fixed = rows["fixed_rate_training_schedule"]
    assert fixed["next_kickoffs"] == ["2026-11-30T10:30:00Z", "2026-12-01T10:30:00Z"]
    assert any("phase follows the activation time" in note for note in fixed["caveats"])
    assert any("time zone" in note for note in rows["cron_daily_training"]["caveats"])
    text = run_cli("schedules", "--now", "2026-11-29T10:30:00Z", "--activated-at", "2026-11-01T06:00", cwd=digits)
    assert text.returncode == 0, text.stderr
    assert "next         2026-11-30T06:00:00Z, 2026-12-01T06:00:00Z, 2026-12-02T06:00:00Z" in text.stdout
    assert "kickoff time -> input 'time'" in text.stdout


def test_the_generated_readme_warns_that_pyflyte_run_drops_the_fixed_inputs():
    readme = (EXAMPLES / "digits" / "flyte" / "README.md").read_text()
    section = readme[readme.index("Run a schedule locally") :]
    assert "unionml run cron_daily_training --at " in section
    assert "Not `pyflyte run digits/launch_plans.py cron_daily_training --time ...`" in section
    assert "dropping the plan's fixed inputs" in " ".join(section.split())


def test_a_flyte2_project_keeps_its_fast_check_and_is_refused_by_the_commands_without_a_flyte2_driver(digits, tmp_path):
    from ..output.test_fast_check import _cli_imports

    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "app.py")
    assert run_cli("generate", "app.py", "-o", "flyte2", "--target", "flyte2", cwd=tmp_path).returncode == 0
    code, heavy, stderr = _cli_imports("generate", "app.py", "-o", "flyte2", "--target", "flyte2", "--check",
                                       cwd=tmp_path)  # fmt: skip
    assert (code, heavy) == (0, []), stderr
    result = run_cli("backfill", "flyte2", "cron_daily_training", "--from", "2026-11-01", "--to", "2026-11-02",
                     "--remote", cwd=tmp_path)  # not (yet) for a flyte2 project  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr.startswith("error: `unionml backfill --remote` does not start runs of a flyte2 project's")
        and result.stderr.count("\n") == 2
    )
    assert result.stderr.splitlines()[0].endswith(" [UMG751]")
    shutil.copytree(digits / "flyte", tmp_path / "flyte")  # the flyte1 project beside it is the one operated
    assert load_project(None, cwd=tmp_path).directory.resolve() == (tmp_path / "flyte").resolve()


def test_the_docs_name_every_field_of_schedules_json():
    """docs/operating.md lists the fields `unionml schedules --json` prints, no more and no fewer."""
    from click.testing import CliRunner

    from unionml_codegen.cli import main

    result = CliRunner().invoke(main, ["schedules", str(EXAMPLES / "seed_guide" / "flyte"), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    fields = {key for schedule in printed["schedules"] for key in schedule}
    docs = (Path(__file__).resolve().parents[2] / "docs" / "operating.md").read_text()
    paragraph = docs[docs.index("`--json` prints the same as one object") :].split("\n\n")[0]
    named = set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", paragraph)))
    assert named == fields | set(printed), (sorted(named - fields - set(printed)), sorted(fields - named))
