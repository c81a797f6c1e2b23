"""A corpus of small apps of our own in the layouts real UnionML apps use (tests/apps/<case>/):

- wine_project: unionml's project-template layout: app.py beside a pinned requirements.txt and a
  helper package (winery/) with relative imports inside; a serving-only feature loader that reads
  `dataset._features`; a `__main__` block binding names the components rebind;
- sketch_torch: unionml's PyTorch template shape: a helper package (sketches/), a model typed
  `nn.Module`, a custom splitter and parser, components that rebind their parameters and loop variables;
- notebook_tutorial: training, printing and plotting at the top level, between the components;
- two_models: two models of one dataset;
- custom_init: a custom `@model.init`;
- list_of_dicts: records (a list of dicts) with a custom splitter and parser, no pandas.

Each generates without errors, packages with `pyflyte package` (once per app), every scheduled
launch plan passes flyteadmin's rules, and one training plan runs locally in a fresh interpreter with
exactly unionml 0.2.1's metrics (the oracle imports the app and calls `model.train(...)`), except for
PyTorch, which unionml 0.2.1 cannot train with torch >= 2.6 (flyte-facts.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from unionml_codegen.generate import generate

from ..helpers import REPO, read_tree, run_python
from ..support.flyte_package import describe_launch_plan, flyteadmin_problems, load_entities, package

APPS = REPO / "tests" / "apps"

#: case -> (model variable, training schedule, its hyperparameters, its reader arguments)
TRAINING = {
    "wine_project": ("model", "nightly_wine_training", {"C": 2.0, "max_iter": 2000}, {"limit": 150}),
    "sketch_torch": ("model", "weekly_sketch_training", {"classes": 4}, {"count": 160}),
    "notebook_tutorial": ("model", "hourly_iris_training", {"max_depth": 3, "random_state": 0}, {"rows": 120}),
    "two_models": ("forest", "daily_forest", {"n_estimators": 20, "random_state": 1}, {"columns": 8}),
    # unionml 0.2.1 drops reader defaults: the oracle passes the default the generated plan keeps
    "custom_init": ("model", "daily_scaled", {"C": 0.5, "max_iter": 3000}, {"rows": 600}),
    "list_of_dicts": ("model", "records_training", {}, {"samples": 60}),
}
TRAINER_KWARGS = {"sketch_torch": {"epochs": 3, "batch_size": 16}}
ROWS = [
    {"alcohol": 13.2, "malic_acid": 1.8, "ash": 2.1, "magnesium": 100.0, "flavanoids": 2.9, "color_intensity": 5.0,
     "proline": 1050.0, "hue": 1.0},
    {"alcohol": 12.3, "malic_acid": 3.4, "ash": 2.4, "magnesium": 88.0, "flavanoids": 0.7, "color_intensity": 8.0,
     "proline": 600.0, "hue": 0.6},
]  # fmt: skip

ORACLE = """
import importlib.util, json
spec = importlib.util.spec_from_file_location("app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
model = app.{model}
assert type(model).__module__ == "unionml.model"
_, metrics = model.train(hyperparameters={hyperparameters}, trainer_kwargs={trainer_kwargs}, **{reader_kwargs})
result = {{"metrics": metrics}}
if {rows!r}:
    result["predictions"] = model.predict(features={rows!r})
print(json.dumps(result))
"""

GENERATED = """
import json
import pandas as pd
from {package}.launch_plans import {plan}
from {package} import workflows
outputs = {plan}()
result = {{"metrics": outputs.metrics, "hyperparameters": outputs.hyperparameters,
          "model": type(outputs.model_object).__name__}}
if {rows!r}:
    result["predictions"] = workflows.{predict_from_features}(
        model_object=outputs.model_object, features=pd.DataFrame({rows!r})
    )
print(json.dumps(result))
"""


class Generated:
    def __init__(self, case: str, root: Path):
        self.case = case
        self.app_dir = root / case
        shutil.copytree(APPS / case, self.app_dir, ignore=shutil.ignore_patterns("__pycache__"))
        self.out = root / f"{case}_flyte"
        self.result = generate(self.app_dir / "app.py", self.out)
        self.files = read_tree(self.out)
        self.package = case
        self.entities = load_entities(package(self.out, case, output=root / f"{case}.tgz"))

    def text(self, path: str) -> str:
        return self.files[path].decode()


_GENERATED: dict[str, Generated] = {}


@pytest.fixture(params=sorted(TRAINING))
def generated(request, tmp_path_factory) -> Generated:
    case = request.param
    if case not in _GENERATED:
        _GENERATED[case] = Generated(case, tmp_path_factory.mktemp("real_apps"))
    return _GENERATED[case]


def _generated(case: str, tmp_path_factory) -> Generated:
    if case not in _GENERATED:
        _GENERATED[case] = Generated(case, tmp_path_factory.mktemp("real_apps"))
    return _GENERATED[case]


def test_each_app_generates_and_its_plans_pass_flyteadmins_rules(generated):
    assert not generated.result.diagnostics.errors
    app = (generated.app_dir / "app.py").read_text()
    scheduled = {n: lp for n, lp in generated.entities.launch_plans.items() if describe_launch_plan(lp).schedule_kind}
    assert len(scheduled) == app.count(".schedule_training(") + app.count(".schedule_prediction(")
    for name, plan in scheduled.items():
        assert flyteadmin_problems(plan, generated.entities.workflows) == [], name
    for path, data in generated.files.items():
        if path.endswith(".py"):
            compile(data, path, "exec")


def test_each_training_plan_runs_locally_with_unionmls_metrics(generated):
    model, plan, hyperparameters, reader_kwargs = TRAINING[generated.case]
    rows = ROWS if generated.case == "wine_project" else None
    run = run_python(
        GENERATED.format(
            package=generated.package,
            plan=plan,
            rows=rows,
            predict_from_features="wine_classifier_predict_from_features",
        ),
        cwd=generated.out,
    )
    actual = json.loads(run.stdout.strip().splitlines()[-1])
    assert actual["hyperparameters"] == hyperparameters
    if generated.case == "sketch_torch":  # unionml 0.2.1 cannot train PyTorch models with torch >= 2.6
        assert actual["model"] == "Sequential"
        assert set(actual["metrics"]) == {"train", "test"} and actual["metrics"]["test"] >= 0.9
        return
    oracle = run_python(
        ORACLE.format(
            model=model, hyperparameters=hyperparameters, reader_kwargs=reader_kwargs, rows=rows,
            trainer_kwargs=TRAINER_KWARGS.get(generated.case, {}),
        ),
        cwd=generated.app_dir,
    )  # fmt: skip
    expected = json.loads(oracle.stdout.strip().splitlines()[-1])
    assert actual["metrics"] == expected["metrics"]  # exact floats
    if rows:
        assert actual["predictions"] == expected["predictions"]


def test_project_template_layout_copies_the_helper_package_and_pins_versions(tmp_path_factory):
    wine = _generated("wine_project", tmp_path_factory)
    for name in ("__init__.py", "data.py", "features.py"):
        assert wine.files[f"winery/{name}"] == (APPS / "wine_project" / "winery" / name).read_bytes()
    requirements = [line for line in wine.text("requirements.txt").splitlines() if not line.startswith("#")]
    assert requirements == ["flytekit>=1.16,<2", "pandas==3.1.1", "pyarrow", "scikit-learn==1.9.1"]
    components = wine.text("wine_project/components.py")
    assert "from winery.data import load_wine_frame" in components
    assert '"alcohol",' in components and "dataset" not in components.replace("Dataset", "")
    for leaked in ("model.remote(", "model.train(hyperparameters", "model.predict(", "__main__", "print("):
        assert leaked not in components


def test_pytorch_template_shape_leaves_the_main_block_out(tmp_path_factory):
    sketch = _generated("sketch_torch", tmp_path_factory)
    assert sketch.files["sketches/training.py"] == (APPS / "sketch_torch" / "sketches" / "training.py").read_bytes()
    components = sketch.text("sketch_torch/components.py")
    for leaked in (
        "StrokesDataset(20",
        "model.train(hyperparameters",
        "model.predict(",
        "__main__",
        "print(",
        "model.save(",
    ):
        assert leaked not in components
    assert "torch==2.13.0" in sketch.text("requirements.txt").splitlines()


def test_notebook_top_level_code_stays_out_of_the_project(tmp_path_factory):
    notebook = _generated("notebook_tutorial", tmp_path_factory)
    assert not notebook.result.diagnostics.items
    components = notebook.text("notebook_tutorial/components.py")
    for leaked in (
        "data = reader()",
        "describe",
        "model.train(hyperparameters",
        "model.predict(",
        "matplotlib",
        "plt.",
        "hits = sum",
        "print(",
    ):
        assert leaked not in components
