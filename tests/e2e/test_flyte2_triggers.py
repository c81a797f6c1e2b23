"""Flyte 2 triggers as `flyte deploy` sends them, and the code bundle it sends (issue 22, defects 1 and 2).

- Every trigger of every example, and of tests/apps/typed_inputs (a `List[str]`, a `Dict[str, int]` and an
  `Optional[float]` the schedules fix), is serialized with the SDK's own trigger serializer
  (`to_task_trigger`, as `flyte deploy` calls it) and each input literal is decoded back with the type the
  task declares: it is the literal the SDK writes for a value of that declared type, and the literal the
  flyte1 launch plan of the same app fixes (flytekit's, read from the flyte1 project's `LaunchPlan`).
  The SDK converts a default by its own Python type: before `trigger_inputs.Typed`, the list was pickled
  and the typed dict failed to convert.
- A prediction trigger's task runs from exactly the files the SDK bundles: the project is deployed with
  `flyte.deploy(..., dry_run=True)` against the Flyte 2 stand-in (the image known, so nothing is built),
  the code bundle its tasks name is extracted into an empty directory by the SDK's own `download_bundle`
  (as a task's container does), and the trigger's task runs there in local mode. Before `include=`, the
  vendored model file was not in the bundle.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ..helpers import EXAMPLES, REPO, run_cli, run_python
from .test_flyte2 import run_flyte2

TEST_APPS = REPO / "tests" / "apps"
CASES = sorted(p.parent.name for p in EXAMPLES.glob("*/flyte2"))

# flytekit's side: every launch plan's fixed inputs, as protobuf JSON, from the flyte1 project.
FLYTE1_PLANS = """
import importlib, json, os, sys
os.environ["KERAS_BACKEND"] = "torch"  # keras_digits' flyte1 project imports keras (the tests' backend)
from flytekit import LaunchPlan
from google.protobuf.json_format import MessageToDict

result = {}
for directory, package in PROJECTS:
    sys.path.insert(0, directory)
    LaunchPlan.CACHE.clear()  # flytekit keeps launch plan names process-wide; two examples share some
    plans = importlib.import_module(package + ".launch_plans")
    result[package] = {
        plan.name: {name: MessageToDict(literal.to_flyte_idl()) for name, literal in plan.fixed_inputs.literals.items()}
        for plan in vars(plans).values() if isinstance(plan, LaunchPlan)
    }
    sys.path.remove(directory)
print(json.dumps(result))
"""

# the flyte SDK's side: every trigger of every task of the deployment plan, serialized as `flyte deploy` does.
FLYTE2_TRIGGERS = """
import asyncio, importlib, json, sys
from flyte._deploy import plan_deploy
from flyte._internal.runtime.convert import convert_upload_default_inputs
from flyte._internal.runtime.trigger_serde import to_task_trigger
from flyte._internal.runtime.types_serde import transform_native_to_typed_interface
from flyte.types import TypeEngine
from flyteidl2.core import literals_pb2
from flyteidl2.task import task_definition_pb2
from google.protobuf.json_format import MessageToDict, ParseDict

def literal_json(literal):
    return MessageToDict(literal)

