"""The flyte2 target (`--target flyte2`): committed Flyte 2 projects regenerate byte for byte, and run
with the flyte 2.x SDK exactly as unionml 0.2.1 (and the flyte1 target) do.

The generated projects run in `.venv-flyte2` (scripts/setup-flyte2: the flyte SDK pins dependencies
flytekit's venv cannot share), in a fresh interpreter per project, with flytekit made unimportable:
- the training task, run in the SDK's local mode with a trigger's inputs and a fire time bound where the
  trigger has `flyte.TriggerTime`, gives exactly unionml's metrics (and the flyte1 launch plan's);
- prediction with the vendored model file gives unionml's predictions, and a model version resolves
  through the real `flyte.remote.Run` against tests/support/flyte2_standin.py (a stand-in for the
  Flyte 2 control plane holding real local runs of the training task) to the same predictions;
- each trigger serializes with the SDK's own serializer (`to_task_trigger`, as `flyte deploy` does),
  and the decoded protobuf shows its name, cron or rate, time binding and fixed inputs.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import black
import pytest

from unionml_codegen.options import Options
from unionml_codegen.generate import render_app

from ..helpers import EXAMPLES, REPO, read_tree, run_cli, run_python

CASES = sorted(p.parent.name for p in EXAMPLES.glob("*/flyte2"))
FLYTEKIT_IMPORT = re.compile(r"^\s*(import|from)\s+flytekit\b", re.MULTILINE)


def flyte2_python() -> Path:
    """The interpreter of .venv-flyte2: beside this checkout, or beside the venv running the tests (a
    worktree sharing the main checkout's venv), or FLYTE2_PYTHON."""
    candidates = [os.environ.get("FLYTE2_PYTHON"), REPO / ".venv-flyte2" / "bin" / "python",
                  Path(sys.prefix).parent / ".venv-flyte2" / "bin" / "python"]  # fmt: skip
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    pytest.fail("no .venv-flyte2 with the flyte 2.x SDK: run `bash scripts/setup-flyte2` (scripts/setup does)")


def run_flyte2(code: str, cwd: Path) -> dict:
    """Run `code` with the flyte SDK (flytekit unimportable), return the JSON its last line prints."""
    guard = "import sys\nsys.modules['flytekit'] = None  # a Flyte 2 project must not need flytekit\n"
    with tempfile.TemporaryDirectory() as home:  # what the SDK keeps in the home directory stays here
        result = subprocess.run(
            [str(flyte2_python()), "-c", guard + code], cwd=cwd, capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": home, "KERAS_BACKEND": "torch"},
        )  # fmt: skip
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def _options(case: str) -> Options:
    args_file = EXAMPLES / case / "generate.args"
    words = args_file.read_text().split() if args_file.exists() else []
    return Options(models=dict(w.split("=", 1) for w in words[1::2]), target="flyte2")


@pytest.mark.parametrize("case", CASES)
def test_flyte2_example_matches_committed_project(case):
    committed = EXAMPLES / case / "flyte2"
    result = render_app(EXAMPLES / case / "app.py", committed, _options(case))
    generated = {path: c.encode() if isinstance(c, str) else c for path, c in result.files.items()}
    on_disk = read_tree(committed)
    if generated != on_disk:
        diff = []
        for path in sorted(set(generated) | set(on_disk)):
            old, new = on_disk.get(path, b""), generated.get(path, b"")
            if old != new:
                diff += difflib.unified_diff(
                    old.decode(errors="replace").splitlines(True), new.decode(errors="replace").splitlines(True),
                    f"a/{path}", f"b/{path}",
                )  # fmt: skip
        pytest.fail(
            f"examples/{case}/flyte2 is stale; refresh it with `bash scripts/regenerate-examples`\n" + "".join(diff)
        )
    for path, text in generated.items():
        copied = (EXAMPLES / case / path).is_file() or (EXAMPLES / case / path.split("/", 1)[-1]).is_file()
        if path.endswith(".py") and not copied:  # the app's own modules are copied as they are
            assert black.format_str(text.decode(), mode=black.Mode()) == text.decode(), path
            assert not FLYTEKIT_IMPORT.search(text.decode()), path  # sqlite_query.py's docs name flytekit


def test_check_without_target_keeps_the_recorded_target():
    app_dir = EXAMPLES / "seed_guide"  # --check writes nothing
    result = run_cli("generate", "app.py", "-o", "flyte2", "--check", cwd=app_dir)
    assert result.returncode == 0, result.stderr  # the manifest's --model bindings and target
    result = run_cli("generate", "app.py", "-o", "flyte2", "--check", "--target", "flyte1", cwd=app_dir)
    assert result.returncode == 1, result.stderr
    assert "--target flyte1" in result.stderr
    result = run_cli("generate", "app.py", "-o", "flyte2", "--check", "--target", "flyte3", cwd=app_dir)
    assert result.returncode == 2 and "'flyte3' is not one of 'flyte1', 'flyte2'" in result.stderr


def test_flyte2_output_is_deterministic_and_written_as_safely_as_flyte1(tmp_path):
    trees = []
    for seed, where in (("1", "a"), ("987", "b/deeper")):
        app_dir = tmp_path / where / "digits"
        app_dir.mkdir(parents=True)
        shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
        result = run_cli("generate", "app.py", "-o", "out", "--target", "flyte2", cwd=app_dir,
                         env={"PYTHONHASHSEED": seed})  # fmt: skip
        assert result.returncode == 0, result.stderr
        trees.append(read_tree(app_dir / "out"))
    assert trees[0] == trees[1]
    assert all(str(tmp_path).encode() not in data for data in trees[0].values())
    triggers = app_dir / "out" / "digits" / "triggers.py"
    original = triggers.read_text()
    triggers.write_text(original.replace("FixedRate(1440)", "FixedRate(60)"))
    check = run_cli("generate", "app.py", "-o", "out", "--check", cwd=app_dir)  # the target from the manifest
    assert check.returncode == 1 and "changed: digits/triggers.py" in check.stderr
    diff = run_cli("generate", "app.py", "-o", "out", "--diff", cwd=app_dir)
    assert diff.returncode == 1 and "-    automation=flyte.FixedRate(60)," in diff.stdout
    refused = run_cli("generate", "app.py", "-o", "out", cwd=app_dir)
    assert refused.returncode == 2 and "edited since" in refused.stderr
    assert "FixedRate(60)" in triggers.read_text()  # left as it was
    forced = run_cli("generate", "app.py", "-o", "out", "--force", cwd=app_dir)
    assert forced.returncode == 0 and triggers.read_text() == original


# Training: unionml (and the flyte1 launch plan) against the flyte2 task, at two fire times.

FIRES = {"cron_daily_training": "datetime(2026, 11, 29, tzinfo=timezone.utc)",
         "fixed_rate_training_schedule": "datetime(2026, 11, 7, 13, 30, tzinfo=timezone.utc)"}  # fmt: skip
TEST_SIZES = {"cron_daily_training": 0.2, "fixed_rate_training_schedule": 0.25}

UNIONML = """
import importlib.util, json
from datetime import datetime, timezone
spec = importlib.util.spec_from_file_location("digits_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
assert type(app.model).__module__ == "unionml.model"
metrics = {{}}
for name, (fire, test_size) in {runs}.items():
    app.dataset._test_size = test_size  # unionml 0.2.1 ignores a schedule's splitter_kwargs; set the dataset's
    _, metrics[name] = app.model.train(hyperparameters={{"C": 0.1, "max_iter": 1000}}, time=eval(fire), labeled=True)
# predictions of the model the last run trained, on that run's data
metrics["predictions"] = app.model.predict(time=eval(fire), labeled=False)[:50]
print(json.dumps(metrics))
"""

FLYTE1 = """
import json
from datetime import datetime, timezone
from digits.launch_plans import cron_daily_training
print(json.dumps(cron_daily_training(time={fire}).metrics))
"""

FLYTE2 = """
import asyncio, json
from datetime import datetime, timezone
import flyte, flyte.types
from flyte._internal.runtime.convert import convert_upload_default_inputs
from flyte._internal.runtime.trigger_serde import to_task_trigger
from flyte._internal.runtime.types_serde import transform_native_to_typed_interface
from flyteidl2.task import task_definition_pb2
from google.protobuf.json_format import MessageToDict
from digits import tasks, triggers
from digits.trigger_inputs import run_inputs

result = {"runs": {}, "serialized": {}}
for name, fire in FIRES.items():
    trigger = getattr(triggers, name)
    inputs = run_inputs(trigger, eval(fire))  # as the README and docs/flyte2.md run a trigger locally
    run = flyte.with_runcontext(mode="local", disable_run_cache=True).run(tasks.digits_classifier_train, **inputs)
    model_object, hyperparameters, metrics = run.outputs()
    predictions = flyte.with_runcontext(mode="local").run(
        tasks.digits_classifier_predict, model_object=model_object, time=eval(fire), labeled=False
    ).outputs()[0]
    result["runs"][name] = {"metrics": metrics, "hyperparameters": hyperparameters,
                            "model": type(model_object).__name__, "predictions": predictions[:50]}

async def serialize():
    task = tasks.digits_classifier_train
    interface = transform_native_to_typed_interface(task.native_interface)
    defaults = await convert_upload_default_inputs(task.native_interface)
    types = task.native_interface.get_input_types()
    for trigger in task.triggers:
        wire = await to_task_trigger(trigger, task.name, interface.inputs, defaults)
        message = task_definition_pb2.TaskTrigger.FromString(wire.SerializeToString())
        inputs = {literal.name: await flyte.types.TypeEngine.to_python_value(literal.value, types[literal.name])
                  for literal in message.spec.inputs.literals}
        result["serialized"][message.name] = {
            "active": message.spec.active, "automation": MessageToDict(message.automation_spec),
            "inputs": inputs, "context": {kv.key: kv.value for kv in message.spec.inputs.context},
        }

asyncio.run(serialize())
result["triggers_on_task"] = [t.name for t in tasks.digits_classifier_train.triggers]
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def digits_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("flyte2_digits")
    shutil.copy(EXAMPLES / "digits" / "app.py", root / "app.py")
    shutil.copytree(EXAMPLES / "digits" / "flyte", root / "flyte")
    shutil.copytree(EXAMPLES / "digits" / "flyte2", root / "flyte2")
    runs = {name: (fire, TEST_SIZES[name]) for name, fire in FIRES.items()}
    unionml = json.loads(run_python(UNIONML.format(runs=runs), cwd=root).stdout.strip().splitlines()[-1])
    flyte1 = json.loads(
        run_python(FLYTE1.format(fire=FIRES["cron_daily_training"]), cwd=root / "flyte").stdout.strip().splitlines()[-1]
    )
    flyte2 = run_flyte2(f"FIRES = {FIRES!r}\n" + FLYTE2, cwd=root / "flyte2")
    return root, unionml, flyte1, flyte2


@pytest.mark.parametrize("trigger", sorted(FIRES))
def test_training_task_at_a_fire_time_gives_unionml_metrics(digits_runs, trigger):
    _, unionml, flyte1, flyte2 = digits_runs
    run = flyte2["runs"][trigger]
    assert set(unionml[trigger]) == {"train", "test"}
    assert run["metrics"] == unionml[trigger]  # exact floats
    assert run["hyperparameters"] == {"C": 0.1, "max_iter": 1000}
    assert run["model"] == "LogisticRegression"
    if trigger == "cron_daily_training":
        assert run["metrics"] == flyte1
    assert unionml["cron_daily_training"] != unionml["fixed_rate_training_schedule"]  # the fire time matters


def test_prediction_task_gives_unionml_predictions(digits_runs):
    _, unionml, _, flyte2 = digits_runs
    assert list(unionml)[-2] == "fixed_rate_training_schedule"  # unionml predicts with the model it trained last
    assert len(unionml["predictions"]) == 50
    assert flyte2["runs"]["fixed_rate_training_schedule"]["predictions"] == unionml["predictions"]


def test_triggers_serialize_with_the_sdk_as_the_app_says(digits_runs):
    _, _, _, flyte2 = digits_runs
    serialized = flyte2["serialized"]
    assert flyte2["triggers_on_task"] == ["cron_daily_training", "non_standard_training_schedule",
                                          "fixed_rate_training_schedule"]  # fmt: skip
    cron = serialized["cron_daily_training"]
    assert cron["active"] is True
    assert cron["automation"] == {
        "type": "TYPE_SCHEDULE",
        "schedule": {"cron": {"expression": "0 0 * * *", "timezone": "UTC"}, "kickoffTimeInputArg": "time"},
    }
    assert cron["context"] == {"_u_kickoff_time_input_arg": "time"}  # the runtime fills `time` at each fire
    assert cron["inputs"] == {
        "hyperparameters": {"C": 0.1, "max_iter": 1000},
        "loader_kwargs": {},
        "splitter_kwargs": {"test_size": 0.2, "shuffle": True, "random_state": 12345},
        "parser_kwargs": {"features": None, "targets": ["target"]},
        "labeled": True,  # the task's default, carried by the SDK
    }
    assert serialized["non_standard_training_schedule"]["automation"]["schedule"]["cron"]["expression"] == "@daily"
    assert serialized["non_standard_training_schedule"]["inputs"]["hyperparameters"] == {"C": 1.0, "max_iter": 1000}
    rate = serialized["fixed_rate_training_schedule"]
    assert rate["automation"] == {
        "type": "TYPE_SCHEDULE",
        "schedule": {"rate": {"value": 1440, "unit": "FIXED_RATE_UNIT_MINUTE"}, "kickoffTimeInputArg": "time"},
    }  # a fixed-rate trigger gets its fire time too: no workaround as in flyte1
    assert rate["inputs"]["splitter_kwargs"] == {"test_size": 0.25, "shuffle": True, "random_state": 12345}


# Prediction schedules: a vendored model file and a model version.

BATCH_UNIONML = """
import importlib.util, json
from datetime import datetime, timezone
import unionml.remote
from unionml.model import ModelArtifact
unionml.remote.get_model_artifact = lambda *args, **kwargs: ModelArtifact(None)
spec = importlib.util.spec_from_file_location("digits_batch_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
app.model.artifact = ModelArtifact(app.model.load("model.joblib"))
print(json.dumps(app.model.predict(time=datetime(2026, 11, 29, tzinfo=timezone.utc), labeled=False)))
"""

BATCH_FLYTE2 = """
import json, sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
import flyte
from flyte.remote import Run
from sklearn.linear_model import LogisticRegression
from digits_batch import model_registry, tasks, triggers

sys.path.insert(0, SUPPORT)
from flyte2_standin import Flyte2Standin

fire = datetime(2026, 11, 29, tzinfo=timezone.utc)
result = {}
trigger = triggers.daily_predictions
inputs = {key: fire if value is flyte.TriggerTime else value for key, value in trigger.inputs.items()}
result["file"] = flyte.with_runcontext(mode="local").run(
    tasks.digits_classifier_predict_with_model_file, **inputs).outputs()[0]
result["version_trigger"] = {k: ("TriggerTime" if v is flyte.TriggerTime else v)
                             for k, v in triggers.hourly_predictions_with_latest_model.inputs.items()}

def error(call):
    try:
        call()
    except Exception as e:
        return f"{type(e).__name__}: {e}"

data = tasks.components.reader(time=fire, labeled=False)
train, task = tasks.digits_classifier_train, "digits-batch.digits_classifier_train"
week = datetime(2026, 11, 1, tzinfo=timezone.utc)  # the day unionml trained model.joblib's model
with Flyte2Standin(Path("../blobs")) as standin:
    standin.init()
    standin.run(train, name="weekly-v1", version="v1", created_at=week, time=week,
                hyperparameters={"C": 1e-4, "max_iter": 1000})
    standin.run(train, name="weekly-v2", version="v2", created_at=week + timedelta(days=7), time=week,
                hyperparameters={"C": 0.1, "max_iter": 1000})
    standin.run(train, name="weekly-v2-retry", version="v2", created_at=week + timedelta(days=14), time=week,
                hyperparameters={"C": -1.0})  # LogisticRegression refuses it: the newest run failed
    result["phases"] = {r.name: r.phase.value for r in Run.listall(sort_by=("created_at", "asc"))}

    def version(model_version, app_version=""):
        model = model_registry.fetch_model_object(model_version, app_version, task=task, model_type=LogisticRegression)
        return {"C": model.C, "predictions": tasks.predict_digits_classifier(model, data)}

    result["latest"] = version("latest")
    result["latest_v1"] = version("latest", "v1")
    result["named_v1"] = version("weekly-v1")
    result["latest_v3"] = error(lambda: version("latest", "v3"))
    result["unknown"] = error(lambda: version("no-such-run"))
    result["named_failed"] = error(lambda: version("weekly-v2-retry"))
    result["other_task"] = error(lambda: model_registry.fetch_model_object(
        "weekly-v1", "", task="digits-batch.other_train", model_type=LogisticRegression))
    result["unknown_filter"] = error(lambda: list(Run.listall(created_by_subject="someone")))
    result["rpcs"] = sorted(set(standin.calls))
print(json.dumps(result))
"""


def test_prediction_triggers_give_unionml_predictions_with_file_and_version(tmp_path):
    """A model file, and model versions resolved by the real `flyte.remote.Run` against the Flyte 2
    stand-in holding real local runs of the training task: two succeeded of task versions v1 and v2,
    and a newer v2 one that failed."""
    root = tmp_path / "digits_batch"
    shutil.copytree(EXAMPLES / "digits_batch", root, ignore=shutil.ignore_patterns("flyte"))
    expected = json.loads(run_python(BATCH_UNIONML, cwd=root).stdout.strip().splitlines()[-1])
    support = str(REPO / "tests" / "support")
    actual = run_flyte2(f"SUPPORT = {support!r}\n" + BATCH_FLYTE2, cwd=root / "flyte2")
    assert len(expected) == 100
    assert actual["file"] == expected
    assert actual["version_trigger"] == {"time": "TriggerTime", "model_version": "latest", "app_version": "",
                                         "labeled": False}  # fmt: skip
    assert actual["phases"] == {"weekly-v1": "succeeded", "weekly-v2": "succeeded", "weekly-v2-retry": "failed"}
    # "latest": the newest SUCCEEDED run, v2, trained as unionml trained model.joblib: its predictions
    assert actual["latest"] == {"C": 0.1, "predictions": expected}
    # "latest" of app version v1, and v1's run by name: the other model, which predicts otherwise
    assert actual["latest_v1"]["C"] == 0.0001 and actual["latest_v1"]["predictions"] != expected
    assert actual["named_v1"] == actual["latest_v1"]
    assert (
        actual["latest_v3"]
        == "ModelVersionNotFound: no successful run of digits-batch.digits_classifier_train version v3"
    )
    assert actual["unknown"].startswith("ModelVersionNotFound: model version 'no-such-run': no run of that name (")
    assert "not found" in actual["unknown"]
    assert actual["named_failed"] == ("ModelVersionNotFound: model version 'weekly-v2-retry': the run of "
                                      "digits-batch.digits_classifier_train ended failed, not succeeded")  # fmt: skip
    assert actual["other_task"] == ("ModelVersionNotFound: model version 'weekly-v1' is a run of "
                                    "digits-batch.digits_classifier_train, not of digits-batch.other_train")  # fmt: skip
    assert "cannot filter runs on 'created_by'" in actual["unknown_filter"]  # an unknown filter fails
    assert actual["rpcs"] == ["/flyteidl2.cluster.ClusterService/SelectCluster",
                              "/flyteidl2.dataproxy.DataProxyService/GetActionData",
                              "/flyteidl2.workflow.RunService/GetRunDetails",
                              "/flyteidl2.workflow.RunService/ListRuns"]  # fmt: skip


# Every example's triggers, serialized by the SDK, against the flyte1 project's launch plans of the same app.

SERIALIZE_ALL = """
import asyncio, importlib, json, sys
import flyte, flyte.types
from flyte._internal.runtime.convert import convert_upload_default_inputs
from flyte._internal.runtime.trigger_serde import to_task_trigger
from flyte._internal.runtime.types_serde import transform_native_to_typed_interface
from flyteidl2.task import task_definition_pb2
from google.protobuf.json_format import MessageToDict

from pathlib import Path
from flyte._internal.imagebuild.image_builder import ImageCache
from flyte._internal.runtime.task_serde import translate_task_to_wire
from flyte.models import SerializationContext

async def main(package, directory):
    tasks = importlib.import_module(package + ".tasks")
    found = {}
    # every task as `flyte deploy` sends it (the image as the builder would name it)
    envs = [tasks.env, *tasks.env.depends_on]  # the drivers, and the work environment they deploy with them
    context = SerializationContext(version="check", root_dir=Path(directory),
                                   image_cache=ImageCache(image_lookup={e.name: "registry.example/img:1" for e in envs}))
    wire = {}
    for task in [task for env in envs for task in env.tasks.values()]:
        template = translate_task_to_wire(task, context, await convert_upload_default_inputs(task.interface)).task_template
        wire[template.id.name] = {"args": list(template.container.args)[-4:], "image": template.container.image,
                                  "requests": sorted((r.name, r.value) for r in template.container.resources.requests),
                                  "cached": template.metadata.discoverable}
    found["__tasks__"] = wire
    for task in [task for env in envs for task in env.tasks.values()]:
        interface = transform_native_to_typed_interface(task.native_interface)
        defaults = await convert_upload_default_inputs(task.native_interface)
        types = task.native_interface.get_input_types()
        for trigger in task.triggers:
            wire = await to_task_trigger(trigger, task.name, interface.inputs, defaults)
            message = task_definition_pb2.TaskTrigger.FromString(wire.SerializeToString())
            found[message.name] = {
                "task": task.name, "active": message.spec.active,
                "schedule": MessageToDict(message.automation_spec.schedule),
                "inputs": {l.name: await flyte.types.TypeEngine.to_python_value(l.value, types[l.name])
                           for l in message.spec.inputs.literals},
            }
    return found

result = {}
for directory, package in PROJECTS:
    sys.path.insert(0, directory)
    result[package] = asyncio.run(main(package, directory))
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def example_triggers():
    """Every example's triggers as the SDK serializes them, by package (one interpreter for all)."""
    projects = [(str(EXAMPLES / case / "flyte2"), _package(case)) for case in CASES]
    return run_flyte2(f"PROJECTS = {projects!r}\n" + SERIALIZE_ALL, cwd=EXAMPLES)


def _package(case: str) -> str:
    return json.loads((EXAMPLES / case / "flyte2" / ".unionml-codegen.json").read_text())["options"]["package"]


@pytest.mark.parametrize("case", CASES)
def test_every_example_trigger_serializes_as_its_flyte1_launch_plan_says(case, example_triggers):
    manifest = json.loads((EXAMPLES / case / "flyte" / ".unionml-codegen.json").read_text())
    triggers = dict(example_triggers[_package(case)])
    tasks = triggers.pop("__tasks__")
    environment = _package(case).replace("_", "-")
    drivers = {plan["workflow"].split(".")[-1].replace("_at_scheduled_time", "") for plan in manifest["schedules"]}
    for name, task in tasks.items():  # every task translates as `flyte deploy` sends it
        env_name, function = name.split(".", 1)
        assert env_name in (environment, f"{environment}-work")
        assert task["args"] == ["mod", f"{_package(case)}.tasks", "instance", function]
        assert task["image"] == "registry.example/img:1"
        if env_name == environment:  # a driver: a quarter of a CPU, the work's memory (CPU, MEMORY)
            assert task["requests"] == [[1, "250m"], [3, "1Gi"]] and not task["cached"]
        else:  # the work: unionml's defaults, on its environment
            assert task["requests"] == [[1, "1"], [3, "1Gi"]]
            assert function not in drivers
    assert {f"{environment}.{function}" for function in drivers} <= set(tasks)  # the triggers' tasks are drivers
    trained = [name for name in tasks if name.endswith("_train_task")]
    cached = "cache=True" in (EXAMPLES / case / "app.py").read_text()  # on the trainer, where an example has it
    assert trained and all(tasks[name]["cached"] == cached for name in trained)
    assert list(triggers) == [s["name"] for s in manifest["schedules"]]  # one trigger per schedule, in order
    for plan in manifest["schedules"]:
        _assert_trigger_runs_schedule(triggers[plan["name"]], plan)


def _assert_trigger_runs_schedule(trigger: dict, plan: dict) -> None:
    """A decoded trigger runs a schedule as the flyte1 manifest records it from the app."""
    schedule = trigger["schedule"]
    if "cron" in plan["schedule"]:
        assert schedule["cron"] == {"expression": plan["schedule"]["cron"], "timezone": "UTC"}
    else:
        minutes = plan["schedule"]["fixed_rate_seconds"] // 60
        assert schedule["rate"] == {"value": minutes, "unit": "FIXED_RATE_UNIT_MINUTE"}
    assert schedule.get("kickoffTimeInputArg") == plan["time_input"]  # cron and fixed rate alike
    assert trigger["active"] == plan["activate_on_deploy"]
    assert plan["fixed_inputs_python"] == {}
    fixed = dict(plan["fixed_inputs"])
    fixed.pop("kickoff_time", None)
    assert {k: trigger["inputs"][k] for k in fixed} == fixed
    assert trigger["task"].split(".")[-1] == plan["workflow"].split(".")[-1].replace("_at_scheduled_time", "")


# `flyte deploy` of a generated project against the Flyte 2 stand-in, the image known as built before.

DEPLOY = """
import asyncio, json, sys
from pathlib import Path
import flyte.types
from flyte.cli.main import main
from flyteidl2.task import task_definition_pb2
from google.protobuf.json_format import MessageToDict

sys.path.insert(0, SUPPORT)
from flyte2_standin import Flyte2Standin

sys.path.insert(0, ".")
tasks = __import__(PACKAGE + ".tasks", fromlist=["env"])
image = tasks.env.image.uri.rsplit("/", 1)[-1]  # name:tag, as the SDK asks the image service for it
with Flyte2Standin(Path("../blobs")) as standin:
    standin.images[image] = "registry.example/" + image  # built before: `flyte deploy` builds nothing
    Path("config.yaml").write_text(f"admin:\\n  endpoint: {standin.endpoint}\\n  insecure: true\\n"
                                   "image:\\n  builder: remote\\ntask:\\n  project: flytesnacks\\n  domain: development\\n")
    main(["--config", "config.yaml", "deploy", "--copy-style", "none", "--version", "v1", f"{PACKAGE}/tasks.py", "env"],
         standalone_mode=False)

async def decode(request):
    task = {task.name: task for env in (tasks.env, *tasks.env.depends_on) for task in env.tasks.values()}[
        request.task_id.name]
    types = task.native_interface.get_input_types()
    found = {}
    for trigger in request.triggers:
        message = task_definition_pb2.TaskTrigger.FromString(trigger.SerializeToString())
        found[message.name] = {
            "task": request.task_id.name, "active": message.spec.active,
            "schedule": MessageToDict(message.automation_spec.schedule),
            "inputs": {l.name: await flyte.types.TypeEngine.to_python_value(l.value, types[l.name])
                       for l in message.spec.inputs.literals},
        }
    return found

triggers = {}
for request in standin.tasks.values():
    triggers.update(asyncio.run(decode(request)))
print(json.dumps({"tasks": sorted([name, version, r.spec.task_template.container.image]
                                  for (name, version), r in standin.tasks.items()),
                  "env_tasks": sorted(task.name for env in (tasks.env, *tasks.env.depends_on)
                                      for task in env.tasks.values()),
                  "image": "registry.example/" + image, "triggers": triggers, "rpcs": sorted(set(standin.calls))}))
"""


def test_flyte_deploy_sends_every_task_and_the_triggers_the_app_schedules(tmp_path):
    """`flyte deploy --copy-style none --version v1` (the SDK's CLI, in process) of examples/digits/flyte2
    against the stand-in: the image is one the image service knows (no build), the trigger inputs stay
    inline (the stand-in refuses OPERATION_UPLOAD_TRIGGER, as a backend without zero trust does)."""
    root = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", root, ignore=shutil.ignore_patterns("flyte"))
    support = str(REPO / "tests" / "support")
    deployed = run_flyte2(f"SUPPORT = {support!r}\nPACKAGE = 'digits'\n" + DEPLOY, cwd=root / "flyte2")
    assert [name for name, _, _ in deployed["tasks"]] == deployed["env_tasks"]  # every task, once
    assert {(version, image) for _, version, image in deployed["tasks"]} == {("v1", deployed["image"])}
    manifest = json.loads((EXAMPLES / "digits" / "flyte" / ".unionml-codegen.json").read_text())
    assert sorted(deployed["triggers"]) == sorted(plan["name"] for plan in manifest["schedules"])
    for plan in manifest["schedules"]:
        _assert_trigger_runs_schedule(deployed["triggers"][plan["name"]], plan)
    assert deployed["rpcs"] == ["/flyteidl2.cluster.ClusterService/SelectCluster",
                                "/flyteidl2.imagebuilder.ImageService/GetImage",
                                "/flyteidl2.task.TaskService/DeployTask"]  # fmt: skip


# PyTorch: the module crosses tasks as the SDK moves types it has no transformer for (pickled).

TORCH = """
import json
from datetime import datetime
import flyte, torch
from digits_torch import components, dataset_defaults, tasks, triggers

fire = datetime(2026, 11, 29)
result = {}
def inputs(trigger):
    return {key: fire if value is flyte.TriggerTime else value for key, value in trigger.inputs.items()}
module, hyperparameters, metrics = flyte.with_runcontext(mode="local", disable_run_cache=True).run(
    tasks.digits_net_train, **inputs(triggers.weekly)).outputs()
result["trained"] = {"metrics": metrics, "type": type(module).__name__, "hidden": module.layers[0].out_features,
                     "hyperparameters": hyperparameters}
data = components.reader(fire, labeled=True)  # the same steps by hand
splits = dict(zip(("train", "test"), dataset_defaults.split(data, test_size=0.2, shuffle=True, random_state=12345)))
parsed = {key: dataset_defaults.parse(split, features=None, targets=["target"]) for key, split in splits.items()}
by_hand = components.trainer(components.DigitsNet(hidden=24, seed=3), *parsed["train"])
result["by_hand"] = {key: components.evaluator(by_hand, *columns) for key, columns in parsed.items()}
result["scheduled"] = flyte.with_runcontext(mode="local").run(
    tasks.digits_net_predict_with_model_file, **inputs(triggers.nightly)).outputs()[0]
saved = torch.load("../net.pt")
net = components.DigitsNet(**saved["hyperparameters"])
net.load_state_dict(saved["model_obj"])
result["expected"] = components.predictor(net, components.reader(fire, labeled=False))
print(json.dumps(result))
"""


def test_pytorch_module_trains_and_a_model_file_predicts_under_flyte2(tmp_path):
    import torch

    from .test_pytorch import APP

    app_dir = tmp_path / "digits_torch"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(APP)
    namespace: dict = {}
    exec(compile(APP.split("dataset = Dataset")[0], "app.py", "exec"), namespace)
    torch.manual_seed(7)
    torch.save({"model_obj": namespace["DigitsNet"](hidden=12).state_dict(), "hyperparameters": {"hidden": 12}},
               app_dir / "net.pt")  # fmt: skip
    result = run_cli("generate", "app.py", "-o", "flyte2", "--target", "flyte2", cwd=app_dir)
    assert result.returncode == 0, result.stderr
    assert "torch" in (app_dir / "flyte2" / "requirements.txt").read_text().split()
    actual = run_flyte2(TORCH, cwd=app_dir / "flyte2")
    trained = actual["trained"]
    assert (trained["type"], trained["hidden"], trained["hyperparameters"]) == (
        "DigitsNet",
        24,
        {"hidden": 24, "seed": 3},
    )
    assert set(actual["by_hand"]) == {"train", "test"} and actual["by_hand"]["train"] > 0.2
    assert trained["metrics"] == actual["by_hand"]  # exact floats: the flyte1 test's oracle
    assert len(actual["expected"]) == 50 and len(set(actual["expected"])) > 1
    assert actual["scheduled"] == actual["expected"]


KERAS = """
import json
from datetime import datetime
import flyte
from digits_keras import tasks, triggers

fire = datetime(2026, 11, 29)
def inputs(trigger):
    return {key: fire if value is flyte.TriggerTime else value for key, value in trigger.inputs.items()}
model, _, metrics = flyte.with_runcontext(mode="local", disable_run_cache=True).run(
    tasks.digits_keras_train, **inputs(triggers.weekly)).outputs()
predictions = flyte.with_runcontext(mode="local").run(
    tasks.digits_keras_predict, model_object=model, time=fire, labeled=False).outputs()[0]
file_predictions = flyte.with_runcontext(mode="local").run(
    tasks.digits_keras_predict_with_model_file, **inputs(triggers.nightly)).outputs()[0]
result = {"metrics": metrics, "predictions": predictions, "file_predictions": file_predictions}
"""


def test_keras_model_trains_and_a_model_file_predicts_under_flyte2(tmp_path, monkeypatch):
    from .test_keras import APP, BY_HAND, SAVE_MODEL_FILE

    monkeypatch.setenv("KERAS_BACKEND", "torch")
    app_dir = tmp_path / "digits_keras"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(APP)
    (app_dir / "model.keras").write_bytes(b"placeholder")  # the model file must exist to generate
    assert run_cli("generate", "app.py", "-o", "flyte", "--target", "flyte2", cwd=app_dir).returncode == 0
    run_flyte2(SAVE_MODEL_FILE + "print('{}')", cwd=app_dir)  # the app's init saves the real one (from flyte/)
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir)  # vendor it; the target is kept
    assert result.returncode == 0, result.stderr
    assert "tasks.py" in {path.name for path in (app_dir / "flyte" / "digits_keras").iterdir()}
    # the flyte1 test's oracle (the same steps by hand), in the same interpreter after the runs
    actual, expected = run_flyte2(KERAS + BY_HAND.replace("print(json.dumps(", "print(json.dumps([result, "
                                  ).rstrip().removesuffix("))") + "]))", cwd=app_dir / "flyte")  # fmt: skip
    assert set(expected["metrics"]) == {"train", "test"}
    assert actual == expected  # exact metrics, predictions of the trained model and of the file
