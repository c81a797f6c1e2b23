"""Deployment rules (docs/rules.md), table-driven: each small app gives exactly these diagnostics.

Every case appends schedule calls to the same small app; line numbers count from the first
appended line (line BASE + 1). Near-valid cases also assert the rewritten launch plan.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from unionml_codegen.diagnostics import AppError
from unionml_codegen.generate import render_app

APP = """\
from datetime import date, datetime, timedelta
from typing import List, Optional

import pandas as pd
from sklearn.linear_model import LogisticRegression
from unionml import Dataset, Model

dataset = Dataset(targets=["y"])
model = Model(dataset=dataset, init=LogisticRegression)
other = Model(name="other", dataset=dataset, init=LogisticRegression)


@dataset.reader
def reader(time: datetime, day: date, when: Optional[datetime], stamp: str, labeled: bool = True) -> pd.DataFrame:
    return pd.DataFrame()


@model.trainer
def trainer(est: LogisticRegression, x: pd.DataFrame, y: pd.DataFrame, *, epochs: int = 1) -> LogisticRegression:
    return est


@model.predictor
def predictor(est: LogisticRegression, x: pd.DataFrame) -> List[float]:
    return []


@model.evaluator
def evaluator(est: LogisticRegression, x: pd.DataFrame, y: pd.DataFrame) -> float:
    return 1.0