async def main(package, flyte1):
    tasks = importlib.import_module(package + ".tasks")
    [plan] = plan_deploy(tasks.env)
    found = {"__envs__": sorted(plan.envs)}
    for env in plan.envs.values():
        for task in env.tasks.values():
            interface = transform_native_to_typed_interface(task.native_interface)
            declared = {entry.key: entry.value.type for entry in interface.inputs.variables}
            types = task.native_interface.get_input_types()
            defaults = await convert_upload_default_inputs(task.native_interface)
            for trigger in task.triggers:
                wire = await to_task_trigger(trigger, task.name, interface.inputs, defaults)
                message = task_definition_pb2.TaskTrigger.FromString(wire.SerializeToString())
                inputs = {}
                for named in message.spec.inputs.literals:
                    name, literal = named.name, named.value
                    value = await TypeEngine.to_python_value(literal, types[name])
                    as_declared = await TypeEngine.to_literal(value, types[name], declared[name])
                    row = {"value": repr(value), "declared": str(types[name]),
                           "as_declared": literal_json(as_declared) == literal_json(literal),
                           "literal": literal_json(literal)}
                    plan_literal = flyte1.get(message.name, {}).get(name)
                    if plan_literal is not None:  # flytekit's literal, read by the flyte SDK as the declared type
                        parsed = ParseDict(plan_literal, literals_pb2.Literal())
                        row["flyte1_value"] = await TypeEngine.to_python_value(parsed, types[name]) == value
                        row["flyte1_literal"] = literal_json(parsed)
                    inputs[name] = row
                found[message.name] = {"task": task.name, "env": env.name, "inputs": inputs,
                                       "defaults": sorted(d.name for d in defaults)}
    return found

result = {}
for directory, package in PROJECTS:
    sys.path.insert(0, directory)
    result[package] = asyncio.run(main(package, FLYTE1[package]))
print(json.dumps(result))
"""


def _package(project: Path) -> str:
    return json.loads((project / ".unionml-codegen.json").read_text())["options"]["package"]


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """(flyte1 project, flyte2 project) of every example and of the typed-inputs app, by flyte2 package."""
    found = {}
    for case in CASES:
        found[_package(EXAMPLES / case / "flyte2")] = (EXAMPLES / case / "flyte", EXAMPLES / case / "flyte2")
    app_dir = tmp_path_factory.mktemp("apps") / "typed_inputs"
    app_dir.mkdir()
    shutil.copy(TEST_APPS / "typed_inputs" / "app.py", app_dir / "app.py")
    for out, target in (("flyte", "flyte1"), ("flyte2", "flyte2")):
        result = run_cli("generate", "app.py", "-o", out, "--target", target, cwd=app_dir)
        assert result.returncode == 0, result.stderr
    found["typed_inputs"] = (app_dir / "flyte", app_dir / "flyte2")
    return found


@pytest.fixture(scope="module")
def serialized(projects) -> dict:
    flyte1_projects = [(str(flyte1), _package(flyte1)) for flyte1, _ in projects.values()]
    flyte1 = json.loads(
        run_python(f"PROJECTS = {flyte1_projects!r}\n" + FLYTE1_PLANS, cwd=REPO).stdout.splitlines()[-1]
    )
    flyte1 = {package: flyte1[_package(projects[package][0])] for package in projects}
    flyte2_projects = [(str(flyte2), package) for package, (_, flyte2) in projects.items()]
    code = f"PROJECTS = {flyte2_projects!r}\nFLYTE1 = {flyte1!r}\n" + FLYTE2_TRIGGERS
    return run_flyte2(code, cwd=REPO)


@pytest.mark.parametrize("package", [_package(EXAMPLES / case / "flyte2") for case in CASES] + ["typed_inputs"])
def test_every_trigger_input_is_the_declared_types_literal_and_the_flyte1_plans(package, projects, serialized):
    triggers = dict(serialized[package])
    environment = package.replace("_", "-")
    assert triggers.pop("__envs__") == sorted([environment, f"{environment}-work"])  # the drivers bring the work
    manifest = json.loads((projects[package][0] / ".unionml-codegen.json").read_text())
    assert sorted(triggers) == sorted(s["name"] for s in manifest["schedules"])  # every schedule is a trigger
    for name, trigger in triggers.items():
        assert trigger["env"] == environment  # the triggers run the drivers
        plan = next(s for s in manifest["schedules"] if s["name"] == name)
        fixed = set(plan["fixed_inputs"]) - {"kickoff_time"}  # flyte1's fixed-rate plans pass the time so
        assert fixed and fixed <= set(trigger["inputs"])
        for input_name, row in trigger["inputs"].items():
            assert row["as_declared"], (name, input_name, row)  # the literal of a value of the declared type
            if input_name in fixed:  # the launch plan's literal, exactly, and the same value read back
                assert row["literal"] == row["flyte1_literal"], (name, input_name, row)
                assert row["flyte1_value"] is True  # flyte1's literal decodes to the same value (maps: any order)
            else:  # a default of the task itself, which the SDK carries
                assert input_name in trigger["defaults"]


def test_typed_collections_reach_the_task_as_declared(serialized):
    """The test app's List[str], Dict[str, int] and Optional[float] defaults: without `Typed` the SDK pickled
    the list (a blob where the task declares a collection) and failed on the typed dict."""
    triggers = serialized["typed_inputs"]
    daily = triggers["daily_typed_training"]["inputs"]
    assert daily["columns"]["declared"] == "typing.List[str]"
    assert daily["columns"]["literal"] == {"collection": {"literals": [
        {"scalar": {"primitive": {"stringValue": c}}} for c in ("pixel_0_2", "pixel_0_3", "pixel_1_2", "pixel_2_5")
    ]}}  # fmt: skip
    assert daily["limits"]["literal"] == {
        "map": {
            "literals": {
                "rows": {"scalar": {"primitive": {"integer": "1200"}}},
                "cap": {"scalar": {"primitive": {"integer": "3"}}},
            }
        }
    }
    assert daily["scale"]["literal"]["scalar"]["union"]["value"] == {"scalar": {"primitive": {"floatValue": 0.5}}}
    empty = triggers["hourly_empty_collections"]["inputs"]
    assert (empty["columns"]["literal"], empty["limits"]["literal"]) == ({"collection": {}}, {"map": {}})
    assert empty["scale"]["value"] == "None"  # not fixed by the schedule: the task's default
    predictions = triggers["daily_typed_predictions"]["inputs"]
    assert predictions["limits"]["value"] == "{'rows': 1000}"


# A local run of the test app's triggers with `trigger_inputs.run_inputs`, the README's way.

LOCAL = """
import json
from datetime import datetime, timezone
import flyte
from typed_inputs import tasks, triggers
from typed_inputs.trigger_inputs import run_inputs

