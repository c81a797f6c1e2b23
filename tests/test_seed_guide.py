"""The user guide this tool replaces (shared/seed/scheduling.md), every code cell as one app."""

from __future__ import annotations

import re
import shutil

import pytest

from .conftest import EXAMPLES, REPO, run_cli
from .support.flyte_package import describe_launch_plan, flyteadmin_problems, load_entities, package

GUIDE = REPO.parent / "shared" / "seed" / "scheduling.md"
CELL = re.compile(r"```\{code-(?:cell|block)\} python\n(.*?)```", re.S)


@pytest.fixture
def seed_app(tmp_path):
    cells = [re.sub(r"^:tags:.*\n", "", cell) for cell in CELL.findall(GUIDE.read_text())]
    app = tmp_path / "seed" / "app.py"
    app.parent.mkdir()
    app.write_text("\n".join(cells))
    shutil.copy(EXAMPLES / "digits_batch" / "model.joblib", tmp_path / "model.joblib")
    return app


def _line_of(app, text: str) -> int:
    lines = app.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_seed_guide_without_bindings_reports_each_unknowable_model_and_writes_nothing(seed_app):
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=seed_app.parent)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 3, result.stderr
    predictions = _line_of(seed_app, 'name="daily_predictions",') - 1
    model_object = _line_of(seed_app, "model_object=model_object,")
    model_file = _line_of(seed_app, "model_file=f.name,")
    assert errors[0].startswith(
        f"app.py:{predictions}:1: error: the generator cannot know the model of prediction "
        "schedule 'daily_predictions': it would use the model trained by `model.train(...)`"
    )
    assert errors[1].startswith(
        f"app.py:{model_object}:18: error: the generator cannot know the model of "
        "prediction schedule 'daily_predictions_with_model_object': model_object=model_object"
    )
    assert errors[2].startswith(f"app.py:{model_file}:20: error: the generator cannot know the model of "
                                "prediction schedule 'daily_predictions_with_model_file': model_file=f.name")  # fmt: skip
    assert "--model daily_predictions=PATH" in result.stderr
    assert not (seed_app.parent / "flyte").exists()


def test_seed_guide_with_model_bindings_generates_all_seven_schedules(seed_app, tmp_path):
    bindings = []
    for name in ("daily_predictions", "daily_predictions_with_model_object", "daily_predictions_with_model_file"):
        bindings += ["--model", f"{name}=../model.joblib"]
    result = run_cli("generate", "app.py", "-o", "flyte", *bindings, cwd=seed_app.parent)
    assert result.returncode == 0, result.stderr
    out = seed_app.parent / "flyte"
    entities = load_entities(package(out, "seed", output=tmp_path / "seed.tgz"))
    plans = {n: describe_launch_plan(lp, entities.workflows) for n, lp in entities.launch_plans.items()}
    scheduled = {n: p for n, p in plans.items() if p.schedule_kind}
    assert sorted(scheduled) == sorted([
        "cron_daily_training", "non_standard_training_schedule", "fixed_rate_training_schedule", "daily_predictions",
        "daily_predictions_with_model_object", "daily_predictions_with_model_file",
        "daily_predictions_with_remote_model",
    ])  # fmt: skip
    for name in scheduled:
        assert flyteadmin_problems(entities.launch_plans[name], entities.workflows) == [], name
    vendored = scheduled["daily_predictions"].fixed_inputs["model_file"]
    assert vendored.startswith("models/") and (out / "seed" / vendored).is_file()
    assert scheduled["daily_predictions_with_model_file"].fixed_inputs["loader_kwargs"] == {"mmap_mode": None}
    assert scheduled["daily_predictions"].fixed_inputs["labeled"] is False
    remote = scheduled["daily_predictions_with_remote_model"]
    assert remote.fixed_inputs["model_version"] == "<MODEL_VERSION>"
    assert remote.fixed_inputs["app_version"] == "<APP_VERSION>"
    assert scheduled["fixed_rate_training_schedule"].kickoff_time_input_arg is None
    assert scheduled["cron_daily_training"].fixed_inputs["hyperparameters"] == {"C": 0.1}
