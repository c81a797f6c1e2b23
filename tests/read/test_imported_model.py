"""A notebook-style script that imports the model and schedules it (issue 19, item 8).

tests/apps/sketchbook/notebook.py does what unionml-demo's notebook does: `from sketchbook import
model` (the package's `__init__.py` re-exports it from `sketchbook/main.py`), `from sketchbook.main
import dataset`, constants of its own, then `model.schedule_training(...)`. unionml registers those
schedules on the imported model; the generator reads `sketchbook/main.py` as the app, with the
script's schedules added to its own, and writes the project it writes for main.py with those
schedules in it.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from ..helpers import REPO, read_tree, run_cli, run_python
from ..support.flyte_package import describe_launch_plan, flyteadmin_problems, load_entities, package

SKETCHBOOK = REPO / "tests" / "apps" / "sketchbook"

#: the script's schedules as main.py would write them, its constants put in
SCHEDULES_IN_MAIN = """

from datetime import timedelta

model.schedule_training(
    name="weekly_sketch_training",
    expression="0 4 * * 1",
    hyperparameters={"n_estimators": 25, "random_state": 5},
    count=240,
)
model.schedule_training(
    name="hourly_sketch_training",
    fixed_rate=timedelta(hours=1),
    hyperparameters={"n_estimators": 5, "random_state": 1},
)
"""

ORACLE = """
import json, runpy, sys
sys.argv = ["notebook.py"]
runpy.run_path("notebook.py")  # the script registers its schedules on the imported model, as unionml does
from sketchbook.main import model
assert sorted(s.name for s in model.training_schedules) == [
    "hourly_sketch_training", "nightly_sketch_training", "weekly_sketch_training"
], model.training_schedules
_, metrics = model.train(hyperparameters={"n_estimators": 25, "random_state": 5}, count=240)
print(json.dumps(metrics))
"""

GENERATED = """
import json, sys
from notebook.launch_plans import weekly_sketch_training
outputs = weekly_sketch_training()
assert outputs.hyperparameters == {"n_estimators": 25, "random_state": 5}, outputs.hyperparameters
print(json.dumps({"metrics": outputs.metrics, "unionml": sorted(m for m in sys.modules if m.split(".")[0] == "unionml")}))
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "sketchbook"
    shutil.copytree(SKETCHBOOK, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text('[project]\nname = "sketchbook"\nversion = "0"\n')
    return root


@pytest.fixture(scope="module")
def notebook(tmp_path_factory) -> Path:
    root = _project(tmp_path_factory.mktemp("notebook"))
    result = run_cli("generate", "notebook.py", "-o", "flyte", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
    return root


def test_the_project_is_the_defining_modules_with_the_scripts_schedules_added(notebook, tmp_path):
    reference = _project(tmp_path)
    main = reference / "sketchbook" / "main.py"
    main.write_text(main.read_text() + SCHEDULES_IN_MAIN)
    result = run_cli("generate", "sketchbook/main.py", "-o", "flyte", "--package", "notebook", cwd=reference)
    assert result.returncode == 0, result.stderr
    expected = read_tree(reference / "flyte")
    generated = read_tree(notebook / "flyte")
    assert sorted(generated) == sorted(expected)
    manifest = json.loads(generated.pop(".unionml-codegen.json"))
    assert manifest["app"] == "../notebook.py"
    expected.pop(".unionml-codegen.json")
    for path, data in expected.items():
        # the only difference: the app's path, named in the generated files' headers
        assert generated[path] == data.replace(b"../sketchbook/main.py", b"../notebook.py"), path
    plans = generated["notebook/launch_plans.py"].decode()
    assert '"n_estimators": 25' in plans and '"n_estimators": 5' in plans  # the script's own constants
    assert "nightly_sketch_training" in plans  # main.py's own schedule, merged
    assert "notebook.py" not in {p.rsplit("/", 1)[-1] for p in generated}  # the script is never copied
    assert "sketchbook/main.py" not in generated


def test_the_project_packages_passes_flyteadmins_rules_and_trains_as_unionml_does(notebook, tmp_path):
    out = notebook / "flyte"
    entities = load_entities(package(out, "notebook", output=tmp_path / "notebook.tgz"))
    assert {"hourly_sketch_training", "nightly_sketch_training", "weekly_sketch_training"} <= set(entities.launch_plans)
    for name in ("hourly_sketch_training", "weekly_sketch_training"):
        plan = entities.launch_plans[name]
        assert describe_launch_plan(plan).schedule_kind
        assert flyteadmin_problems(plan, entities.workflows) == []
    generated = json.loads(run_python(GENERATED, cwd=out).stdout.strip().splitlines()[-1])
    assert generated["unionml"] == []
    expected = json.loads(run_python(ORACLE, cwd=notebook).stdout.strip().splitlines()[-1])
    assert generated["metrics"] == expected  # exact floats


@pytest.mark.parametrize("edited", ["notebook.py", "sketchbook/main.py"])
def test_check_notices_an_edit_to_the_script_or_to_the_defining_module(tmp_path, edited):
    root = _project(tmp_path)
    assert run_cli("generate", "notebook.py", "-o", "flyte", cwd=root).returncode == 0
    assert run_cli("generate", "notebook.py", "-o", "flyte", "--check", cwd=root).returncode == 0
    path = root / edited
    path.write_text(path.read_text().replace('"random_state": 5', '"random_state": 6').replace(
        "random_state=7", "random_state=8"))  # fmt: skip
    result = run_cli("generate", "notebook.py", "-o", "flyte", "--check", cwd=root)
    assert result.returncode == 1, (result.stdout, result.stderr)


def _script(root: Path, text: str) -> Path:
    path = root / "script.py"
    path.write_text(textwrap.dedent(text))
    return path


def _refused(root: Path) -> list[str]:
    result = run_cli("generate", "script.py", "-o", "flyte", cwd=root)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert not (root / "flyte").exists()
    return [line for line in result.stderr.splitlines() if ": error: " in line]


def test_a_module_that_is_not_the_projects_or_defines_no_model_is_an_error_at_the_import(tmp_path):
    root = _project(tmp_path)
    _script(root, """\
        import os
        from sketchbook.trainer import fit_forest as model

        model.schedule_training(name="x_training", expression="0 5 * * *")
    """)  # fmt: skip
    (error,) = _refused(root)
    assert error.startswith("script.py:2:1: error: the script schedules 'model' from ")
    assert "defines no unionml Dataset or Model named 'fit_forest'" in error and error.endswith("[UMG516]")
    _script(root, """\
        from sketchpad.main import model

        model.schedule_training(name="x_training", expression="0 5 * * *")
    """)  # fmt: skip
    (error,) = _refused(root)
    assert error.startswith("script.py:1:1: error:")
    assert "'sketchpad.main' is not a module of the project" in error and error.endswith("[UMG516]")


def test_a_model_reached_through_a_module_is_refused_at_the_call_with_the_import_to_write(tmp_path):
    root = _project(tmp_path)
    _script(root, """\
        import sketchbook.main as m

        m.model.schedule_training(name="x_training", expression="0 5 * * *")
    """)  # fmt: skip
    result = run_cli("generate", "script.py", "-o", "flyte", cwd=root)
    assert result.returncode == 2
    assert "script.py:3:1: error: `m.model.schedule_training(...)` schedules a model reached through" in result.stderr
    assert "hint: import the model itself (`from sketchbook.main import model`)" in result.stderr
    assert "[UMG517]" in result.stderr and not (root / "flyte").exists()


def test_a_script_that_registers_a_component_on_the_imported_model_is_refused(tmp_path):
    root = _project(tmp_path)
    _script(root, """\
        from sketchbook.main import model

        @model.predictor
        def predictor(estimator, features):
            return []

        model.schedule_training(name="x_training", expression="0 5 * * *")
    """)  # fmt: skip
    (error,) = _refused(root)
    assert error.startswith("script.py:3:1: error: the script registers the model predictor of 'model'")
    assert error.endswith("[UMG517]")


def test_a_script_schedule_named_as_the_defining_modules_is_the_usual_clash(tmp_path):
    root = _project(tmp_path)
    _script(root, """\
        from sketchbook import model

        model.schedule_training(name="nightly_sketch_training", expression="0 5 * * *")
    """)  # fmt: skip
    (error,) = _refused(root)
    assert error.startswith("script.py:3:30: error: schedule name 'nightly_sketch_training' is already used")
    assert error.endswith("[UMG212]")