fire = datetime(2026, 11, 29, tzinfo=timezone.utc)
inputs = run_inputs(triggers.daily_typed_training, fire)
model_object, hyperparameters, metrics = flyte.with_runcontext(mode="local", disable_run_cache=True).run(
    tasks.model_train, **inputs).outputs()
print(json.dumps({"inputs": {k: repr(v) for k, v in inputs.items()}, "metrics": metrics,
                  "features": int(model_object.n_features_in_), "hyperparameters": hyperparameters}))
"""

UNIONML = """
import importlib.util, json
from datetime import datetime, timezone
import unionml.remote
from unionml.model import ModelArtifact
unionml.remote.get_model_artifact = lambda *args, **kwargs: ModelArtifact(None)  # the app's model_version="latest"
spec = importlib.util.spec_from_file_location("typed_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
assert type(app.model).__module__ == "unionml.model"
model_object, metrics = app.model.train(
    hyperparameters={"C": 0.5, "max_iter": 2000}, time=datetime(2026, 11, 29, tzinfo=timezone.utc),
    columns=["pixel_0_2", "pixel_0_3", "pixel_1_2", "pixel_2_5"], limits={"rows": 1200, "cap": 3}, scale=0.5,
    labeled=True,
)
print(json.dumps({"metrics": metrics, "features": int(model_object.n_features_in_)}))
"""


def test_typed_trigger_runs_locally_with_its_defaults(projects):
    _, flyte2 = projects["typed_inputs"]
    local = run_flyte2(LOCAL, cwd=flyte2)
    assert local["inputs"]["columns"] == "['pixel_0_2', 'pixel_0_3', 'pixel_1_2', 'pixel_2_5']"
    assert local["inputs"]["limits"] == "{'rows': 1200, 'cap': 3}"
    assert local["features"] == 4 and local["hyperparameters"] == {"C": 0.5, "max_iter": 2000}
    unionml = json.loads(run_python(UNIONML, cwd=flyte2.parent).stdout.splitlines()[-1])
    assert unionml["features"] == 4 and set(unionml["metrics"]) == {"train", "test"}
    assert local["metrics"] == unionml["metrics"]  # exact floats: unionml 0.2.1 with the same inputs


# The code bundle: what `flyte deploy` ships is all a task's container has.

BUNDLE = """
import asyncio, json, sys
from pathlib import Path
import flyte
from flyte._code_bundle.bundle import download_bundle
from flyte.cli._deploy import EnvPerFileGroup
from flyte.models import CodeBundle

sys.path.insert(0, SUPPORT)
from flyte2_standin import Flyte2Standin

with Flyte2Standin(Path(BLOBS)) as standin:
    env = EnvPerFileGroup(Path(PACKAGE) / "tasks.py", deploy_args=None).objs["env"]  # as `flyte deploy` loads it
    image = env.image.uri.rsplit("/", 1)[-1]
    standin.images[image] = "registry.example/" + image  # built before: nothing is built
    flyte.init(endpoint=standin.endpoint, insecure=True, root_dir=Path.cwd(), project="flytesnacks",
               domain="development", image_builder="remote")
    deployments = flyte.deploy(env, dry_run=True, version="v1")
bundles = set()
for deployment in deployments:
    for deployed in deployment.envs.values():
        for entity in deployed.deployed_entities:
            args = list(entity.deployed_task.task_template.container.args)
            bundles.add(args[args.index("--tgz") + 1])
[bundle] = bundles  # one bundle for every task of both environments
archive = asyncio.run(download_bundle(CodeBundle(tgz=bundle, destination=DEST, computed_version="v1")))
archive.unlink()
print(json.dumps(sorted(str(p.relative_to(DEST)) for p in Path(DEST).rglob("*")
                        if p.is_file() and not p.name.startswith("."))))
"""

PREDICT = """
import json
from datetime import datetime, timezone
import flyte
from {package} import tasks, triggers

fire = datetime(2026, 11, 29, tzinfo=timezone.utc)  # the trigger's plain defaults, its time bound to the fire
inputs = {{key: fire if value is flyte.TriggerTime else value for key, value in triggers.{trigger}.inputs.items()}}
run = flyte.with_runcontext(mode="local", disable_run_cache=True).run(tasks.{task}, **inputs)
print(json.dumps(run.outputs()[0]))
"""


@pytest.mark.parametrize(
    "case, trigger, task",
    [("seed_guide", "daily_predictions", "model_predict_with_model_file"),
     ("digits_batch", "daily_predictions", "digits_classifier_predict_with_model_file")],
)  # fmt: skip
def test_prediction_trigger_runs_from_the_bundled_files_alone(case, trigger, task, tmp_path):
    project = tmp_path / case / "flyte2"
    shutil.copytree(EXAMPLES / case / "flyte2", project)
    package = _package(project)
    dest = tmp_path / "container"
    dest.mkdir()
    support = str(REPO / "tests" / "support")
    code = f"SUPPORT = {support!r}\nPACKAGE = {package!r}\nDEST = {str(dest)!r}\nBLOBS = {str(tmp_path / 'blobs')!r}\n"
    files = run_flyte2(code + BUNDLE, cwd=project)
    vendored = sorted(p.relative_to(project).as_posix() for p in (project / package / "models").iterdir())
    assert vendored and set(vendored) <= set(files)  # the model files the triggers load are in the bundle
    assert f"{package}/tasks.py" in files and "README.md" not in files  # modules, not the whole directory
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()
                  and not p.name.startswith(".")) == files  # fmt: skip
    expected = run_flyte2(PREDICT.format(package=package, trigger=trigger, task=task), cwd=project)
    bundled = run_flyte2(PREDICT.format(package=package, trigger=trigger, task=task), cwd=dest)
    assert len(expected) >= 50 and len(set(expected)) > 1  # the rows the reader leaves to predict
    assert bundled == expected
