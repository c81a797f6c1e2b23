"""Running a generated training launch plan locally gives exactly unionml 0.2.1's metrics.

The oracle is unionml itself: it imports the example app and calls `model.train(...)` with the
same hyperparameters and reader arguments. Each side runs in its own interpreter.
"""

from __future__ import annotations

import json
import shutil

import pytest

from ..helpers import EXAMPLES, run_python

KICKOFF = "datetime(2026, 11, 29, tzinfo=timezone.utc)"

UNIONML_ORACLE = """
import importlib.util, json, sys
from datetime import datetime, timezone
spec = importlib.util.spec_from_file_location("digits_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
assert type(app.model).__module__ == "unionml.model"
app.dataset._test_size = {test_size}  # unionml 0.2.1 ignores a schedule's splitter_kwargs; set the dataset's
_, metrics = app.model.train(hyperparameters={hyperparameters}, time={kickoff}, labeled=True)
print(json.dumps(metrics))
"""

GENERATED = """
import json
from datetime import datetime, timezone
from digits.launch_plans import {plan}
outputs = {plan}({kickoff_input}={kickoff})
print(json.dumps({{"metrics": outputs.metrics, "hyperparameters": outputs.hyperparameters,
                  "model": type(outputs.model_object).__name__}}))
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("fidelity")
    shutil.copy(EXAMPLES / "digits" / "app.py", root / "app.py")
    shutil.copytree(EXAMPLES / "digits" / "flyte", root / "flyte")
    return root


@pytest.mark.parametrize(
    "plan, kickoff_input, hyperparameters, test_size",
    [
        ("cron_daily_training", "time", {"C": 0.1, "max_iter": 1000}, 0.2),
        ("fixed_rate_training_schedule", "kickoff_time", {"C": 0.1, "max_iter": 1000}, 0.25),
    ],
)
def test_training_launch_plan_gives_unionml_metrics(workspace, plan, kickoff_input, hyperparameters, test_size):
    oracle = run_python(
        UNIONML_ORACLE.format(hyperparameters=hyperparameters, kickoff=KICKOFF, test_size=test_size), cwd=workspace
    )
    expected = json.loads(oracle.stdout.strip().splitlines()[-1])
    generated = run_python(
        GENERATED.format(plan=plan, kickoff_input=kickoff_input, kickoff=KICKOFF), cwd=workspace / "flyte"
    )
    actual = json.loads(generated.stdout.strip().splitlines()[-1])
    assert set(expected) == {"train", "test"}
    assert actual["metrics"] == expected  # exact floats, not approximately
    assert actual["hyperparameters"] == hyperparameters
    assert actual["model"] == "LogisticRegression"


UNIONML_SCHEDULES = """
import importlib.util, json
from dataclasses import asdict
from datetime import datetime, timezone
from unionml.schedule import create_scheduled_launchplan
spec = importlib.util.spec_from_file_location("digits_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
outcomes = {}
for schedule in app.model.training_schedules:  # what unionml 0.2.1's Model.deploy does with each schedule
    fields = asdict(schedule)
    for key in ("type", "activate_on_deploy"):
        fields.pop(key)
    kwargs = fields.pop("launchplan_kwargs", None) or {}
    try:
        plan = create_scheduled_launchplan(app.model.train_workflow(), **{**fields, **kwargs})
    except Exception as exc:
        outcomes[schedule.name] = ["build", type(exc).__name__, str(exc)]
        continue
    try:
        plan(**{fields["time_arg"]: datetime(2026, 11, 29, tzinfo=timezone.utc)})
        outcomes[schedule.name] = ["ran", "", ""]
    except Exception as exc:
        outcomes[schedule.name] = ["call", type(exc).__name__, str(exc)]
print(json.dumps(outcomes))
"""


def test_the_docs_say_what_fails_in_unionml_s_own_training_schedules(workspace):
    """docs/scheduling.md and README.md say exactly how unionml 0.2.1's training schedules of the digits example
    fail on the flytekit installed here, measured: built as its Model.deploy builds them, then called locally
    with the kickoff time alone."""
    outcomes = json.loads(run_python(UNIONML_SCHEDULES, cwd=workspace).stdout.strip().splitlines()[-1])
    assert sorted(outcomes) == ["cron_daily_training", "fixed_rate_training_schedule", "non_standard_training_schedule"]
    assert len({tuple(o[:2]) for o in outcomes.values()}) == 1, outcomes  # all three fail the same way
    stage, error, message = next(iter(outcomes.values()))
    assert stage in ("build", "call"), outcomes  # if unionml's schedules ever run, the docs must stop saying they fail
    docs = EXAMPLES.parent / "docs" / "scheduling.md"
    claim = f"{'building' if stage == 'build' else 'calling'} them fails with `{error}"
    for page in (docs, EXAMPLES.parent / "README.md"):
        assert claim in " ".join(page.read_text().split()), (page.name, claim, message)
