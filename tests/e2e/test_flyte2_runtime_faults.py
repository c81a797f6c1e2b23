"""The flyte2 target's model_registry.py under faults (issue 23, defect 5): `flyte.remote.Run` against the
Flyte 2 STAND-IN (tests/support/flyte2_standin.py) in the SDK's interpreter, the stand-in answering chosen
calls UNAVAILABLE (HTTP 503 with a Connect error, as a restarting control plane behind its proxy does).
Each read is retried with backoff for the codes that pass; NOT_FOUND fails at once. What the SDK tells the backend
about the failure decides whether the task runs again (its `retries=`): a model version that cannot be read is
recoverable, one that does not exist is not."""

from __future__ import annotations

import shutil

from .test_flyte2 import run_flyte2
from ..helpers import EXAMPLES, REPO

SCRIPT = """
import json, sys
from datetime import datetime, timezone
from pathlib import Path
from sklearn.linear_model import LogisticRegression
from flyte._internal.runtime.convert import convert_from_native_to_error
from digits_batch import model_registry, tasks

sys.path.insert(0, SUPPORT)
from flyte2_standin import Flyte2Standin

failing = {}  # method -> how many of its next calls are answered UNAVAILABLE


class Restarting(Flyte2Standin):
    def __call__(self, environ, start_response):
        method = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
        if failing.get(method):
            failing[method] -= 1
            self.calls.append(environ.get("PATH_INFO", ""))
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            body = b'{"code":"unavailable","message":"injected: the control plane restarts"}'
            start_response("503 Service Unavailable", [("Content-Type", "application/json"),
                                                       ("Content-Length", str(len(body)))])
            return [body]
        return super().__call__(environ, start_response)


recoverable = {}  # version -> whether the SDK reports its failure as recoverable (the task's retries apply)


def fetch(version):
    try:
        model = model_registry.fetch_model_object(version, "", task=TASK, model_type=LogisticRegression)
        return model.coef_.round(8).tolist()
    except Exception as error:
        recoverable[version] = convert_from_native_to_error(error).recoverable
        return f"{type(error).__name__}: {error}"


TASK = "digits-batch.digits_classifier_train"
week = datetime(2026, 11, 1, tzinfo=timezone.utc)
result = {}
with Restarting(Path("../blobs")) as standin:
    standin.init()
    standin.run(tasks.digits_classifier_train, name="weekly-v1", version="v1", created_at=week, time=week,
                hyperparameters={"C": 0.1, "max_iter": 1000})

    def calls(since):
        return [call.rsplit("/", 1)[-1] for call in standin.calls[since:]]

    result["plain"] = fetch("latest")
    failing["ListRuns"] = 6  # more than the SDK's own quick retries of UNAVAILABLE absorb
    since = len(standin.calls)
    result["restart"] = fetch("latest")
    result["restart_calls"] = calls(since)
    since = len(standin.calls)
    result["missing"] = fetch("no-such-run")
    result["missing_calls"] = calls(since)
    failing["ListRuns"] = 100
    since = len(standin.calls)
    result["down"] = fetch("latest")
    result["down_calls"] = calls(since)
result["recoverable"] = recoverable
result["task_retries"] = tasks.digits_classifier_predict_with_model_version_task.retries.count
result["file_task_retries"] = tasks.digits_classifier_predict_with_model_file_task.retries.count
print(json.dumps(result))
"""


def test_the_flyte2_model_lookup_retries_what_passes_and_not_a_missing_run(tmp_path, monkeypatch):
    monkeypatch.setenv("UNIONML_FLYTEADMIN_RETRIES", "3")
    monkeypatch.setenv("UNIONML_FLYTEADMIN_BACKOFF", "0.01")
    root = tmp_path / "digits_batch"
    shutil.copytree(EXAMPLES / "digits_batch", root, ignore=shutil.ignore_patterns("flyte"))
    found = run_flyte2(f"SUPPORT = {str(REPO / 'tests' / 'support')!r}\n" + SCRIPT, cwd=root / "flyte2")
    assert isinstance(found["plain"], list) and found["restart"] == found["plain"]
    assert found["restart_calls"].count("ListRuns") == 7  # six answered UNAVAILABLE, then the answer
    assert found["missing"].startswith("ModelVersionNotFound: model version 'no-such-run': no run of that name (")
    assert found["missing_calls"].count("GetRunDetails") == 1  # NOT_FOUND: asked once
    assert found["down"].startswith(
        "ModelVersionUnavailable: cannot reach the control plane to read model version 'latest' (UNAVAILABLE: "
    )
    # 4 attempts of model_registry's (the first and UNIONML_FLYTEADMIN_RETRIES=3), each of them the SDK's own
    # attempts (it retries UNAVAILABLE a few times at once: as many for each of ours)
    assert found["down"].endswith("; 4 attempts)")
    sdk_attempts, rest = divmod(found["down_calls"].count("ListRuns"), 4)
    assert rest == 0 and sdk_attempts < 6
    # the task runs again when the control plane stays away, never for a version that does not exist
    assert found["recoverable"] == {"no-such-run": False, "latest": True}
    assert found["task_retries"] == 3 and found["file_task_retries"] == 0  # only the task that fetches a model
