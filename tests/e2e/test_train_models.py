"""`unionml generate --train-models` (issue 21, item 3): the seed guide's in-memory models, trained by the
generator from the app's own `model.train(...)` calls, with no hand-made model file.

The oracle is unionml 0.2.1 itself: it imports the app, which trains its model in memory at import
(`model.train(...)`), and predicts with it (`model.predict(...)`); the generated project's prediction
schedules, run locally with `unionml run`, must give the same predictions, and the vendored model files
must hold the same estimator. Each side runs in its own interpreter. The later runs that do not train
(--check, a plain generate) keep the models only while what trained them is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pytest

from ..helpers import EXAMPLES, read_tree, run_cli, run_python

TRAINED = ("daily_predictions", "daily_predictions_with_model_object", "daily_predictions_with_model_file")
KICKOFF = "2026-11-29T00:00:00Z"

UNIONML_ORACLE = """
import importlib.util, json
from datetime import datetime, timezone
import unionml.remote
from unionml.model import ModelArtifact
# the app's model_version schedule asks a cluster for its model at import; answer without one
unionml.remote.get_model_artifact = lambda *args, **kwargs: ModelArtifact(None)
spec = importlib.util.spec_from_file_location("seed_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)  # trains the model in memory, as the guide does
estimator = app.model.artifact.model_object
print(json.dumps({"predictions": app.model.predict(time=datetime(2026, 11, 29, tzinfo=timezone.utc), labeled=False),
                  "coef": estimator.coef_.tolist(), "intercept": estimator.intercept_.tolist()}))
"""

VENDORED = """
import json, joblib
saved = joblib.load({path!r})
print(json.dumps({{"coef": saved["model_obj"].coef_.tolist(), "intercept": saved["model_obj"].intercept_.tolist(),
                  "hyperparameters": saved["hyperparameters"]}}))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The seed guide's app alone in a project of its own, generated with --train-models."""
    root = tmp_path_factory.mktemp("train") / "seed"
    root.mkdir()
    shutil.copy(EXAMPLES / "seed_guide" / "app.py", root / "app.py")
    (root / "pyproject.toml").write_text('[project]\nname = "seed"\nversion = "0"\n')
    result = run_cli("generate", "app.py", "-o", "flyte", "--train-models", "--no-cache", cwd=root)
    assert result.returncode == 0, result.stderr
    return root, result


@pytest.fixture(scope="module")
def oracle(trained):
    return json.loads(run_python(UNIONML_ORACLE, cwd=trained[0]).stdout.strip().splitlines()[-1])


def _manifest(out) -> dict:
    return json.loads((out / ".unionml-codegen.json").read_text())


def test_the_project_has_no_hand_made_model_file_and_records_what_trained_each_model(trained):
    root, result = trained
    assert sorted(p.name for p in root.iterdir()) == ["app.py", "flyte", "pyproject.toml"]
    assert "training the model of daily_predictions" in result.stderr and "done in" in result.stderr
    manifest = _manifest(root / "flyte")
    records = manifest["trained_models"]
    assert sorted(records) == sorted(TRAINED)
    assert manifest["options"]["models"] == {}  # no --model binding: nothing made by hand
    for name, record in records.items():
        data = (root / "flyte" / record["vendored"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["sha256"] and len(data) == record["size"]
        assert record["workflow"] == "seed.workflows.model_train" and record["saver"] == "joblib.dump"
        assert record["inputs"]["hyperparameters"] == {"C": 0.1, "max_iter": 5000}
        assert record["inputs"]["labeled"] is True
        assert record["inputs_python"] == {"time": "datetime(2026, 11, 1, 0, 0)"}
        schedule = next(s for s in manifest["schedules"] if s["name"] == name)
        assert schedule["model_source"]["vendored"] == record["vendored"]
    assert records["daily_predictions"]["trained_by"]["via"] == "artifact"
    assert records["daily_predictions_with_model_object"]["trained_by"]["via"] == "model_object"
    assert records["daily_predictions_with_model_file"]["trained_by"]["via"] == "model_file"
    assert records["daily_predictions_with_model_file"]["saver_kwargs"] == {
        "compress": 3
    }  # model.save(..., compress=3)
    # the same training saved the same way is one file; compress=3 writes other bytes
    assert records["daily_predictions"]["sha256"] == records["daily_predictions_with_model_object"]["sha256"]
    assert records["daily_predictions"]["sha256"] != records["daily_predictions_with_model_file"]["sha256"]


@pytest.mark.parametrize("name", TRAINED)
def test_each_trained_schedule_runs_locally_with_unionmls_own_predictions(trained, oracle, name):
    root, _ = trained
    result = run_cli("run", "flyte", name, "--at", KICKOFF, "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["ok"] and len(oracle["predictions"]) == 50
    assert outcome["outputs"]["predictions"] == oracle["predictions"]


def test_the_vendored_models_are_the_estimator_unionml_trains_in_memory(trained, oracle):
    root, _ = trained
    for record in _manifest(root / "flyte")["trained_models"].values():
        saved = json.loads(
            run_python(VENDORED.format(path=record["vendored"]), cwd=root / "flyte").stdout.splitlines()[-1]
        )
        assert saved["coef"] == oracle["coef"] and saved["intercept"] == oracle["intercept"]  # exact floats
        assert saved["hyperparameters"] == {"C": 0.1, "max_iter": 5000}  # what the training run returned


def test_check_and_a_plain_generate_keep_the_trained_models_and_never_train(trained):
    root, _ = trained
    before = read_tree(root / "flyte")
    for args in (["--check"], ["--check", "--train-models"], []):  # --check never trains, even when asked to
        result = run_cli("generate", "app.py", "-o", "flyte", "--no-cache", *args, cwd=root)
        assert result.returncode == 0, result.stderr
        assert "training the model" not in result.stderr and "up to date" in result.stderr
    assert read_tree(root / "flyte") == before


def _copy(trained, tmp_path):
    """A copy of the trained project under a directory of the same name (the package is named after it)."""
    root = tmp_path / "seed"
    shutil.copytree(trained[0], root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _check(root):
    return run_cli("generate", "app.py", "-o", "flyte", "--check", "--no-cache", cwd=root)


@pytest.mark.parametrize("lane", ["cold", "warm"])
def test_check_refuses_a_model_file_changed_after_training(trained, tmp_path, lane):
    root = _copy(trained, tmp_path)
    record = _manifest(root / "flyte")["trained_models"]["daily_predictions_with_model_file"]
    model = root / "flyte" / record["vendored"]
    cache = ["--cache-dir", str(tmp_path / "cache")]
    if lane == "warm":  # this machine's cache vouched for the project before the change
        assert run_cli("generate", "app.py", "-o", "flyte", "--check", *cache, cwd=root).returncode == 0
    model.write_bytes(model.read_bytes() + b"\0")
    before = read_tree(root / "flyte")
    result = (
        _check(root) if lane == "cold" else run_cli("generate", "app.py", "-o", "flyte", "--check", *cache, cwd=root)
    )
    assert result.returncode == 2, result.stderr
    assert "[UMG412]" in result.stderr and record["vendored"] in result.stderr and "--train-models" in result.stderr
    plain = run_cli("generate", "app.py", "-o", "flyte", "--no-cache", cwd=root)  # nor is it laundered
    assert plain.returncode == 2 and "[UMG412]" in plain.stderr
    assert read_tree(root / "flyte") == before


def test_check_refuses_a_swapped_model_whose_record_was_edited_to_match(trained, tmp_path):
    """A pull request swaps a model and edits the manifest's record of it: the bytes no longer match the file's
    content-addressed name (UMG412); renamed too, the generated code that checks the file's sha256 differs from
    the render (out of date). Only a pull request that rewrites every generated file to match passes, as one
    that swaps a --model file does (docs/security.md, "Trained models")."""
    root = _copy(trained, tmp_path)
    out = root / "flyte"
    manifest = _manifest(out)
    record = manifest["trained_models"]["daily_predictions_with_model_file"]
    other = manifest["trained_models"]["daily_predictions"]
    (out / record["vendored"]).write_bytes((out / other["vendored"]).read_bytes())
    record.update(sha256=other["sha256"], size=other["size"])
    manifest["files"][record["vendored"]] = other["sha256"]
    (out / ".unionml-codegen.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    result = _check(root)
    assert result.returncode == 2 and "[UMG412]" in result.stderr and "is not named after its sha256" in result.stderr
    record["vendored"] = other["vendored"]  # the swapped bytes where their name says
    (out / ".unionml-codegen.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    result = _check(root)
    assert result.returncode == 1, result.stderr
    assert "is out of date" in result.stderr and "seed/model_files.py" in result.stderr


def test_check_refuses_a_record_whose_training_inputs_were_edited(trained, tmp_path):
    root = _copy(trained, tmp_path)
    manifest = _manifest(root / "flyte")
    manifest["trained_models"]["daily_predictions"]["inputs"]["hyperparameters"]["C"] = 5.0
    (root / "flyte" / ".unionml-codegen.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    result = _check(root)
    assert result.returncode == 2, result.stderr
    assert re.search(r"app\.py:\d+:1: error: the project's model for prediction schedule 'daily_predictions' was "
                     r"trained from other inputs .*\[UMG411\]", result.stderr), result.stderr  # fmt: skip


def test_an_app_edit_of_the_training_arguments_or_the_trainer_asks_to_train_again(trained, tmp_path):
    root = _copy(trained, tmp_path)
    app = root / "app.py"
    text = app.read_text()
    app.write_text(
        text.replace("time=datetime(2026, 11, 1), labeled=True)", "time=datetime(2026, 11, 2), labeled=True)", 1)
    )
    result = run_cli("generate", "app.py", "-o", "flyte", "--no-cache", cwd=root)
    assert result.returncode == 2 and "[UMG411]" in result.stderr and "inputs_python differ" in result.stderr
    assert "--train-models" in result.stderr and "nothing was written" in result.stderr
    app.write_text(text.replace("return estimator.fit(features, target.squeeze())",
                                "return estimator.fit(features, target.squeeze().astype(int))"))  # fmt: skip
    result = _check(root)
    assert result.returncode == 2 and "[UMG411]" in result.stderr and "trained by other code" in result.stderr


def test_model_bindings_win_over_training_and_remembered_ones_give_way_to_it(trained, tmp_path):
    root = _copy(trained, tmp_path)
    shutil.copy(EXAMPLES / "seed_guide" / "model.joblib", root / "model.joblib")
    bound = hashlib.sha256((root / "model.joblib").read_bytes()).hexdigest()
    result = run_cli("generate", "app.py", "-o", "flyte", "--train-models", "--model", "daily_predictions=model.joblib",
                     "--no-cache", cwd=root)  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = _manifest(root / "flyte")
    assert manifest["options"]["models"] == {"daily_predictions": "../model.joblib"}
    assert sorted(manifest["trained_models"]) == [
        "daily_predictions_with_model_file",
        "daily_predictions_with_model_object",
    ]
    sources = {s["name"]: s["model_source"] for s in manifest["schedules"] if s["kind"] == "prediction"}
    assert sources["daily_predictions"]["sha256"] == bound
    # a plain run keeps both: the binding the manifest remembers, and the trained models
    assert run_cli("generate", "--no-cache", cwd=root).returncode == 0
    assert _check(root).returncode == 0
    # --train-models again, without typing the binding: the remembered one gives way, with a warning
    result = run_cli("generate", "app.py", "-o", "flyte", "--train-models", "--no-cache", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "[UMG415]" in result.stderr
    manifest = _manifest(root / "flyte")
    assert manifest["options"]["models"] == {} and sorted(manifest["trained_models"]) == sorted(TRAINED)


def test_the_flyte2_target_vendors_the_same_trained_models(trained, tmp_path):
    root = _copy(trained, tmp_path)
    result = run_cli(
        "generate", "app.py", "-o", "flyte2", "--target", "flyte2", "--train-models", "--no-cache", cwd=root
    )
    assert result.returncode == 0, result.stderr
    flyte1, flyte2 = (_manifest(root / out)["trained_models"] for out in ("flyte", "flyte2"))
    assert {k: v["sha256"] for k, v in flyte1.items()} == {k: v["sha256"] for k, v in flyte2.items()}
    assert run_cli("generate", "app.py", "-o", "flyte2", "--check", "--no-cache", cwd=root).returncode == 0


FAILING_APP = """
from datetime import datetime
from typing import List

import pandas as pd
from sklearn.linear_model import LogisticRegression

from unionml import Dataset, Model

dataset = Dataset(targets=["target"])
model = Model(dataset=dataset, init=LogisticRegression)


@dataset.reader
def reader(time: datetime) -> pd.DataFrame:
    raise RuntimeError("the warehouse is down")


@model.trainer
def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    return [int(label) for label in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(estimator.score(features, target.squeeze()))


model.train(hyperparameters={"C": 1.0}, time=datetime(2026, 11, 1))
model.schedule_prediction(name="daily", expression="0 0 * * *", reader_time_arg="time")
"""


def test_a_failing_training_run_is_an_error_at_the_train_call_and_nothing_is_written(tmp_path):
    root = tmp_path / "failing"
    root.mkdir()
    (root / "app.py").write_text(FAILING_APP)
    result = run_cli("generate", "app.py", "-o", "flyte", "--train-models", "--no-cache", cwd=root)
    assert result.returncode == 2, result.stderr
    line = FAILING_APP.splitlines().index('model.train(hyperparameters={"C": 1.0}, time=datetime(2026, 11, 1))') + 1
    assert re.search(rf"app\.py:{line}:1: error: training the model of daily failed: RuntimeError: the warehouse is "
                     r"down .*\[UMG413\]", result.stderr), result.stderr  # fmt: skip
    assert not (root / "flyte").exists()


def test_a_schedule_added_beside_the_trained_models_keeps_them(trained, tmp_path):
    """Only what trains counts: another prediction schedule (and the tasks it adds to workflows.py) is no reason
    to train again."""
    root = _copy(trained, tmp_path)
    before = _manifest(root / "flyte")["trained_models"]
    with (root / "app.py").open("a") as app:
        app.write('model.schedule_prediction(name="hourly", expression="0 * * * *", reader_time_arg="time", '
                  'model_version="latest", labeled=False)\n')  # fmt: skip
    result = run_cli("generate", "app.py", "-o", "flyte", "--no-cache", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "training the model" not in result.stderr
    assert _manifest(root / "flyte")["trained_models"] == before


def test_a_sql_dataset_trains_from_the_users_directory_for_both_targets(tmp_path):
    """The SQL task's database is a path relative to where the user runs the generator (as `unionml run`), and
    the flyte2 target, which runs queries itself, trains with the flytekit project that keeps the SQL task."""
    import sqlite3

    root = tmp_path / "shop"
    root.mkdir()
    app = (EXAMPLES / "sql_reader" / "app.py").read_text()
    app += '\nmodel.train(hyperparameters={"C": 1.0}, limit=50)\n'
    app += 'model.schedule_prediction("sql_predictions", expression="0 4 * * *", limit=10)\n'
    (root / "app.py").write_text(app)
    with sqlite3.connect(root / "shop.db") as db:
        db.execute("create table mock_table (x1 real, x2 real, x3 real, y int)")
        db.executemany("insert into mock_table values (?, ?, ?, ?)", [(i / 100, (i % 7) / 7, (i % 3) / 3, i % 2)
                                                                        for i in range(100)])  # fmt: skip
    for out, target in (("flyte", "flyte1"), ("flyte2", "flyte2")):
        result = run_cli("generate", "app.py", "-o", out, "--target", target, "--train-models", "--no-cache", cwd=root)
        assert result.returncode == 0, result.stderr
        assert run_cli("generate", "app.py", "-o", out, "--check", "--no-cache", cwd=root).returncode == 0
    flyte1, flyte2 = (_manifest(root / out)["trained_models"]["sql_predictions"] for out in ("flyte", "flyte2"))
    assert flyte1["sha256"] == flyte2["sha256"]
    assert flyte1["training_code_sha256"] == flyte2["training_code_sha256"]
    assert flyte1["inputs"]["limit"] == 50
    run = run_cli("run", "flyte", "sql_predictions", "--at", "2026-11-29T04:00:00Z", "--json", cwd=root)
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["outputs"]["predictions"]) == 10
