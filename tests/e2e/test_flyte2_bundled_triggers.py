"""Every trigger of every example runs from the files `flyte deploy` would bundle, and gives its flyte1 launch
plan's result (issue 22, "Done when").

Per example: the flyte2 project is deployed with `flyte.deploy(..., dry_run=True)` against the Flyte 2 stand-in
(tests/e2e/test_flyte2_triggers.py's BUNDLE), the code bundle its tasks name is extracted into an empty directory
by the SDK's `download_bundle`, as a task's container does, and each trigger's task runs there in the SDK's local
mode with the trigger's inputs, its `flyte.TriggerTime` bound to a fire time. The flyte1 project runs the launch
plan of the same name at the same kickoff as `unionml run --json` runs it (operate/local_run.py's runner, every
plan of an example in one process). Training gives the same metrics, prediction
the same predictions.

The triggers of a model-version schedule (`model_version="latest"` or a named version) look the model up on
the backend when they run; they are listed, and left to the stand-in tests of the operate commands.
"""

from __future__ import annotations

import json
import shutil

import pytest

from ..helpers import EXAMPLES, REPO, run_python
from .test_flyte2 import run_flyte2
from .test_flyte2_triggers import BUNDLE, _package

CASES = sorted(p.parent.name for p in EXAMPLES.glob("*/flyte2"))
FIRE = "2026-11-29T00:00:00Z"

#: What a task's container runs: every trigger of tasks.py with its own inputs, from the bundle's files.
RUN_TRIGGERS = """
import json, os
from datetime import datetime, timezone
os.environ.setdefault("KERAS_BACKEND", "torch")
import flyte
from {package} import tasks

fire = datetime(2026, 11, 29, tzinfo=timezone.utc)


def plain(value):
    if isinstance(value, dict):
        return {{str(k): plain(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return type(value).__name__  # a model object: its type, as `unionml run --json` shows it


results, needs_backend = {{}}, []
for task in vars(tasks).values():
    for trigger in getattr(task, "triggers", None) or ():
        if "model_version" in trigger.inputs:
            needs_backend.append(trigger.name)
            continue
        inputs = {{key: fire if value is flyte.TriggerTime else getattr(value, "value", value)
                   for key, value in trigger.inputs.items()}}
        run = flyte.with_runcontext(mode="local", disable_run_cache=True).run(task, **inputs)
        results[trigger.name] = plain(run.outputs())
print(json.dumps({{"results": results, "needs_backend": sorted(needs_backend)}}))
"""


#: The flyte1 side: each launch plan run as `unionml run OUT NAME --at FIRE --json` runs it, in one process.
RUN_PLANS = """
import json, os
os.environ.setdefault("KERAS_BACKEND", "torch")
from unionml_codegen.operate.kickoffs import parse_time
from unionml_codegen.operate.local_run import LocalRunner
from unionml_codegen.operate.project import load_project

project = load_project({out!r})
print(json.dumps({{name: LocalRunner(project, project.schedule(name)).run(parse_time({fire!r})).json()
                  for name in {names!r}}}))
"""


def _metrics_or_predictions(outputs):
    """The part of a run's outputs both targets must agree on: the metrics dict, or the predictions."""
    found = []

    def walk(value):
        if isinstance(value, dict) and set(value) >= {"train", "test"}:
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list) and value and all(not isinstance(v, (dict, list)) for v in value):
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(outputs)
    assert len(found) == 1, outputs
    return found[0]


@pytest.mark.parametrize("case", CASES)
def test_every_trigger_runs_from_the_bundled_files_and_gives_the_flyte1_plans_result(case, tmp_path):
    shutil.copytree(EXAMPLES / case, tmp_path / case)
    project = tmp_path / case / "flyte2"
    package = _package(project)
    dest = tmp_path / "container"
    dest.mkdir()
    support = str(REPO / "tests" / "support")
    code = f"SUPPORT = {support!r}\nPACKAGE = {package!r}\nDEST = {str(dest)!r}\nBLOBS = {str(tmp_path / 'blobs')!r}\n"
    run_flyte2(code + BUNDLE, cwd=project)
    assert (dest / package / "tasks.py").is_file() and not (dest / "README.md").exists()
    shutil.rmtree(tmp_path / case / "flyte2")  # nothing but the bundle is left to read
    for where in DATA.get(case, ()):  # data outside the project the app names (a database), both sides
        DATA[case][where](dest if where == "container" else tmp_path / case)
    ran = run_flyte2(RUN_TRIGGERS.format(package=package), cwd=dest)
    triggers = ran["results"]
    assert triggers or ran["needs_backend"], ran
    out = str(tmp_path / case / "flyte")
    plans = run_python(RUN_PLANS.format(out=out, fire=FIRE, names=sorted(triggers)), cwd=tmp_path / case)
    flyte1 = json.loads(plans.stdout.strip().splitlines()[-1])
    for name, outputs in sorted(triggers.items()):
        assert flyte1[name]["ok"], flyte1[name]
        expected = _metrics_or_predictions(flyte1[name]["outputs"])
        got = _metrics_or_predictions(outputs)
        if isinstance(expected, dict):
            assert got == pytest.approx(expected, abs=1e-12), (name, got, expected)
        else:
            assert got == expected, name
    assert sorted(ran["needs_backend"]) == sorted(MODEL_VERSION_TRIGGERS.get(case, [])), ran["needs_backend"]


def _shop_database(directory):
    """The database examples/sql_reader's SQLite3Config(uri="shop.db") names, relative to the run's directory."""
    import sqlite3

    rows = [(1.0 + i % 4, 2.5 - (i % 3), float(i % 5), i % 2) for i in range(40)]
    with sqlite3.connect(directory / "shop.db") as connection:
        connection.execute("CREATE TABLE mock_table (x1 REAL, x2 REAL, x3 REAL, y INTEGER)")
        connection.executemany("INSERT INTO mock_table VALUES (?, ?, ?, ?)", rows)


#: Data an example's app reads from outside its project, made for the container and for the flyte1 run.
DATA = {"sql_reader": {"container": _shop_database, "flyte1": _shop_database}}

#: The examples' triggers of model-version schedules (the model is looked up on the backend at run time).
MODEL_VERSION_TRIGGERS = {
    "digits_batch": ["hourly_predictions_with_latest_model"],
    "keras_digits": ["nightly"],
    "pytorch_sketches": ["daily_sketch_predictions"],
    "seed_guide": ["daily_predictions_with_remote_model"],
}
