"""The user guide this tool replaces (unionml's scheduling guide): its seven schedule forms.

`examples/seed_guide/app.py` is our own app with every form of the guide; it always runs. When the
guide itself is beside the repository (../shared/seed/scheduling.md, as in the team's checkout),
its code cells are also read as one app; on any other clone those tests skip, saying why.
"""

from __future__ import annotations

import re
import shutil

import pytest

from ..helpers import EXAMPLES, REPO, run_cli, run_python
from ..support.flyte_package import describe_launch_plan, flyteadmin_problems, load_entities, package
from .test_examples import _packaged

GUIDE = REPO.parent / "shared" / "seed" / "scheduling.md"
CELL = re.compile(r"```\{code-(?:cell|block)\} python\n(.*?)```", re.S)
requires_guide = pytest.mark.skipif(
    not GUIDE.is_file(), reason=f"unionml's scheduling guide is not beside this clone ({GUIDE} is absent)"
)
SEVEN = [
    "cron_daily_training", "non_standard_training_schedule", "fixed_rate_training_schedule", "daily_predictions",
    "daily_predictions_with_model_object", "daily_predictions_with_model_file", "daily_predictions_with_remote_model",
]  # fmt: skip
UNKNOWABLE = ("daily_predictions", "daily_predictions_with_model_object", "daily_predictions_with_model_file")


@pytest.fixture
def seed_app(tmp_path):
    cells = [re.sub(r"^:tags:.*\n", "", cell) for cell in CELL.findall(GUIDE.read_text())]
    app = tmp_path / "seed" / "app.py"
    app.parent.mkdir()
    app.write_text("\n".join(cells))
    shutil.copy(EXAMPLES / "digits_batch" / "model.joblib", tmp_path / "model.joblib")
    return app


@pytest.fixture
def example_app(tmp_path):
    app = tmp_path / "seed_guide" / "app.py"
    app.parent.mkdir()
    shutil.copy(EXAMPLES / "seed_guide" / "app.py", app)
    shutil.copy(EXAMPLES / "seed_guide" / "model.joblib", tmp_path / "model.joblib")
    return app


def _line_of(app, text: str) -> int:
    lines = app.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _assert_each_unknowable_model_is_reported(app, schedule_line, model_object_line, model_file_line, placeholder=None):
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=app.parent)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    if placeholder is not None:  # the guide's "<MODEL_VERSION>": refused at its line too (issue 21, item 11)
        found = [line for line in errors if "[UMG408]" in line]
        assert len(found) == 1 and found[0].startswith(f"app.py:{placeholder}:") and "placeholder" in found[0]
        errors.remove(found[0])
    assert len(errors) == 3, result.stderr
    prefix = "error: the generator cannot know the model of prediction schedule"
    assert errors[0].startswith(f"app.py:{schedule_line}:1: {prefix} 'daily_predictions': it would use the model "
                                "trained by `model.train(...)`")  # fmt: skip
    assert errors[1].startswith(f"app.py:{model_object_line} {prefix} 'daily_predictions_with_model_object': "
                                "model_object=")  # fmt: skip
    assert errors[2].startswith(f"app.py:{model_file_line} {prefix} 'daily_predictions_with_model_file': "
                                "model_file=")  # fmt: skip
    assert "--model daily_predictions=PATH" in result.stderr
    assert not (app.parent / "flyte").exists()