other.trainer(trainer)
other.predictor(predictor)
other.evaluator(evaluator)
BOUND = dict(day=date(2026, 1, 1), when=None, stamp="x")
NOON = datetime(2026, 1, 1, 12)
"""
BASE = APP.count("\n")


def schedule(*arguments: str, method: str = "model.schedule_training") -> str:
    return f"{method}({', '.join(arguments)}, **BOUND)\n"


def generate(tmp_path: Path, schedules: str):
    app = tmp_path / "rules" / "app.py"
    app.parent.mkdir(exist_ok=True)
    app.write_text(APP + textwrap.dedent(schedules))
    try:
        result = render_app(app, tmp_path / "out")
    except AppError as exc:
        return None, [(d.severity, d.position.line - BASE, d.position.column, d.message) for d in exc.diagnostics]
    return result, [(d.severity, d.position.line - BASE, d.position.column, d.message) for d in result.diagnostics]


CRON = 'reader_time_arg="time"'

ERRORS = [
    # cron
    ("six fields", schedule('"a"', 'expression="0 0 0 * * *"', CRON),
     ("error", 1, 41, "expected 5 fields (minute hour day-of-month month day-of-week), got 6")),
    ("seven fields", schedule('"a"', 'expression="0 0 0 * * * 2030"', CRON), ("error", 1, 41, "got 7")),
    ("L", schedule('"a"', 'expression="0 0 L * *"', CRON), ("error", 1, 41, "'L' is not supported in the day-of-month field")),
    ("W", schedule('"a"', 'expression="0 0 15W * *"', CRON), ("error", 1, 41, "day-of-month")),
    ("hash", schedule('"a"', 'expression="0 0 * * 1#2"', CRON), ("error", 1, 41, "day-of-week")),
    ("H", schedule('"a"', 'expression="H 0 * * *"', CRON), ("error", 1, 41, "minute")),
    ("minute out of range", schedule('"a"', 'expression="60 0 * * *"', CRON), ("error", 1, 41, "minute value 60 is out of range 0-59")),
    ("day-of-week 8", schedule('"a"', 'expression="0 0 * * 8"', CRON), ("error", 1, 41, "day-of-week value 8 is out of range 0-6")),
    ("reboot", schedule('"a"', 'expression="@reboot"', CRON), ("error", 1, 41, "@reboot")),
    ("every", schedule('"a"', 'expression="@every 1h"', CRON), ("error", 1, 41, "flytekit does not accept `@every`")),
    ("neither timing", schedule('"a"', CRON), ("error", 1, 1, "needs exactly one of `expression` and `fixed_rate`")),
    ("both timings", schedule('"a"', 'expression="@daily"', "fixed_rate=timedelta(days=1)", CRON),
     ("error", 1, 1, "needs exactly one of `expression` and `fixed_rate`")),
    # fixed rates
    ("rate under a minute", schedule('"a"', "fixed_rate=timedelta(seconds=30)", CRON), ("error", 1, 41, "fixed rate 0:00:30 is under one minute")),
    ("rate not whole minutes", schedule('"a"', "fixed_rate=timedelta(seconds=90)", CRON),
     ("error", 1, 41, "fixed rate 0:01:30 is not a whole number of minutes")),
    # inputs
    ("time arg not a reader parameter", schedule('"a"', 'expression="@daily"', 'reader_time_arg="t"', "time=NOON"),
     ("error", 1, 67, "reader_time_arg 't' is not a parameter of the reader 'reader'")),
    ("time arg is a date", schedule('"a"', 'expression="@daily"', 'reader_time_arg="day"', "time=NOON"),
     ("error", 1, 67, "the reader's 'day' is annotated date; a kickoff time must be a `datetime`")),
    ("time arg is Optional", schedule('"a"', 'expression="@daily"', 'reader_time_arg="when"', "time=NOON"),
     ("error", 1, 67, "the reader's 'when' is annotated Optional[datetime]")),
    ("time arg is a str", schedule('"a"', 'expression="@daily"', 'reader_time_arg="stamp"', "time=NOON"),
     ("error", 1, 67, "the reader's 'stamp' is annotated str")),
    ("unbound reader input", 'model.schedule_training("a", expression="@daily", reader_time_arg="time", day=date(2026, 1, 1), when=None)\n',
     ("error", 1, 1, "schedule 'a' leaves the reader's required 'stamp' unbound")),
    ("unknown reader kwarg", schedule('"a"', 'expression="@daily"', CRON, "colour=1"),
     ("error", 1, 82, "'colour' is neither a schedule option nor a parameter of the reader 'reader'")),
    ("trainer kwarg not keyword-only", schedule('"a"', 'expression="@daily"', CRON, 'trainer_kwargs={"x": 1}'),
     ("error", 1, 90, "trainer_kwargs 'x' is not a keyword-only parameter of the trainer 'trainer'")),
    ("activate_on_deploy a string", schedule('"a"', 'expression="@daily"', CRON, 'activate_on_deploy="no"'),
     ("error", 1, 94, "`activate_on_deploy` must be True or False, not 'no'")),
    ("activate_on_deploy None", schedule('"a"', 'expression="@daily"', CRON, "activate_on_deploy=None"),
     ("error", 1, 94, "`activate_on_deploy` must be True or False, not None")),
    # names
    ("name with a slash", schedule('"../escape"', 'expression="@daily"', CRON),
     ("error", 1, 25, "schedule name '../escape' is not a valid launch plan name")),
    ("name with a space", schedule('"two words"', 'expression="@daily"', CRON), ("error", 1, 25, "is not a valid launch plan name")),
    # launchplan_kwargs
    ("unknown launch plan setting", schedule('"a"', 'expression="@daily"', CRON, 'launchplan_kwargs={"colour": "red"}'),
     ("error", 1, 93, "launchplan_kwargs has no setting 'colour'")),
    ("labels not strings", schedule('"a"', 'expression="@daily"', CRON, 'launchplan_kwargs={"labels": {"team": 1}}'),
     ("error", 1, 93, "launchplan_kwargs['labels'] must map strings to strings")),
    ("bad notifications", schedule('"a"', 'expression="@daily"', CRON, 'launchplan_kwargs={"notifications": {"on_fire": ["a@b"]}}'),
     ("error", 1, 93, "launchplan_kwargs['notifications'] must map phases to lists of e-mail addresses")),
    ("max_parallelism beyond int32", schedule('"a"', 'expression="@daily"', CRON, 'launchplan_kwargs={"max_parallelism": 2**31}'),
     ("error", 1, 93, "launchplan_kwargs['max_parallelism'] must be a whole number from 1 to 2**31 - 1")),
    ("max_concurrency zero", schedule('"a"', 'expression="@daily"', CRON, 'launchplan_kwargs={"max_concurrency": 0}'),
     ("error", 1, 93, "launchplan_kwargs['max_concurrency'] must be a whole number from 1 to 2**31 - 1")),
    ("fixed input that is no input", schedule('"a"', 'expression="@daily"', CRON, 'launchplan_kwargs={"fixed_inputs": {"nope": 1}}'),
     ("error", 1, 93, "launchplan_kwargs['fixed_inputs'] names 'nope', which is not an input")),
    ("launch plan setting not static", schedule('"a"', 'expression="@daily"', CRON, 'launchplan_kwargs={"labels": Labels({})}'),
     ("error", 1, 104, "the call to 'Labels' cannot be evaluated without running the app")),
]  # fmt: skip


@pytest.mark.parametrize("schedules, expected", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_invalid_schedule_is_refused_at_its_line(tmp_path, schedules, expected):
    result, diagnostics = generate(tmp_path, schedules)
    assert result is None
    errors = [d for d in diagnostics if d[0] == "error"]
    assert len(errors) == 1, diagnostics
    severity, line, column, message = errors[0]
    assert (severity, line, column) == expected[:3], errors[0]
    assert expected[3] in message


def test_duplicate_names_across_kinds_and_models_point_at_the_second_use(tmp_path):
    schedules = schedule('"nightly"', 'expression="@daily"', CRON) + schedule(
        '"nightly"', 'expression="@daily"', CRON, method="other.schedule_training"
    )
    _, diagnostics = generate(tmp_path, schedules)
    assert diagnostics == [
        ("error", 2, 25, "schedule name 'nightly' is already used by the training schedule at line "
                         f"{BASE + 1}"),
    ]  # fmt: skip


NEAR_VALID = [
    ("bare alias", 'expression="daily"', "@daily", "'daily' was rewritten to '@daily'"),
    ("upper-case descriptor", 'expression="@DAILY"', "@daily", "'@DAILY' was rewritten to '@daily'"),
    ("sunday as 7", 'expression="0 0 * * 7"', "0 0 * * 0", "day-of-week '7' was rewritten to '0'"),
    ("range to 7", 'expression="0 0 * * 5-7"', "0 0 * * 5-6,0", "rewritten"),
]


@pytest.mark.parametrize("argument, rewritten, note", [c[1:] for c in NEAR_VALID], ids=[c[0] for c in NEAR_VALID])
def test_cron_spellings_only_flytekit_accepts_are_rewritten_with_a_warning(tmp_path, argument, rewritten, note):
    result, diagnostics = generate(tmp_path, schedule('"a"', argument, CRON))
    assert result is not None, diagnostics
    [(severity, line, column, message)] = diagnostics
    assert (severity, line, column) == ("warning", 1, 41) and note in message
    assert (
        f'schedule=CronSchedule(schedule="{rewritten}", kickoff_time_input_arg="time")'
        in result.files["rules/launch_plans.py"]
    )


def test_offset_is_dropped_with_a_warning(tmp_path):
    result, diagnostics = generate(tmp_path, schedule('"a"', 'expression="0 0 * * *"', 'offset="PT1H"', CRON))
    assert diagnostics == [("warning", 1, 61, "schedule 'a': Flyte's native scheduler ignores `offset`, so the "
                                              "launch plan leaves it out")]  # fmt: skip
    assert "offset" not in result.files["rules/launch_plans.py"]
    assert "ignores the `offset`" in result.files["README.md"]


def test_fixed_rate_with_reader_time_arg_warns_and_takes_the_time_from_the_execution(tmp_path):
    result, diagnostics = generate(tmp_path, schedule('"a"', "fixed_rate=timedelta(hours=2)", CRON))
    assert [d[:3] for d in diagnostics] == [("warning", 1, 77)]
    assert "gives fixed-rate runs no kickoff time input" in diagnostics[0][3]
    plans = result.files["rules/launch_plans.py"]
    assert "workflows.model_train_at_scheduled_time" in plans and "kickoff_time_input_arg" not in plans
    assert "time = kickoff.scheduled_time(requested=kickoff_time)" in result.files["rules/workflows.py"]


def test_supported_launchplan_kwargs_become_launch_plan_settings(tmp_path):
    kwargs = ('launchplan_kwargs={"labels": {"team": "ml"}, "max_parallelism": 2, "service_account": "runner", '
              '"notifications": {"on_failure": ["ml@example.com"]}, "overwrite_cache": True, '
              '"fixed_inputs": {"labeled": False}}')  # fmt: skip
    result, diagnostics = generate(tmp_path, schedule('"a"', 'expression="@daily"', CRON, kwargs))
    assert diagnostics == []
    plans = result.files["rules/launch_plans.py"]
    for expected in ('labels=Labels({"team": "ml"})', "max_parallelism=2", "overwrite_cache=True",
                     'security_context=SecurityContext(run_as=Identity(k8s_service_account="runner"))',
                     '"labeled": False', "WorkflowExecutionPhase.FAILED"):  # fmt: skip
        assert expected in plans, expected


def test_a_model_name_starting_with_a_digit_gives_valid_class_names(tmp_path):
    app = tmp_path / "rules" / "app.py"
    app.parent.mkdir()
    app.write_text(
        APP.replace('Model(name="other"', 'Model(name="2024_classifier"') + schedule('"a"', 'expression="@daily"', CRON)
    )
    result = render_app(app, tmp_path / "out")
    workflows = result.files["rules/workflows.py"]
    assert (
        "class _2024ClassifierTraining(NamedTuple)" in workflows or "_2024ClassifierTraining = NamedTuple(" in workflows
    )
    compile(workflows, "workflows.py", "exec")


@pytest.mark.parametrize("argument", ["features=5", "targets=[1, 2]", 'features=[["a"]]', "targets={'y'}"])
def test_dataset_columns_that_are_not_names_are_an_error_at_the_argument(tmp_path, argument):
    app = APP.replace('Dataset(targets=["y"])', f"Dataset({argument})")
    path = tmp_path / "rules" / "app.py"
    path.parent.mkdir()
    path.write_text(app + schedule('"a"', 'expression="@daily"', CRON))
    with pytest.raises(AppError) as raised:
        render_app(path, tmp_path / "out")
    [error] = raised.value.diagnostics.errors
    line = app.splitlines().index(f"dataset = Dataset({argument})") + 1
    assert (error.position.line, error.position.column) == (line, len("dataset = Dataset(") + argument.index("=") + 2)
    assert "must be a list of column names" in error.message
