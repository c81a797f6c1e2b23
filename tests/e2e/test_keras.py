"""Keras models (Keras 3 on the torch backend; tensorflow is not installed, so flytekit's own Keras
transformer is unavailable): the trained model moves between tasks as a `.keras` file, and a
prediction schedule loads a `.keras` model file with unionml's default loader (`load_model`).
unionml 0.2.1's own Keras loader imports tensorflow, so it cannot run here: the plans are compared
with training and predicting by hand."""

from __future__ import annotations

import json
import os

import pytest

from unionml_codegen.generate import generate

from ..helpers import run_python
from ..support.flyte_package import package

APP = """\
from datetime import datetime
from typing import List

import keras
import pandas as pd
from sklearn.datasets import load_digits
from unionml import Dataset, Model


def init_model(hidden: int = 16, seed: int = 0) -> keras.Sequential:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(hidden, activation="relu"), keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


dataset = Dataset(name="digits", targets=["target"])
model = Model(name="digits_keras", init=init_model, dataset=dataset)


@dataset.reader
def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
    frame = load_digits(as_frame=True).frame.iloc[time.day * 10 : time.day * 10 + 80]
    return frame if labeled else frame.drop(columns=["target"])


@model.trainer
def trainer(model: keras.Sequential, features: pd.DataFrame, target: pd.DataFrame) -> keras.Sequential:
    keras.utils.set_random_seed(1)
    model.fit(features.values.astype("float32"), target.squeeze().values, epochs=5, batch_size=16, verbose=0,
              shuffle=False)
    return model


@model.predictor
def predictor(model: keras.Sequential, features: pd.DataFrame) -> List[int]:
    return [int(x) for x in model.predict(features.values.astype("float32"), verbose=0).argmax(axis=1)]


@model.evaluator
def evaluator(model: keras.Sequential, features: pd.DataFrame, target: pd.DataFrame) -> float:
    predicted = predictor(model, features)
    return float(sum(int(p == t) for p, t in zip(predicted, target.squeeze().tolist())) / len(predicted))


model.schedule_training("weekly", expression="0 0 * * MON", reader_time_arg="time", hyperparameters={"hidden": 24, "seed": 3})
model.schedule_prediction("nightly", expression="@daily", reader_time_arg="time", model_file="model.keras", labeled=False)
"""

SAVE_MODEL_FILE = """
import sys
sys.path.insert(0, "flyte")
from digits_keras.components import init_model
init_model(hidden=12, seed=9).save("model.keras")
"""

BY_HAND = """
import json
from datetime import datetime
import keras
from digits_keras import components, dataset_defaults
data = components.reader(datetime(2026, 11, 29), labeled=True)
splits = dict(zip(("train", "test"), dataset_defaults.split(data, test_size=0.2, shuffle=True, random_state=12345)))
parsed = {key: dataset_defaults.parse(split, features=None, targets=["target"]) for key, split in splits.items()}
model = components.trainer(components.init_model(hidden=24, seed=3), *parsed["train"])
features = components.reader(datetime(2026, 11, 29), labeled=False)
loaded = keras.models.load_model("../model.keras")
print(json.dumps({"metrics": {key: components.evaluator(model, *columns) for key, columns in parsed.items()},
                  "predictions": components.predictor(model, features),
                  "file_predictions": components.predictor(loaded, features)}))
"""

BY_PLANS = """
import json
from datetime import datetime
from digits_keras import workflows
from digits_keras.launch_plans import nightly, weekly
outputs = weekly(time=datetime(2026, 11, 29))
predictions = workflows.digits_keras_predict(model_object=outputs.model_object, time=datetime(2026, 11, 29),
                                             labeled=False)
print(json.dumps({"metrics": outputs.metrics, "predictions": predictions,
                  "file_predictions": nightly(time=datetime(2026, 11, 29)),
                  "type": type(outputs.model_object).__name__, "units": outputs.model_object.layers[0].units}))
"""


def test_keras_training_plan_and_model_file_prediction_plan_run_without_tensorflow(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    app_dir = tmp_path / "digits_keras"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(APP)
    out = app_dir / "flyte"
    # the model file the prediction schedule names must exist to generate: write it with the app's init
    (app_dir / "model.keras").write_bytes(b"placeholder")
    generate(app_dir / "app.py", out)
    run_python(SAVE_MODEL_FILE, cwd=app_dir)
    generate(app_dir / "app.py", out)  # vendor the real model file

    requirements = (out / "requirements.txt").read_text().split()
    assert "keras" in requirements and "tensorflow" not in requirements
    package(out, "digits_keras")
    expected = json.loads(run_python(BY_HAND, cwd=out).stdout.splitlines()[-1])
    actual = json.loads(run_python(BY_PLANS, cwd=out).stdout.splitlines()[-1])
    assert expected["metrics"]["train"] > 0.2 and len(set(expected["file_predictions"])) > 1
    assert actual["metrics"] == expected["metrics"]
    assert actual["predictions"] == expected["predictions"]
    assert actual["file_predictions"] == expected["file_predictions"]
    assert (actual["type"], actual["units"]) == ("Sequential", 24)
