"""Fixed-rate schedules read their kickoff time from the execution (kickoff.py): a local run, which
has no scheduled time, uses its start time with a warning; a run on a cluster whose flyteadmin the
task cannot reach fails with a message that names what to configure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ..helpers import EXAMPLES, run_python


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copytree(EXAMPLES / "digits" / "flyte", tmp_path / "flyte")
    return tmp_path / "flyte"


LOCAL_RUN = """
import json
from datetime import datetime, timezone
from digits import kickoff
from digits.launch_plans import fixed_rate_training_schedule
before = datetime.now(timezone.utc)
used = kickoff.scheduled_time(requested=None)
after = datetime.now(timezone.utc)
outputs = fixed_rate_training_schedule()
print(json.dumps({"in_run": before <= used <= after, "utc": used.utcoffset().total_seconds() == 0,
                  "metrics": sorted(outputs.metrics)}))
"""


def test_a_local_fixed_rate_run_without_kickoff_time_uses_its_start_time_and_warns(project):
    result = run_python(LOCAL_RUN, cwd=project)
    assert json.loads(result.stdout.splitlines()[-1]) == {"in_run": True, "utc": True, "metrics": ["test", "train"]}
    assert result.stderr.count("a local run has no scheduled time: using its start time") == 2
    assert "pass kickoff_time=... to choose one" in result.stderr


ON_A_CLUSTER = """
import os
from flytekit.core.context_manager import ExecutionParameters, ExecutionState, FlyteContextManager
from flytekit.exceptions.user import FlyteRecoverableException
from flytekit.models.core.identifier import WorkflowExecutionIdentifier
from digits import kickoff

ctx = FlyteContextManager.current_context()
params = ExecutionParameters.new_builder(ctx.user_space_params)
params.execution_id = WorkflowExecutionIdentifier("ml", "production", "f3a9")
state = ctx.new_execution_state().with_params(mode=ExecutionState.Mode.TASK_EXECUTION, user_space_params=params.build())
with FlyteContextManager.with_context(ctx.with_execution_state(state)):
    try:
        print("RETURNED", kickoff.scheduled_time.execute(requested=None))
    except kickoff.KickoffTimeUnavailable as error:  # recoverable: Flyte runs the task again (retries=)
        recoverable = "recoverable" if isinstance(error, FlyteRecoverableException) else "not recoverable"
        print("RAISED", str(error).replace(os.linesep, " "), recoverable)
"""


def test_a_cluster_run_that_cannot_reach_flyteadmin_fails_naming_what_to_configure(project, monkeypatch):
    # a task execution (not local) of execution ml/production/f3a9, with flyteadmin at a closed port
    monkeypatch.setenv("FLYTE_PLATFORM_URL", "127.0.0.1:1")
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE", "true")
    monkeypatch.setenv("UNIONML_FLYTEADMIN_RETRIES", "2")  # retried with backoff: UNAVAILABLE passes, often
    monkeypatch.setenv("UNIONML_FLYTEADMIN_BACKOFF", "0.01")
    result = run_python(ON_A_CLUSTER, cwd=project)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("RAISED cannot read the scheduled time of execution ml/production/f3a9 from flyteadmin "
                           "(UNAVAILABLE: ")  # fmt: skip
    assert "; 3 attempts). " in last and "recoverable" in last
    assert "set FLYTE_PLATFORM_URL" in last and "Flyte config in the image" in last
    assert "launch the workflow with the `kickoff_time` input" in last