def _assert_seven_schedules(entities, package_dir):
    plans = {n: describe_launch_plan(lp, entities.workflows) for n, lp in entities.launch_plans.items()}
    scheduled = {n: p for n, p in plans.items() if p.schedule_kind}
    assert sorted(scheduled) == sorted(SEVEN)
    for name in scheduled:
        assert flyteadmin_problems(entities.launch_plans[name], entities.workflows) == [], name
    for name in UNKNOWABLE:
        vendored = scheduled[name].fixed_inputs["model_file"]
        assert vendored.startswith("models/") and (package_dir / vendored).is_file()
    assert scheduled["daily_predictions_with_model_file"].fixed_inputs["loader_kwargs"] == {"mmap_mode": None}
    assert scheduled["daily_predictions"].fixed_inputs["labeled"] is False
    remote = scheduled["daily_predictions_with_remote_model"]
    assert remote.fixed_inputs["model_version"] == "f3c9a1e7b2d4c6e8a0b1"
    assert remote.fixed_inputs["app_version"] == "3f9c2e1"
    assert scheduled["fixed_rate_training_schedule"].schedule_kind == "fixed_rate"
    assert scheduled["fixed_rate_training_schedule"].kickoff_time_input_arg is None
    for name in ("cron_daily_training", "non_standard_training_schedule"):
        assert scheduled[name].kickoff_time_input_arg == "time"
    assert scheduled["non_standard_training_schedule"].cron_expression == "@daily"
    return scheduled


def test_example_without_bindings_reports_each_unknowable_model_and_writes_nothing(example_app):
    _assert_each_unknowable_model_is_reported(
        example_app,
        _line_of(example_app, 'name="daily_predictions",') - 1,
        f"{_line_of(example_app, 'model_object=trained,')}:18:",
        f"{_line_of(example_app, 'model_file=saved.name,')}:20:",
    )


def test_example_has_the_seven_schedule_forms_of_the_guide(tmp_path_factory):
    _, out, entities = _packaged("seed_guide", tmp_path_factory)
    scheduled = _assert_seven_schedules(entities, out / "seed_guide")
    assert scheduled["cron_daily_training"].fixed_inputs["hyperparameters"] == {"C": 0.1, "max_iter": 5000}


@requires_guide
def test_seed_guide_without_bindings_reports_each_unknowable_model_and_writes_nothing(seed_app):
    _assert_each_unknowable_model_is_reported(
        seed_app,
        _line_of(seed_app, 'name="daily_predictions",') - 1,
        f"{_line_of(seed_app, 'model_object=model_object,')}:18:",
        f"{_line_of(seed_app, 'model_file=f.name,')}:20:",
        placeholder=_line_of(seed_app, 'model_version="<MODEL_VERSION>"'),
    )


@requires_guide
def test_seed_guide_with_model_bindings_generates_all_seven_schedules(seed_app, tmp_path):
    # the guide's placeholders, filled in as a user does: a training execution and the version deployed
    text = seed_app.read_text()
    assert '"<MODEL_VERSION>"' in text and '"<APP_VERSION>"' in text
    seed_app.write_text(text.replace('"<MODEL_VERSION>"', '"f3c9a1e7b2d4c6e8a0b1"').replace('"<APP_VERSION>"', '"3f9c2e1"'))
    bindings = []
    for name in UNKNOWABLE:
        bindings += ["--model", f"{name}=../model.joblib"]
    result = run_cli("generate", "app.py", "-o", "flyte", *bindings, cwd=seed_app.parent)
    assert result.returncode == 0, result.stderr
    out = seed_app.parent / "flyte"
    entities = load_entities(package(out, "seed", output=tmp_path / "seed.tgz"))
    scheduled = _assert_seven_schedules(entities, out / "seed")
    assert scheduled["cron_daily_training"].fixed_inputs["hyperparameters"] == {"C": 0.1}


def test_the_example_has_rows_to_predict_on_every_day_of_the_month(tmp_path):
    """Issue 21, item 15: the reader ran out of rows on the 30th (`Found array with 0 sample(s)`)."""
    code = (
        "import sys; from datetime import datetime; sys.path.insert(0, 'flyte')\n"
        "from seed_guide.components import reader\n"
        "sizes = [len(reader(datetime(2026, 12, day), labeled=False)) for day in range(1, 32)]\n"
        "assert sizes == [50] * 31, sizes\n"
        "assert all(len(reader(datetime(2026, 12, day))) > 0 for day in (1, 30, 31))\n"
    )
    run_python(code, cwd=EXAMPLES / "seed_guide")
